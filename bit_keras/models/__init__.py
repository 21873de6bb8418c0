"""BiT ResNet-v2 models: the builder, the registry of published models, checkpoint builds."""

from bit_keras.models.bit_resnet_v2 import BiTResNetV2
from bit_keras.models.from_checkpoint import model_from_checkpoint
from bit_keras.models.registry import (
    ARCHITECTURES,
    PRETRAINED,
    Architecture,
    PretrainedModel,
    create_model,
    get_model_info,
    list_models,
)

__all__ = [
    "ARCHITECTURES",
    "PRETRAINED",
    "Architecture",
    "BiTResNetV2",
    "PretrainedModel",
    "create_model",
    "get_model_info",
    "list_models",
    "model_from_checkpoint",
]
