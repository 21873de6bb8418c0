import keras
import numpy as np
import pytest

from bit_keras.layers import PreActBottleneck
from bit_test_utils import ceil_div


@pytest.mark.parametrize(("size", "strides"), [(16, 1), (16, 2), (15, 2), (9, 1)])
def test_output_shape(size, strides):
    unit = PreActBottleneck(32, strides=strides)
    out = unit(np.zeros((2, size, size + 1, 64), "float32"))
    expected = (2, ceil_div(size, strides), ceil_div(size + 1, strides), 128)
    assert tuple(out.shape) == expected
    assert unit.compute_output_shape((2, size, size + 1, 64)) == expected


@pytest.mark.parametrize(
    ("channels", "strides", "projects"), [(128, 1, False), (64, 1, True), (128, 2, True)]
)
def test_projection_only_where_needed(channels, strides, projects):
    unit = PreActBottleneck(32, strides=strides)
    unit.build((None, 8, 8, channels))
    assert (unit.a_proj is not None) == projects
    expected = 4 if projects else 3  # a, b, c convolutions and the projection
    assert len([w for w in unit.weights if "kernel" in w.path]) == expected


def test_identity_shortcut_adds_the_input():
    # With the residual branch's last conv at zero the unit is the identity, which only holds
    # when the shortcut is the raw input (not the pre-activated one).
    unit = PreActBottleneck(32)
    x = np.random.default_rng(0).normal(size=(1, 6, 6, 128)).astype("float32")
    unit.build(x.shape)
    unit.c_norm.gamma.assign(np.zeros(32, "float32"))
    unit.c_norm.beta.assign(np.zeros(32, "float32"))
    np.testing.assert_allclose(unit(x), x, atol=1e-6)


def test_projection_takes_the_preactivated_input():
    unit = PreActBottleneck(32, strides=1)
    x = np.random.default_rng(0).normal(size=(1, 5, 5, 64)).astype("float32")
    unit.build(x.shape)
    unit.c_norm.gamma.assign(np.zeros(32, "float32"))
    unit.c_norm.beta.assign(np.zeros(32, "float32"))
    preact = keras.ops.relu(unit.a_norm(x))
    np.testing.assert_allclose(unit(x), unit.a_proj(preact), atol=1e-6)


def test_strided_conv_pads_symmetrically():
    # The 3x3/2 convolution must see one zero pixel on every side: compare with an explicit
    # pad + VALID conv. TF "SAME" on an even size pads (0, 1) and would differ.
    unit = PreActBottleneck(32, strides=2)
    x = np.random.default_rng(3).normal(size=(1, 8, 8, 64)).astype("float32")
    unit.build(x.shape)
    mid = unit.a_conv(keras.ops.relu(unit.a_norm(x)))
    mid = keras.ops.relu(unit.b_norm(mid))
    kernel = unit.b_conv.standardized_kernel()
    padded = keras.ops.pad(mid, [[0, 0], [1, 1], [1, 1], [0, 0]])
    expected = keras.ops.conv(padded, kernel, strides=2, padding="valid")
    np.testing.assert_allclose(unit.b_conv(unit.b_pad(mid)), expected, atol=1e-5)
    same = keras.ops.conv(mid, kernel, strides=2, padding="same")
    assert np.abs(keras.ops.convert_to_numpy(same - expected)).max() > 1e-3


def test_config_round_trip_and_serialization():
    unit = PreActBottleneck(
        32, strides=2, groups=16, norm_epsilon=1e-4, ws_epsilon=1e-8, name="block2_unit01"
    )
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 64)).astype("float32")
    y = unit(x)
    clone = PreActBottleneck.from_config(unit.get_config())
    assert clone.get_config() == unit.get_config()
    clone.build(x.shape)
    clone.set_weights(unit.get_weights())
    np.testing.assert_array_equal(clone(x), y)
    assert clone.b_norm.groups == 16 and clone.b_norm.epsilon == 1e-4
    assert clone.b_conv.epsilon == 1e-8


@pytest.mark.parametrize(
    ("kwargs", "shape", "message"),
    [
        ({"filters": 0}, None, "filters"),
        ({"filters": 48}, None, "divisible"),
        ({"filters": 32, "strides": 0}, None, "strides"),
        ({"filters": 32, "strides": 2, "use_projection": False}, (1, 8, 8, 128), "projection"),
        ({"filters": 32}, (1, 8, 8, None), "channel"),
    ],
)
def test_bad_arguments(kwargs, shape, message):
    with pytest.raises(ValueError, match=message):
        PreActBottleneck(**kwargs).build(shape)
