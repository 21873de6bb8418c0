"""The BiT ResNet-v2 architecture as a functional Keras model (arXiv 1912.11370)."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from bit_keras.layers import (
    BIT_GN_EPSILON,
    BIT_GN_GROUPS,
    BIT_WS_EPSILON,
    GroupNormalization,
    PreActBottleneck,
    StdConv2D,
)
from bit_keras.models import layer_names

# Width of the root convolution at width factor 1.
ROOT_WIDTH = 64
# Bottleneck widths of blocks 1 to 4 at width factor 1; each unit outputs four times as many.
BASE_WIDTHS = (64, 128, 256, 512)
# The root: a 7x7/2 convolution padded 3 on every side, then a 3x3/2 max-pool padded 1 on
# every side with zeros (not -inf) and pooled VALID (big_transfer: bit_tf2/models.py).
ROOT_KERNEL = 7
ROOT_PADDING = 3
POOL_PADDING = 1

_POOLINGS = (None, "avg", "max")


def BiTResNetV2(
    block_units: Sequence[int] = (3, 4, 6, 3),
    width_factor: int = 1,
    *,
    include_top: bool = True,
    input_tensor=None,
    input_shape: Sequence[int | None] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation=None,
    groups: int = BIT_GN_GROUPS,
    norm_epsilon: float = BIT_GN_EPSILON,
    ws_epsilon: float = BIT_WS_EPSILON,
    name: str = "bit_resnet_v2",
) -> keras.Model:
    """Builds a BiT ResNet-v2 of any depth and width, with new weights.

    Big Transfer (BiT): https://arxiv.org/abs/1912.11370. A pre-activation ResNet-v2 with
    weight-standardized convolutions and GroupNorm. The published models are R50x1
    (`block_units=(3, 4, 6, 3)`), R101x1 (`(3, 4, 23, 3)`) and R152x1 (`(3, 8, 36, 3)`)
    at width factors 1 to 4; `bit_keras.create_model` builds those by name.

    The model is a plain functional `keras.Model`: root (`root_conv`, `root_pool`), units
    `block{b}_unit{uu}` (`PreActBottleneck`), `final_norm` and `final_relu`, then, with the
    top, global average pooling, the `head` (zero-initialised, as BiT does) and
    `predictions` (the classifier activation, always float32).

    The architecture only: weights of any file are loaded by `bit_keras.create_model(...,
    weights=PATH)`, `bit_keras.model_from_checkpoint(PATH)` or, into a model built here,
    `bit_keras.checkpoint.load_weights(model, PATH)`.

    Args:
        block_units: Units in each block. The first block has stride 1, the others 2.
        width_factor: Width multiplier of every layer.
        include_top: Whether to add the pooled classification head.
        input_tensor: Optional Keras tensor to use as the model's input.
        input_shape: Shape without the batch axis. Defaults to `(None, None, 3)`: any size.
        pooling: Without the top: `None` (the 4D feature map), `"avg"` or `"max"` (2D
            pre-logits). Must be `None` with the top, which always averages.
        classes: Number of classes of the head.
        classifier_activation: Activation of the head; `None` returns logits.
        groups: GroupNorm groups (BiT: 32).
        norm_epsilon: GroupNorm epsilon (BiT: 1e-5).
        ws_epsilon: Weight-standardization epsilon (BiT: 1e-10).
        name: Name of the model.

    Returns:
        A `keras.Model`.

    Example:
    >>> model = BiTResNetV2((1, 1, 1, 1), 1, classes=10, input_shape=(64, 64, 3))
    >>> model.output_shape
    (None, 10)
    """
    block_units = tuple(block_units)
    if not block_units or any(not isinstance(n, int) or n < 1 for n in block_units):
        raise ValueError(
            f"`block_units` must be a non-empty sequence of positive ints. "
            f"Received: block_units={block_units}"
        )
    if not isinstance(width_factor, int) or width_factor < 1:
        raise ValueError(
            f"`width_factor` must be a positive int. Received: width_factor={width_factor}"
        )
    if len(block_units) > len(BASE_WIDTHS):
        raise ValueError(
            f"BiT ResNets have at most {len(BASE_WIDTHS)} blocks. "
            f"Received: block_units={block_units}"
        )
    if pooling not in _POOLINGS:
        raise ValueError(f"`pooling` must be one of {_POOLINGS}. Received: pooling={pooling!r}")
    if include_top and pooling is not None:
        raise ValueError(
            "`pooling` is only used with `include_top=False`: the BiT head always averages. "
            f"Received: include_top={include_top}, pooling={pooling!r}"
        )
    if include_top and (not isinstance(classes, int) or classes < 1):
        raise ValueError(f"`classes` must be a positive int. Received: classes={classes}")
    img_input = _model_input(input_tensor, input_shape)

    x = keras.layers.ZeroPadding2D(ROOT_PADDING, name=layer_names.ROOT_PAD)(img_input)
    x = StdConv2D(
        ROOT_WIDTH * width_factor,
        ROOT_KERNEL,
        strides=2,
        padding="valid",
        epsilon=ws_epsilon,
        name=layer_names.ROOT_CONV,
    )(x)
    x = keras.layers.ZeroPadding2D(POOL_PADDING, name=layer_names.ROOT_POOL_PAD)(x)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="valid", name=layer_names.ROOT_POOL)(x)

    for block, units in enumerate(block_units, start=1):
        for unit in range(1, units + 1):
            x = PreActBottleneck(
                filters=BASE_WIDTHS[block - 1] * width_factor,
                strides=2 if block > 1 and unit == 1 else 1,
                groups=groups,
                norm_epsilon=norm_epsilon,
                ws_epsilon=ws_epsilon,
                name=layer_names.unit_name(block, unit),
            )(x)

    x = GroupNormalization(groups=groups, epsilon=norm_epsilon, name=layer_names.FINAL_NORM)(x)
    x = keras.layers.Activation("relu", name=layer_names.FINAL_RELU)(x)

    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = keras.layers.Dense(
            classes, kernel_initializer="zeros", bias_initializer="zeros", name=layer_names.HEAD
        )(x)
        # float32 outputs also under mixed precision (Keras' mixed-precision guide).
        x = keras.layers.Activation(
            classifier_activation or "linear", dtype="float32", name=layer_names.PREDICTIONS
        )(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)

    inputs = keras.utils.get_source_inputs(input_tensor) if input_tensor is not None else img_input
    model = keras.Model(inputs, x, name=name)

    return model


def _model_input(input_tensor, input_shape):
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            raise ValueError(
                "`input_tensor` must be a Keras tensor (from `keras.Input` or a layer). "
                f"Received: input_tensor={input_tensor!r} of type {type(input_tensor)}"
            )
        input_shape = tuple(input_tensor.shape[1:])
    elif input_shape is None:
        input_shape = (None, None, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or any(d is not None and d < 1 for d in input_shape):
        raise ValueError(
            "`input_shape` must be (height, width, channels) with positive or None sizes. "
            f"Received: input_shape={input_shape}"
        )
    if input_shape[-1] is None:
        raise ValueError(
            f"The input must have a known number of channels. Received: input_shape={input_shape}"
        )
    return input_tensor if input_tensor is not None else keras.Input(shape=input_shape)
