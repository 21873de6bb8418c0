"""Keras layers of BiT: the weight-standardized convolution, GroupNorm and the bottleneck unit.

`cached_standardization(model)` standardizes a model's kernels once for inference calls.

The bottom layer of the package: it imports Keras only, no other part of bit_keras.
"""

from bit_keras.layers.group_norm import GroupNormalization
from bit_keras.layers.kernel_cache import (
    cached_standardization,
    is_standardization_cached,
    std_conv_layers,
)
from bit_keras.layers.preact_bottleneck import BIT_GN_EPSILON, BIT_GN_GROUPS, PreActBottleneck
from bit_keras.layers.std_conv import BIT_WS_EPSILON, StdConv2D

__all__ = [
    "BIT_GN_EPSILON",
    "BIT_GN_GROUPS",
    "BIT_WS_EPSILON",
    "GroupNormalization",
    "PreActBottleneck",
    "StdConv2D",
    "cached_standardization",
    "is_standardization_cached",
    "std_conv_layers",
]
