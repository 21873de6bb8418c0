"""Group Normalization (Wu & He, arXiv 1803.08494) with its statistics from matrix products.

BiT normalizes every unit with GroupNorm (32 groups, epsilon 1e-5). This layer computes what
`keras.layers.GroupNormalization` computes, with the same weights (`gamma`, `beta`) and
arguments, in fewer passes over the activations; it is faster on the tensor and the whole
model measured below, and so is the one bit_keras uses.
"""

from __future__ import annotations

import keras
from keras import ops

from bit_keras.layers.column_sums import column_sums

# Measured on 2 CPU cores (tensorflow 2.21, keras 3.15), one (16, 56, 56, 256) float32 tensor,
# tf.function, median of 20: keras.layers.GroupNormalization 30.8 ms (tf.nn.moments alone
# 18.5 ms), this layer 14.7 ms (statistics: column_sums' figures); XLA of either: no faster.
# Whole R50x1, batch 16 at 224 px (tools/benchmark.py): 627 ms with Keras' layer, 450 ms
# with this one.


@keras.saving.register_keras_serializable(package="bit_keras")
class GroupNormalization(keras.layers.GroupNormalization):
    """Group Normalization, as `keras.layers.GroupNormalization`, in fewer passes.

    The statistics take two passes, as Keras' layer: the sum of `x` over the spatial
    positions of every channel is a batched matrix product with a vector of ones (BLAS reads
    memory faster than a reduction kernel does), the channels of each group are added to a
    mean, and the variance is the mean of the centred inputs' squares, summed the same way.
    `E[x**2] - E[x]**2` (Flax's formula) would save a pass but loses digits once a group's
    mean is large against its spread. The normalization and the scale are then one multiply
    of the centred inputs by per-(sample, channel) factors, and the shift one add. The
    gradient is GroupNorm's closed form, from two more column sums, rather than the
    derivative of every forward op.

    Everything runs in float32 also under a mixed-precision policy (sums of squares overflow
    float16), and the outputs are cast to the compute dtype, as in Keras' layer.

    Only `axis=-1` (channels last, as BiT) is supported; every other argument is
    `keras.layers.GroupNormalization`'s, and the weights are the same (`gamma`, `beta`), so
    checkpoints and `.keras` files of either layer load into the other.

    Args:
        groups: Number of groups; must divide the channels. BiT: 32.
        epsilon: Added to the variance. BiT: 1e-5 (Keras' default is 1e-3).
        **kwargs: Any other `keras.layers.GroupNormalization` argument (`center`, `scale`,
            initializers, regularizers, constraints) or base layer argument.

    Input shape:
        A tensor of rank 3 or more, channels last, channels divisible by `groups`.

    Output shape:
        Same as the input.

    Example:
    >>> import numpy as np
    >>> norm = GroupNormalization(groups=32, epsilon=1e-5)
    >>> norm(np.zeros((2, 8, 8, 64), "float32")).shape
    (2, 8, 8, 64)
    """

    def __init__(self, groups: int = 32, epsilon: float = 1e-3, **kwargs):
        axis = kwargs.pop("axis", -1)
        if axis != -1:
            raise ValueError(
                f"bit_keras GroupNormalization supports only axis=-1 (channels last). "
                f"Received: axis={axis}"
            )
        super().__init__(groups=groups, axis=-1, epsilon=epsilon, **kwargs)

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f"GroupNormalization needs inputs of rank 3 or more (batch, positions..., "
                f"channels). Received: input_shape={input_shape}"
            )
        super().build(input_shape)

    def call(self, inputs):
        channels = inputs.shape[-1]
        shape = ops.shape(inputs)
        x = ops.reshape(inputs, (shape[0], -1, channels))  # (batch, positions, channels)
        # Unused weights are constants that the normalization ignores (their gradient too).
        gamma = ops.cast(self.gamma, "float32") if self.scale else ops.ones((channels,))
        beta = ops.cast(self.beta, "float32") if self.center else ops.zeros((channels,))
        outputs = self._normalize(ops.cast(x, "float32"), gamma, beta)
        # In float32, as Keras' layer, then cast to the compute dtype.
        return ops.reshape(ops.cast(outputs, self.compute_dtype), shape)

    def _normalize(self, x, gamma, beta):
        """The float32 GroupNorm of `(batch, positions, channels)` `x`, with its own gradient.

        Differentiating the forward ops takes the gradient through both statistics, pass by
        pass; the closed form below reads the activations fewer times. R50x1's training step
        (batch 16 at 128 px, 2 CPU cores, one process, medians of 6): 1133 ms with the
        automatic gradient, 1051 ms with this one; the gradients agree to 3e-6 (relative).
        """
        per_group = x.shape[-1] // self.groups
        count = ops.cast(ops.shape(x)[1] * per_group, "float32")

        @ops.custom_gradient
        def normalize(x, gamma, beta):
            # Two passes, as Keras' layer (tf.nn.moments): the mean, then the variance of the
            # centred inputs. E[x**2] - E[x]**2 would save the subtraction's pass, but loses
            # digits once a group's mean is large against its spread: 8e-5 off at mean/std 10.
            mean = self._group_means(column_sums(x), count)
            centred = x - self._per_channel(mean, per_group)
            variance = self._group_means(column_sums(centred, squared=True), count)
            group_inv_std = ops.rsqrt(variance + self.epsilon)  # (batch, groups)
            inv_std = self._per_channel(group_inv_std, per_group)
            scale = self._per_channel_scale(group_inv_std, gamma) if self.scale else inv_std
            outputs = centred * scale
            if self.center:
                outputs = outputs + beta

            def grad(upstream):
                # With x_hat = centred * inv_std and g = upstream * gamma, in each group:
                # dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)). Both means come from
                # the sums over positions of upstream and of upstream * centred.
                sums = column_sums(upstream)  # (batch, channels)
                centred_sums = column_sums(upstream * centred)
                inv = inv_std[:, 0, :]
                weight = gamma if self.scale else 1.0
                mean_g = self._group_means(sums * weight, count)
                mean_g_x_hat = self._group_means(centred_sums * (weight * inv), count)
                shift = self._per_channel(mean_g, per_group) * inv_std
                slope = self._per_channel(mean_g_x_hat, per_group) * inv_std * inv_std
                dx = upstream * scale - centred * slope - shift
                return dx, ops.sum(centred_sums * inv, axis=0), ops.sum(sums, axis=0)

            return outputs, grad

        return normalize(x, gamma, beta)

    def _group_means(self, channel_sums, count):
        """`(batch, channels)` sums over the positions -> `(batch, groups)` means."""
        per_group = channel_sums.shape[-1] // self.groups
        sums = ops.reshape(channel_sums, (ops.shape(channel_sums)[0], self.groups, per_group))
        return ops.sum(sums, -1) / count

    def _per_channel_scale(self, group_inv_std, gamma):
        """`(batch, groups)` inverse deviations times `(channels,)` gamma -> `(batch, 1, channels)`.

        Multiplied in `(batch, groups, per_group)` and then reshaped, not as two per-channel
        tensors: TFLite's int8 converter reorders `centred * (inv_std * gamma)` where a
        position is alone (a 1x1 map), and then quantizes `inv_std * gamma` with the range it
        calibrated for `centred * inv_std`, which zeroes the output (an R14x1 at 16 px: top-1
        agreement 9% with the float model, 100% with this form).
        """
        per_group = gamma.shape[-1] // self.groups
        grouped = group_inv_std[..., None] * ops.reshape(gamma, (self.groups, per_group))
        return ops.reshape(grouped, (ops.shape(group_inv_std)[0], 1, -1))

    @staticmethod
    def _per_channel(group_values, per_group):
        """`(batch, groups)` -> `(batch, 1, channels)`, each channel its group's value.

        A broadcast, not `ops.repeat`: the same values, and TensorFlow traces it in a tenth
        of the time (R14x1's training step: 78 calls, 1.2 s of its trace with `repeat`)."""
        batch, groups = ops.shape(group_values)[0], group_values.shape[-1]
        repeated = ops.broadcast_to(group_values[..., None], (batch, groups, per_group))
        return ops.reshape(repeated, (batch, 1, -1))
