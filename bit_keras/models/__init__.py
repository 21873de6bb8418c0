"""The BiT ResNet-v2 architecture: the functional model builder and the architectures by name.

This package knows the network, not any weights file or published weight set. It imports
only `bit_keras.layers` (and Keras). Above it: `bit_keras.checkpoint` (the official file
format) and `bit_keras.pretrained` (the published weights: `create_model`, the registry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras._runtime.lazy_names import lazy_names
from bit_keras.models import layer_names
from bit_keras.models.architectures import ARCHITECTURES, Architecture, architecture

# The builder loads Keras: on first use, so that names are checked before TensorFlow loads.
__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "fold_weight_standardization": "bit_keras.models.folding",
    },
)

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "architecture",
    "fold_weight_standardization",
    "layer_names",
]


if TYPE_CHECKING:
    from bit_keras.models.folding import fold_weight_standardization
