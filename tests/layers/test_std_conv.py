import keras
import numpy as np
import pytest

from bit_keras.layers import StdConv2D


def _numpy_standardize(kernel: np.ndarray, eps: float) -> np.ndarray:
    k = kernel.astype(np.float64)
    mean = k.mean(axis=(0, 1, 2), keepdims=True)
    var = k.var(axis=(0, 1, 2), keepdims=True)  # biased, as BiT
    return ((k - mean) / np.sqrt(var + eps)).astype(np.float32)


def _built(conv: StdConv2D, channels: int, seed: int = 0) -> np.ndarray:
    conv.build((None, None, None, channels))
    kernel = np.random.default_rng(seed).normal(0.3, 2.0, conv.kernel.shape).astype("float32")
    conv.kernel.assign(kernel)
    return kernel


def test_standardized_kernel_matches_formula():
    conv = StdConv2D(6, 3)
    kernel = _built(conv, 4)
    standardized = keras.ops.convert_to_numpy(conv.standardized_kernel())
    np.testing.assert_allclose(standardized, _numpy_standardize(kernel, 1e-10), atol=1e-5)
    np.testing.assert_allclose(standardized.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(standardized.var(axis=(0, 1, 2)), 1.0, atol=1e-4)


def test_output_equals_plain_conv_with_standardized_kernel():
    conv = StdConv2D(5, 3, strides=2, padding="valid")
    kernel = _built(conv, 3)
    plain = keras.layers.Conv2D(5, 3, strides=2, padding="valid", use_bias=False)
    plain.build((None, None, None, 3))
    plain.kernel.assign(_numpy_standardize(kernel, 1e-10))
    x = np.random.default_rng(1).normal(size=(2, 17, 16, 3)).astype("float32")
    np.testing.assert_allclose(conv(x), plain(x), atol=1e-4)


def test_epsilon_is_used():
    conv = StdConv2D(2, 1, epsilon=0.5)
    kernel = _built(conv, 3)
    standardized = keras.ops.convert_to_numpy(conv.standardized_kernel())
    np.testing.assert_allclose(standardized, _numpy_standardize(kernel, 0.5), atol=1e-5)


def test_bias_and_activation():
    conv = StdConv2D(2, 1, use_bias=True, activation="relu")
    _built(conv, 3)
    conv.bias.assign(np.array([-100.0, 100.0], "float32"))
    out = keras.ops.convert_to_numpy(conv(np.ones((1, 2, 2, 3), "float32")))
    assert np.all(out[..., 0] == 0.0) and np.all(out[..., 1] > 90.0)


def test_standardizes_in_float32_under_mixed_float16(mixed_float16):
    # A constant kernel has zero variance: in float32 it standardizes to exactly 0, while in
    # float16 the epsilon 1e-10 underflows to 0 and 0 / 0 gives NaN.
    conv = StdConv2D(4, 3, padding="same")
    conv.build((None, None, None, 2))
    conv.kernel.assign(np.full(conv.kernel.shape, 0.7, "float32"))
    out = conv(np.ones((1, 8, 8, 2), "float32"))
    assert conv.kernel.dtype == "float32"
    assert out.dtype == "float16"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), 0.0)


def test_config_round_trip():
    conv = StdConv2D(7, (3, 1), strides=(2, 1), epsilon=1e-6, name="c")
    kernel = _built(conv, 3)
    config = conv.get_config()
    assert config["epsilon"] == 1e-6 and config["use_bias"] is False
    clone = StdConv2D.from_config(config)
    assert clone.get_config() == config
    clone.build((None, None, None, 3))
    clone.kernel.assign(kernel)
    x = np.random.default_rng(2).normal(size=(1, 9, 9, 3)).astype("float32")
    np.testing.assert_array_equal(conv(x), clone(x))
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(conv))
    assert isinstance(restored, StdConv2D) and restored.epsilon == 1e-6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data_format": "channels_first"}, "channels_last"),
        ({"groups": 2}, "groups=1"),
        ({"epsilon": 0.0}, "epsilon"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StdConv2D(4, 3, **kwargs)


@pytest.mark.parametrize("mean", [10.0, 100.0])
def test_large_kernel_means_keep_their_digits(mean):
    # Two passes (mean, then the variance of the centred kernel): E[k**2] - E[k]**2 in
    # float32 would be 2e-4 off at mean/std 10.
    conv = StdConv2D(32, 3)
    conv.build((None, None, None, 64))
    kernel = np.random.default_rng(3).normal(mean, 1.0, conv.kernel.shape).astype("float32")
    conv.kernel.assign(kernel)
    standardized = keras.ops.convert_to_numpy(conv.standardized_kernel())
    np.testing.assert_allclose(standardized, _numpy_standardize(kernel, 1e-10), atol=mean * 1e-6)
