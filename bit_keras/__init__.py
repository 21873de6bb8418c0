"""bit_keras: Big Transfer (BiT) ResNet-v2 models for Keras 3, with the official checkpoints.

Big Transfer (BiT): General Visual Representation Learning, Kolesnikov et al., ECCV 2020,
https://arxiv.org/abs/1912.11370.

The packages depend on one another in one direction only (import-linter holds it; see the
README's "Layout"): `layers` -> `models` -> `checkpoint` -> `pretrained` -> `data` ->
`training` | `export`, with `preprocessing`, `predictions`, `image_io` and `atomic_write`
below them all. This module is the public namespace over them. `data`, `training` and
`export` (tf.data, tf.distribute, converters) are imported where they are used:
`import bit_keras.training`, `from bit_keras import export`.

Example:
    import bit_keras
    model = bit_keras.create_model("BiT-M-R50x1")  # downloads the official checkpoint once
    logits = model(bit_keras.preprocess_input(images))
    print(bit_keras.decode_predictions(logits.numpy(), top=5))
"""

from bit_keras import applications, checkpoint, layers, models, pretrained
from bit_keras.checkpoint import CheckpointError, load_official_weights
from bit_keras.layers import PreActBottleneck, StdConv2D
from bit_keras.models import BiTResNetV2
from bit_keras.predictions import decode_predictions
from bit_keras.preprocessing import preprocess_input
from bit_keras.pretrained import (
    convert_checkpoint,
    create_model,
    get_model_info,
    list_models,
    model_from_checkpoint,
    model_table,
)

__version__ = "0.1.0"

__all__ = [
    "BiTResNetV2",
    "CheckpointError",
    "PreActBottleneck",
    "StdConv2D",
    "applications",
    "checkpoint",
    "convert_checkpoint",
    "create_model",
    "decode_predictions",
    "get_model_info",
    "layers",
    "list_models",
    "load_official_weights",
    "model_from_checkpoint",
    "model_table",
    "models",
    "preprocess_input",
    "pretrained",
]
