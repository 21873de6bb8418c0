"""bit_keras: Big Transfer (BiT) ResNet-v2 models for Keras 3, with the official checkpoints.

Big Transfer (BiT): General Visual Representation Learning, Kolesnikov et al., ECCV 2020,
https://arxiv.org/abs/1912.11370.

Example:
    import bit_keras
    model = bit_keras.create_model("BiT-M-R50x1")  # downloads the official checkpoint once
    logits = model(bit_keras.preprocess_input(images))
    print(bit_keras.decode_predictions(logits.numpy(), top=5))
"""

from bit_keras import applications, checkpoint, layers, models
from bit_keras.checkpoint import CheckpointError, load_official_weights
from bit_keras.layers import PreActBottleneck, StdConv2D
from bit_keras.models import (
    BiTResNetV2,
    create_model,
    get_model_info,
    list_models,
    model_from_checkpoint,
)
from bit_keras.predictions import decode_predictions
from bit_keras.preprocessing import preprocess_input

__version__ = "0.1.0"

__all__ = [
    "BiTResNetV2",
    "CheckpointError",
    "PreActBottleneck",
    "StdConv2D",
    "applications",
    "checkpoint",
    "create_model",
    "decode_predictions",
    "get_model_info",
    "layers",
    "list_models",
    "load_official_weights",
    "model_from_checkpoint",
    "models",
    "preprocess_input",
]
