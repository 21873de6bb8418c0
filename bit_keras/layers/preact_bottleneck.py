"""The pre-activation bottleneck unit of BiT's ResNet-v2 (He et al., arXiv 1603.05027)."""

from __future__ import annotations

import keras
from keras import ops

from bit_keras.layers.group_norm import GroupNormalization
from bit_keras.layers.std_conv import BIT_WS_EPSILON, StdConv2D

# BiT's GroupNorm: 32 groups, epsilon 1e-5 (big_transfer: bit_tf2/normalization.py). Keras'
# GroupNormalization default epsilon (1e-3) is not BiT's.
BIT_GN_GROUPS = 32
BIT_GN_EPSILON = 1e-5


@keras.saving.register_keras_serializable(package="bit_keras")
class PreActBottleneck(keras.layers.Layer):
    """Pre-activation ResNet-v2 bottleneck unit with GroupNorm and weight standardization.

    The unit of Big Transfer (BiT), https://arxiv.org/abs/1912.11370:

        x -> GN -> ReLU = p
        shortcut = proj(p) (strided 1x1 StdConv2D) if projecting, else x
        p -> 1x1 conv -> GN -> ReLU -> pad 1 -> 3x3 conv (strided) -> GN -> ReLU -> 1x1 conv
        output = that + shortcut

    The 3x3 convolution pads one pixel on every side and then convolves VALID, as BiT does;
    TensorFlow's "SAME" would pad (0, 1) on even sizes with stride 2 and give other numbers.

    Sub-layers carry the names of the official checkpoint's parts: `a_norm`, `a_conv`,
    `a_proj`, `b_norm`, `b_conv`, `c_norm`, `c_conv` (`a_norm` is the pre-activation norm).

    Args:
        filters: Bottleneck width; the unit outputs `4 * filters` channels.
        strides: Stride of the 3x3 convolution and of the projection. 1 or 2 in BiT.
        use_projection: Whether the shortcut is a 1x1 projection. `None` (default) projects
            when the stride is not 1 or the input does not have `4 * filters` channels, which
            is the first unit of each BiT block.
        groups: GroupNorm groups. Defaults to BiT's 32.
        norm_epsilon: GroupNorm epsilon. Defaults to BiT's 1e-5.
        ws_epsilon: Weight-standardization epsilon. Defaults to BiT's 1e-10.
        weight_standardization: Whether the convolutions are `StdConv2D` (BiT, default) or
            plain `keras.layers.Conv2D` with the same names, for kernels that are already
            standardized (`bit_keras.models.fold_weight_standardization` builds those).
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, `trainable`).

    Input shape:
        4D tensor `(batch, rows, cols, channels)`, channels divisible by `groups`.

    Output shape:
        4D tensor `(batch, ceil(rows / strides), ceil(cols / strides), 4 * filters)`.

    Example:
    >>> import numpy as np
    >>> unit = PreActBottleneck(filters=64, strides=2)
    >>> unit(np.zeros((2, 32, 32, 64), "float32")).shape
    (2, 16, 16, 256)
    """

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        use_projection: bool | None = None,
        groups: int = BIT_GN_GROUPS,
        norm_epsilon: float = BIT_GN_EPSILON,
        ws_epsilon: float = BIT_WS_EPSILON,
        weight_standardization: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"`filters` must be a positive int. Received: filters={filters}")
        if not isinstance(strides, int) or strides < 1:
            raise ValueError(f"`strides` must be a positive int. Received: strides={strides}")
        if filters % groups:
            raise ValueError(
                f"`filters` must be divisible by `groups`. Received: filters={filters}, "
                f"groups={groups}"
            )
        self.filters = filters
        self.strides = strides
        self.use_projection = use_projection
        self.groups = groups
        self.norm_epsilon = norm_epsilon
        self.ws_epsilon = ws_epsilon
        self.weight_standardization = bool(weight_standardization)

        self.a_norm = self._group_norm("a_norm")
        self.a_conv = self._std_conv(filters, 1, 1, "a_conv")
        self.b_norm = self._group_norm("b_norm")
        self.b_pad = keras.layers.ZeroPadding2D(1, dtype=self.dtype_policy, name="b_pad")
        self.b_conv = self._std_conv(filters, 3, strides, "b_conv")
        self.c_norm = self._group_norm("c_norm")
        self.c_conv = self._std_conv(4 * filters, 1, 1, "c_conv")
        self.a_proj = None
        if use_projection:
            self.a_proj = self._std_conv(4 * filters, 1, strides, "a_proj")

    def _group_norm(self, name):
        return GroupNormalization(
            groups=self.groups, epsilon=self.norm_epsilon, dtype=self.dtype_policy, name=name
        )

    def _std_conv(self, width, kernel_size, stride, name):
        conv_args = dict(strides=stride, padding="valid", dtype=self.dtype_policy, name=name)
        if not self.weight_standardization:
            return keras.layers.Conv2D(width, kernel_size, use_bias=False, **conv_args)
        return StdConv2D(width, kernel_size, epsilon=self.ws_epsilon, **conv_args)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                f"The channel dimension of the inputs must be known. Received: "
                f"input_shape={input_shape}"
            )
        projects = self.use_projection
        if projects is None:
            projects = self.strides != 1 or channels != 4 * self.filters
        elif not projects and (self.strides != 1 or channels != 4 * self.filters):
            raise ValueError(
                f"use_projection=False needs strides=1 and {4 * self.filters} input channels. "
                f"Received: strides={self.strides}, input_shape={input_shape}"
            )
        if projects and self.a_proj is None:
            self.a_proj = self._std_conv(4 * self.filters, 1, self.strides, "a_proj")

        self.a_norm.build(input_shape)
        if self.a_proj is not None:
            self.a_proj.build(input_shape)
        self.a_conv.build(input_shape)
        mid_shape = (*input_shape[:-1], self.filters)
        self.b_norm.build(mid_shape)
        padded_shape = self.b_pad.compute_output_shape(mid_shape)
        self.b_conv.build(padded_shape)
        out_mid_shape = self.b_conv.compute_output_shape(padded_shape)
        self.c_norm.build(out_mid_shape)
        self.c_conv.build(out_mid_shape)

    def call(self, inputs):
        preact = ops.relu(self.a_norm(inputs))
        shortcut = inputs if self.a_proj is None else self.a_proj(preact)
        x = self.a_conv(preact)
        x = self.b_conv(self.b_pad(ops.relu(self.b_norm(x))))
        x = self.c_conv(ops.relu(self.c_norm(x)))
        return x + shortcut

    def compute_output_shape(self, input_shape):
        rows, cols = (
            None if size is None else (size - 1) // self.strides + 1 for size in input_shape[1:3]
        )
        return (input_shape[0], rows, cols, 4 * self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "strides": self.strides,
                "use_projection": self.use_projection,
                "groups": self.groups,
                "norm_epsilon": self.norm_epsilon,
                "ws_epsilon": self.ws_epsilon,
                "weight_standardization": self.weight_standardization,
            }
        )
        return config
