import numpy as np
import pytest
import tensorflow as tf

from bit_keras import preprocess_input


def test_scales_to_minus_one_one():
    x = np.array([[0, 127.5, 255]], "float32")
    np.testing.assert_array_equal(preprocess_input(x), [[-1.0, 0.0, 1.0]])


def test_uint8_becomes_float32_and_equals_reference_formula():
    x = np.random.default_rng(0).integers(0, 256, (2, 5, 5, 3), dtype=np.uint8)
    out = preprocess_input(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, x.astype("float32") / 127.5 - 1.0, atol=1e-7)


def test_keeps_float64():
    assert preprocess_input(np.array([255.0])).dtype == np.float64


def test_tensors():
    out = preprocess_input(tf.constant([[0, 255]], tf.uint8))
    assert tf.is_tensor(out) and out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [[-1.0, 1.0]])


def test_rejects_other_types():
    with pytest.raises(TypeError, match="str"):
        preprocess_input("image.jpg")
