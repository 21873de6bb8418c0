import keras
import numpy as np
import pytest

from bit_keras.layers import GroupNormalization


def _reference(x: np.ndarray, groups: int, eps: float, gamma, beta) -> np.ndarray:
    x64 = x.astype(np.float64)
    grouped = x64.reshape((x.shape[0], -1, groups, x.shape[-1] // groups))
    mean = grouped.mean(axis=(1, 3), keepdims=True)
    var = grouped.var(axis=(1, 3), keepdims=True)
    normalized = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    return normalized * gamma + beta


def _layers(channels: int, groups: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    gamma, beta = rng.normal(1.0, 0.5, channels), rng.normal(0.0, 0.5, channels)
    ours = GroupNormalization(groups, epsilon=1e-5)
    theirs = keras.layers.GroupNormalization(groups, epsilon=1e-5)
    for layer in (ours, theirs):
        layer.build((None, None, None, channels))
        layer.set_weights([gamma.astype("float32"), beta.astype("float32")])
    return ours, theirs, gamma, beta


@pytest.mark.parametrize(
    "shape,groups", [((2, 9, 7, 64), 32), ((3, 4, 4, 16), 4), ((1, 5, 5, 8), 8)]
)
def test_matches_keras_and_float64(shape, groups):
    ours, theirs, gamma, beta = _layers(shape[-1], groups)
    x = np.random.default_rng(1).normal(0.5, 2.0, shape).astype("float32")
    expected = _reference(x, groups, 1e-5, gamma, beta)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)), expected, atol=2e-5)
    np.testing.assert_allclose(ours(x), theirs(x), atol=2e-5)


@pytest.mark.parametrize("mean", [10.0, 100.0])
def test_large_means_keep_their_digits(mean):
    # The variance is taken of the centred inputs: E[x**2] - E[x]**2 in float32 would be
    # 8e-5 off at mean/std 10 and 1e-2 at 100.
    ours, theirs, gamma, beta = _layers(64, 32)
    x = np.random.default_rng(2).normal(mean, 1.0, (2, 16, 16, 64)).astype("float32")
    expected = _reference(x, 32, 1e-5, gamma, beta)
    keras_error = np.abs(keras.ops.convert_to_numpy(theirs(x)) - expected).max()
    our_error = np.abs(keras.ops.convert_to_numpy(ours(x)) - expected).max()
    assert our_error <= max(4 * keras_error, 1e-5)


def test_rank_3_inputs_and_no_scale_or_center():
    layer = GroupNormalization(2, epsilon=1e-5, scale=False, center=False)
    x = np.random.default_rng(3).normal(size=(2, 10, 6)).astype("float32")
    expected = _reference(x, 2, 1e-5, 1.0, 0.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, atol=2e-5)
    assert not layer.weights


def test_any_spatial_size_in_a_functional_model():
    inputs = keras.Input((None, None, 32))
    model = keras.Model(inputs, GroupNormalization(8, epsilon=1e-5)(inputs))
    for size in ((5, 7), (12, 3)):
        x = np.random.default_rng(4).normal(size=(2, *size, 32)).astype("float32")
        np.testing.assert_allclose(model(x), _reference(x, 8, 1e-5, 1.0, 0.0), atol=2e-5)


def test_weights_config_and_errors():
    layer = GroupNormalization(4, epsilon=1e-5, name="a_norm")
    layer.build((None, 3, 3, 8))
    assert [w.name for w in layer.weights] == ["gamma", "beta"]
    clone = GroupNormalization.from_config(layer.get_config())
    assert (clone.groups, clone.epsilon, clone.name) == (4, 1e-5, "a_norm")
    with pytest.raises(ValueError, match="axis=-1"):
        GroupNormalization(4, axis=1)
    with pytest.raises(ValueError, match="rank 3 or more"):
        GroupNormalization(4).build((None, 8))


def test_float32_arithmetic_under_mixed_float16(mixed_float16):
    ours = GroupNormalization(4, epsilon=1e-5)
    x = np.random.default_rng(5).normal(300.0, 50.0, (2, 32, 32, 16)).astype("float32")
    y = ours(x)
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    expected = _reference(x, 4, 1e-5, 1.0, 0.0)
    # float16 keeps 11 bits: only the final cast rounds (|y| < 4, so < 2e-3).
    np.testing.assert_allclose(keras.ops.convert_to_numpy(y).astype("float32"), expected, atol=4e-3)


def _gradients(layer, x: np.ndarray, weights: np.ndarray):
    """d sum(layer(x) * weights) / d (x, *trainable weights), on the running backend."""
    if keras.backend.backend() == "jax":
        import jax

        def loss(x, trainable):
            return (layer.stateless_call(trainable, [], x)[0] * weights).sum()

        dx, dweights = jax.grad(loss, argnums=(0, 1))(
            x, [v.value for v in layer.trainable_variables]
        )
        return [np.asarray(dx), *map(np.asarray, dweights)]
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x) * weights)
    return [g.numpy() for g in tape.gradient(loss, [x, *layer.trainable_variables])]


@pytest.mark.parametrize(
    "scale,center,mean",
    [
        (True, True, 0.5),
        (True, True, 10.0),
        (False, True, 0.5),
        (True, False, 0.5),
        (False, False, 0.5),
    ],
)
def test_gradients_match_keras(scale, center, mean):
    # bit_keras' layer has its own gradient (a closed form with fewer passes than the
    # automatic one); Keras' layer is differentiated op by op.
    ours = GroupNormalization(4, epsilon=1e-5, scale=scale, center=center)
    theirs = keras.layers.GroupNormalization(4, epsilon=1e-5, scale=scale, center=center)
    rng = np.random.default_rng(6)
    for layer in (ours, theirs):
        layer.build((None, None, None, 16))
    weights = [rng.normal(1.0, 0.5, (16,)).astype("float32") for _ in ours.weights]
    for layer in (ours, theirs):
        layer.set_weights(weights)
    x = rng.normal(mean, 2.0, (2, 6, 6, 16)).astype("float32")
    upstream = rng.normal(size=x.shape).astype("float32")
    ours_grads, keras_grads = _gradients(ours, x, upstream), _gradients(theirs, x, upstream)
    assert len(ours_grads) == 1 + scale + center
    for ours_grad, keras_grad in zip(ours_grads, keras_grads, strict=True):
        assert np.abs(keras_grad).max() > 0.1
        np.testing.assert_allclose(ours_grad, keras_grad, atol=1e-4)


def test_gradients_under_mixed_float16(mixed_float16):
    ours = GroupNormalization(4, epsilon=1e-5)
    ours.build((None, None, None, 16))
    x = np.random.default_rng(8).normal(300.0, 50.0, (2, 6, 6, 16)).astype("float32")
    upstream = np.random.default_rng(9).normal(size=x.shape).astype("float32")
    dx, dgamma, dbeta = _gradients(ours, x, upstream)
    assert dx.dtype == np.float32 and np.isfinite(dx).all()
    reference = GroupNormalization(4, epsilon=1e-5, dtype="float32")
    reference.build((None, None, None, 16))
    expected = _gradients(reference, x, upstream)
    # Only the output's cast to float16 differs: upstream is rounded to 11 bits on the way back.
    for grad, want in zip((dx, dgamma, dbeta), expected, strict=True):
        np.testing.assert_allclose(grad, want, rtol=2e-2, atol=2e-3 * np.abs(want).max())
