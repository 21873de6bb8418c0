"""Standardizing BiT's kernels once for many inference calls with fixed weights."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

from bit_keras.layers.preact_bottleneck import PreActBottleneck
from bit_keras.layers.std_conv import StdConv2D


def std_conv_layers(layer: keras.layers.Layer) -> Iterator[StdConv2D]:
    """Yields every `StdConv2D` in a layer or model: in its layers, nested models and units."""
    if isinstance(layer, StdConv2D):
        yield layer
    elif isinstance(layer, PreActBottleneck):
        for conv in (layer.a_proj, layer.a_conv, layer.b_conv, layer.c_conv):
            if isinstance(conv, StdConv2D):
                yield conv
    elif isinstance(layer, keras.Model):
        for sublayer in layer.layers:
            yield from std_conv_layers(sublayer)


def is_standardization_cached(model: keras.layers.Layer) -> bool:
    """Whether a `StdConv2D` of `model` holds a kernel of `cached_standardization` now."""
    return any(conv._cached_kernel is not None for conv in std_conv_layers(model))


@contextlib.contextmanager
def cached_standardization(model: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    """Within the context, `model`'s inference calls use kernels standardized once, at entry.

    A `StdConv2D` standardizes its kernel on every call, because anything may have written
    the kernel since the last one. With the weights fixed, that work is the same on every
    call: a quarter of R50x1's batch-1 latency on 2 CPU cores (docs/benchmarks.md). Inside the
    context, calls with `training=False` or `None` (`model.predict`, `model.evaluate`,
    `model(x)`) convolve with the kernels standardized on entry, in the compute dtype: the
    same numbers as without the context. Calls with `training=True` still standardize on every
    call, so gradients reach the raw kernels. Like PyTorch's `parametrize.cached()`, the cache
    is explicit because nothing can tell a layer that its kernel was written.

    `model.predict` and `model.evaluate` are retraced on entry and on exit (Keras'
    `make_predict_function(force=True)`). A `tf.function` of your own traced inside the
    context keeps the entry kernels as constants, also after it (so would a SavedModel saved
    inside it, which is why bit_keras' TF Hub exporter refuses to run inside it): trace those
    outside. The cache holds one copy of every kernel.

    Args:
        model: A model or layer holding `StdConv2D` layers (directly, in `PreActBottleneck`
            units or in nested models), built.

    Yields:
        `model`.

    Raises:
        ValueError: `model` holds no `StdConv2D`, or one that is not built yet.
        RuntimeError: on exit, when a kernel was written inside the context (an optimizer
            step, `set_weights`, `load_weights`): inference calls after the write used the
            old kernels. The error names the kernels.

    Example:
    >>> import numpy as np
    >>> import bit_keras
    >>> model = bit_keras.create_model("R14x1", weights=None, input_shape=(32, 32, 3))
    >>> images = np.zeros((4, 32, 32, 3), "float32")
    >>> with cached_standardization(model):
    ...     logits = model.predict(images, batch_size=1, verbose=0)
    >>> logits.shape
    (4, 1000)
    """
    convs = list(std_conv_layers(model))
    if not convs:
        raise ValueError(
            f"{type(model).__name__} {model.name!r} holds no StdConv2D layer: there is no "
            "weight standardization to cache."
        )
    unbuilt = [conv.name for conv in convs if not conv.built]
    if unbuilt:
        raise ValueError(
            f"Build {model.name!r} before caching its standardized kernels (call it once, or "
            f"create it with an input shape). Unbuilt StdConv2D layers: {', '.join(unbuilt)}"
        )
    # Only the layers this context began to cache: an enclosing context keeps its own.
    held = [conv for conv in convs if conv._hold_standardized_kernel()]
    _retrace(model)
    try:
        yield model
    finally:
        changed = [conv.kernel.path for conv in held if not conv._release_standardized_kernel()]
        _retrace(model)
    if changed:
        raise RuntimeError(
            f"{len(changed)} kernel(s) of {model.name!r} were written inside "
            "cached_standardization(); inference calls after the write used the kernels "
            "standardized on entry. Leave the context before changing weights. Written: "
            + ", ".join(changed)
        )


def _retrace(model: keras.layers.Layer) -> None:
    # Keras keeps the traced predict and test functions across calls; traced outside the
    # context they recompute the standardization, traced inside they hold the cached kernels.
    if isinstance(model, keras.Model):
        model.make_predict_function(force=True)
        model.make_test_function(force=True)
