import keras
import numpy as np
import pytest

from bit_keras.layers import (
    PreActBottleneck,
    StdConv2D,
    cached_standardization,
    std_conv_layers,
)


def _model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((16, 16, 3))
    x = StdConv2D(16, 3, padding="same", name="root_conv")(inputs)
    x = PreActBottleneck(filters=4, strides=2, groups=4, name="unit")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(5, name="head")(x), name="tiny")


def _images(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(3, 16, 16, 3)).astype("float32")


def _numpy(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x)


def _new_kernel(conv: StdConv2D, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=conv.kernel.shape).astype("float32")


def test_finds_every_std_conv_also_in_units_and_nested_models():
    model = _model()
    outer = keras.Sequential([keras.Input((16, 16, 3)), model], name="outer")
    paths = [conv.kernel.path for conv in std_conv_layers(outer)]
    assert paths == [
        "root_conv/kernel",
        "unit/a_proj/kernel",
        "unit/a_conv/kernel",
        "unit/b_conv/kernel",
        "unit/c_conv/kernel",
    ]


def test_cached_calls_give_the_same_numbers():
    # The kernels are standardized eagerly on entry: eager calls match to the bit; a traced
    # predict standardized inside its graph (other rounding of the same ops) before.
    model, images = _model(), _images()
    eager, predicted = _numpy(model(images)), model.predict(images, verbose=0)
    np.testing.assert_allclose(predicted, eager, atol=1e-6)
    with cached_standardization(model) as held:
        assert held is model
        np.testing.assert_array_equal(_numpy(model(images)), eager)
        np.testing.assert_allclose(model.predict(images, verbose=0), predicted, atol=1e-6)


def test_inference_inside_uses_the_entry_kernels_and_a_write_is_reported():
    model, images = _model(), _images()
    before = _numpy(model(images))
    conv = model.get_layer("unit").b_conv
    written = r"1 kernel\(s\) of 'tiny'.*unit/b_conv/kernel"
    with pytest.raises(RuntimeError, match=written), cached_standardization(model):
        cached = model.predict(images, verbose=0)  # traced inside: holds the cache
        conv.kernel.assign(_new_kernel(conv))
        np.testing.assert_array_equal(model.predict(images, verbose=0), cached)
        np.testing.assert_array_equal(_numpy(model(images)), before)
    # Outside again, predict is retraced and sees the written kernel.
    after = model.predict(images, verbose=0)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, _numpy(model(images)), atol=1e-6)


def test_a_predict_function_traced_before_the_context_is_retraced_inside():
    model, images = _model(), _images()
    model.predict(images, verbose=0)
    conv = model.get_layer("root_conv")
    with pytest.raises(RuntimeError, match="root_conv/kernel"), cached_standardization(model):
        cached = model.predict(images, verbose=0)
        conv.kernel.assign(_new_kernel(conv))
        np.testing.assert_array_equal(model.predict(images, verbose=0), cached)


def test_a_write_that_keeps_the_standardized_kernel_is_no_error():
    # Standardization ignores each output channel's scale and shift (up to the epsilon):
    # the cached kernel is still the one the new weights give.
    model, images = _model(), _images()
    conv = model.get_layer("root_conv")
    with cached_standardization(model):
        cached = model.predict(images, verbose=0)
        conv.kernel.assign(_numpy(conv.kernel) * 2.0)
    np.testing.assert_allclose(model.predict(images, verbose=0), cached, atol=1e-5)


def test_training_calls_inside_still_standardize():
    model, images = _model(), _images()
    conv = model.get_layer("unit").c_conv
    with pytest.raises(RuntimeError, match="unit/c_conv/kernel"), cached_standardization(model):
        before = _numpy(model(images, training=True))
        conv.kernel.assign(_new_kernel(conv))
        after = _numpy(model(images, training=True))
        assert np.abs(after - before).max() > 1e-3


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="GradientTape")
def test_gradients_reach_the_raw_kernels_inside():
    import tensorflow as tf

    model, images = _model(), _images()

    def kernel_gradients():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model(images, training=True) ** 2)
        grads = tape.gradient(loss, [conv.kernel.value for conv in std_conv_layers(model)])
        return [g.numpy() for g in grads]

    outside = kernel_gradients()
    with cached_standardization(model):
        inside = kernel_gradients()
    for grad_outside, grad_inside in zip(outside, inside, strict=True):
        assert np.abs(grad_outside).max() > 0
        np.testing.assert_array_equal(grad_inside, grad_outside)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="reads a TensorFlow graph")
def test_a_graph_traced_inside_does_no_standardization():
    import tensorflow as tf

    model = _model()
    spec = tf.TensorSpec((1, 16, 16, 3), tf.float32)

    def rsqrt_ops():  # one for each GroupNorm, one for each standardized kernel
        forward = tf.function(lambda x: model(x, training=False))
        graph = forward.get_concrete_function(spec).graph
        return sum(op.type == "Rsqrt" for op in graph.get_operations())

    assert rsqrt_ops() == 3 + 5
    with cached_standardization(model):
        assert rsqrt_ops() == 3
    assert rsqrt_ops() == 3 + 5


def test_nested_contexts_keep_the_outer_cache():
    model, images = _model(), _images()
    before = _numpy(model(images))
    conv = model.get_layer("root_conv")
    with pytest.raises(RuntimeError, match="root_conv/kernel"), cached_standardization(model):
        with cached_standardization(model):
            pass
        conv.kernel.assign(_new_kernel(conv))
        np.testing.assert_array_equal(_numpy(model(images)), before)


def test_an_error_inside_propagates_and_drops_the_cache():
    model, images = _model(), _images()
    conv = model.get_layer("root_conv")
    with pytest.raises(KeyError, match="inside"), cached_standardization(model):
        conv.kernel.assign(_new_kernel(conv))
        raise KeyError("inside")
    plain = StdConv2D(16, 3, padding="same")
    plain.build((None, 16, 16, 3))
    plain.kernel.assign(_numpy(conv.kernel))
    np.testing.assert_allclose(_numpy(conv(images)), _numpy(plain(images)), atol=1e-6)


def test_mixed_float16_caches_in_the_compute_dtype(mixed_float16):
    model, images = _model(), _images()
    expected = _numpy(model(images))
    with cached_standardization(model):
        assert all(conv._cached_kernel.dtype == "float16" for conv in std_conv_layers(model))
        np.testing.assert_array_equal(_numpy(model(images)), expected)


def test_bad_models():
    plain = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)], name="plain")
    with pytest.raises(ValueError, match="'plain' holds no StdConv2D"):
        cached_standardization(plain).__enter__()
    with pytest.raises(ValueError, match=r"Build .* Unbuilt StdConv2D layers: lonely"):
        cached_standardization(StdConv2D(4, 3, name="lonely")).__enter__()
