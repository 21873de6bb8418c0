"""The BiT ResNet-v2 architecture: the functional model builder and the architectures by name.

This package knows the network, not any weights file or published weight set. It imports
only `bit_keras.layers` (and Keras). Above it: `bit_keras.checkpoint` (the official file
format) and `bit_keras.pretrained` (the published weights: `create_model`, the registry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras.lazy_names import lazy_names
from bit_keras.models import layer_names
from bit_keras.models.architectures import ARCHITECTURES, Architecture, architecture

# The builder loads Keras: on first use, so that names are checked before TensorFlow loads.
_lazy_getattr, __dir__ = lazy_names(
    globals(),
    {
        "BiTResNetV2": "bit_keras.models.bit_resnet_v2",
        "fold_weight_standardization": "bit_keras.models.folding",
        "register_weights_format": "bit_keras.models.bit_resnet_v2",
        "set_trainable": "bit_keras.models.freezing",
    },
)

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "BiTResNetV2",
    "architecture",
    "fold_weight_standardization",
    "layer_names",
    "register_weights_format",
    "set_trainable",
]

# Names this package held before the published weights moved to `bit_keras.pretrained`.
_MOVED_TO_PRETRAINED = (
    "PRETRAINED",
    "PretrainedModel",
    "create_model",
    "get_model_info",
    "list_models",
    "model_from_checkpoint",
)


def __getattr__(name: str):
    if name in (
        "BiTResNetV2",
        "fold_weight_standardization",
        "register_weights_format",
        "set_trainable",
    ):
        return _lazy_getattr(name)
    if name in _MOVED_TO_PRETRAINED:
        raise AttributeError(
            f"`bit_keras.models.{name}` moved to `bit_keras.pretrained.{name}` (published "
            f"weights live apart from the architecture); `bit_keras.{name}` still works."
        )
    raise AttributeError(f"module 'bit_keras.models' has no attribute {name!r}")


if TYPE_CHECKING:
    from bit_keras.models.bit_resnet_v2 import BiTResNetV2, register_weights_format
    from bit_keras.models.folding import fold_weight_standardization
    from bit_keras.models.freezing import set_trainable
