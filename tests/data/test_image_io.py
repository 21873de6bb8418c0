import numpy as np
import pytest
import tensorflow as tf

from bit_keras.data import image_io


@pytest.mark.parametrize("encode", [tf.io.encode_png, tf.io.encode_jpeg])
def test_load_image_resizes_rgb(tmp_path, encode):
    image = np.zeros((40, 60, 3), np.uint8)
    image[..., 0] = 200  # red
    path = tmp_path / "red.img"
    path.write_bytes(encode(image).numpy())
    loaded = image_io.load_image(path, (32, 48))
    assert loaded.shape == (32, 48, 3) and loaded.dtype == np.float32
    np.testing.assert_allclose(loaded.mean(axis=(0, 1)), [200, 0, 0], atol=3)


def test_load_grayscale_png_as_rgb(tmp_path):
    path = tmp_path / "gray.png"
    path.write_bytes(tf.io.encode_png(np.full((8, 8, 1), 90, np.uint8)).numpy())
    np.testing.assert_allclose(image_io.load_image(path, 4), 90, atol=1e-3)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        image_io.load_image(tmp_path / "none.png", 8)
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(ValueError, match="not a readable"):
        image_io.load_image(tmp_path / "text.png", 8)


def test_synthetic_image_is_deterministic_and_in_range():
    a, b = image_io.synthetic_image(64), image_io.synthetic_image(64)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (64, 64, 3) and a.min() >= 0 and a.max() <= 255 and a.std() > 10
