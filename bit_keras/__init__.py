"""bit_keras: Big Transfer (BiT) ResNet-v2 models for Keras 3, with the official checkpoints.

Big Transfer (BiT): General Visual Representation Learning, Kolesnikov et al., ECCV 2020,
https://arxiv.org/abs/1912.11370.

The packages depend on one another in one direction only (import-linter holds it; see the
README's "Layout"): `layers` -> `models` -> `checkpoint` -> `pretrained` -> `data` ->
`training` | `export`, with `preprocessing`, `predictions`, `image_io` and `atomic_write`
below them all. This module is the public namespace over them, loaded lazily (PEP 562):
`import bit_keras` costs nothing until a name is used, so the programs parse their flags
before TensorFlow loads. `data`, `training` and `export` (tf.data, tf.distribute,
converters) are imported where they are used: `import bit_keras.training`.

Keras finds bit_keras layers in `.keras` files once they are registered: `import
bit_keras.layers` does it (as does using any model, layer or checkpoint function here).

Example:
    import bit_keras
    model = bit_keras.create_model("BiT-M-R50x1")  # downloads the official checkpoint once
    logits = model(bit_keras.preprocess_input(images))
    print(bit_keras.decode_predictions(logits.numpy(), top=5))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras._runtime.lazy_names import lazy_names

__version__ = "0.1.0"

# Public name -> the module that defines it (or is it).
__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "applications": "bit_keras.applications",
        "checkpoint": "bit_keras.checkpoint",
        "layers": "bit_keras.layers",
        "models": "bit_keras.models",
        "pretrained": "bit_keras.pretrained",
        "BiTResNetV2": "bit_keras.models.bit_resnet_v2",
        "CheckpointError": "bit_keras.checkpoint.npz_file",
        "convert_checkpoint": "bit_keras.pretrained.convert",
        "create_model": "bit_keras.pretrained.builder",
        "feature_maps": "bit_keras.models.pyramid",
        "set_trainable": "bit_keras.models.freezing",
        "decode_predictions": "bit_keras.predictions",
        "get_model_info": "bit_keras.pretrained.catalog",
        "list_models": "bit_keras.pretrained.catalog",
        "model_from_checkpoint": "bit_keras.pretrained.from_checkpoint",
        "model_table": "bit_keras.pretrained.catalog",
        "preprocess_input": "bit_keras.preprocessing",
    },
)

__all__ = [
    "BiTResNetV2",
    "CheckpointError",
    "applications",
    "checkpoint",
    "convert_checkpoint",
    "create_model",
    "decode_predictions",
    "feature_maps",
    "get_model_info",
    "layers",
    "list_models",
    "model_from_checkpoint",
    "model_table",
    "models",
    "preprocess_input",
    "pretrained",
    "set_trainable",
]


if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from bit_keras import applications, checkpoint, layers, models, pretrained
    from bit_keras.checkpoint.npz_file import CheckpointError
    from bit_keras.models.bit_resnet_v2 import BiTResNetV2
    from bit_keras.models.freezing import set_trainable
    from bit_keras.models.pyramid import feature_maps
    from bit_keras.predictions import decode_predictions
    from bit_keras.preprocessing import preprocess_input
    from bit_keras.pretrained.builder import create_model
    from bit_keras.pretrained.catalog import get_model_info, list_models, model_table
    from bit_keras.pretrained.convert import convert_checkpoint
    from bit_keras.pretrained.from_checkpoint import model_from_checkpoint
