"""Folding weight standardization into plain convolutions, for inference only: exports, and
a distillation teacher (whose kernels never change).

A `StdConv2D` standardizes its kernel on every call. With the weights fixed, as in a TFLite
file, that arithmetic can run once at export: the folded model holds `keras.layers.Conv2D`
layers whose kernels are `StdConv2D.standardized_kernel()`, and computes the same function.
"""

from __future__ import annotations

import keras
import numpy as np

from bit_keras.layers import PreActBottleneck, StdConv2D, std_conv_layers


def fold_weight_standardization(model: keras.Model) -> keras.Model:
    """Returns a copy of a BiT model with every `StdConv2D` replaced by a standardized `Conv2D`.

    The copy has the same layers, names and outputs (to float rounding: the standardization
    runs once in float32 instead of on every call). It is for inference and export only:
    fine-tuning a folded model would train standardized kernels without re-standardizing them.

    Args:
        model: A functional Keras model built of bit_keras layers, such as
            `bit_keras.create_model(...)` or a fine-tuned `model.keras`.

    Returns:
        A new functional `keras.Model`; `model` is left unchanged.

    Raises:
        ValueError: `model` is not a functional model or holds no `StdConv2D`.

    Example:
    >>> import bit_keras
    >>> model = bit_keras.create_model("R14x1", weights=None, input_shape=(32, 32, 3))
    >>> folded = fold_weight_standardization(model)
    >>> any(isinstance(layer, bit_keras.layers.StdConv2D) for layer in folded.layers)
    False
    """
    if not isinstance(model, keras.Model) or not hasattr(model, "inputs") or not model.inputs:
        raise ValueError(
            f"`model` must be a functional Keras model. Received: model={type(model).__name__}"
        )
    standardized = {
        conv.kernel.path: np.asarray(keras.ops.convert_to_numpy(conv.standardized_kernel()))
        for conv in std_conv_layers(model)
    }
    if not standardized:
        raise ValueError(
            f"Model {model.name!r} has no StdConv2D layer: there is no weight standardization "
            "to fold (is it folded already?)."
        )
    # The copy's input keeps the original's name, so every layer name is the same.
    (input_layer,) = [layer for layer in model.layers if isinstance(layer, keras.layers.InputLayer)]
    inputs = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=t.dtype, name=input_layer.name),
        model.input,
    )
    folded = keras.models.clone_model(model, input_tensors=inputs, clone_function=_plain_layer)
    sources = {variable.path: variable for variable in model.weights}
    for variable in folded.weights:
        value = standardized.get(variable.path)
        if value is None:
            value = keras.ops.convert_to_numpy(sources[variable.path])
        variable.assign(value.astype(variable.dtype))
    return folded


def _plain_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    config = layer.get_config()
    if isinstance(layer, StdConv2D):
        config.pop("epsilon")
        return keras.layers.Conv2D.from_config(config)
    if isinstance(layer, PreActBottleneck):
        return PreActBottleneck.from_config({**config, "weight_standardization": False})
    return layer.__class__.from_config(config)
