"""Decoding and reading images for BiT, and a synthetic image for demos without files.

The one home of image decoding: the training data (`bit_keras.data`), the predict program
and the coming exporters decode through `decode_image`. Imports no other part of bit_keras.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from bit_keras._runtime import files

# File endings of the formats `decode_image` reads (image folders are listed by them).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")
# The first bytes of each format `decode_image` reads.
_SIGNATURES = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)


def image_format(header: bytes) -> str | None:
    """The format (`jpeg`, `png`, `gif`, `bmp`) that a file's first bytes announce, or None.

    A cheap check for listing image folders: it reads no more than the signature, so a file
    cut short after a valid header still passes it.
    """
    return next((name for magic, name in _SIGNATURES if header.startswith(magic)), None)


def decode_image(data: tf.Tensor) -> tf.Tensor:
    """Decodes an encoded JPEG, PNG, GIF (first frame) or BMP image to RGB.

    Works eagerly and inside `tf.data` and `tf.function` graphs.

    Args:
        data: Scalar string tensor, the file's bytes.

    Returns:
        uint8 tensor (height, width, 3); grey and RGBA images are converted to RGB.
    """
    return tf.io.decode_image(data, channels=3, expand_animations=False, dtype=tf.uint8)


def read_image(path) -> tf.Tensor:
    """Reads and decodes an image file (`decode_image`); a string tensor works in graphs."""
    return decode_image(tf.io.read_file(path))


def load_image(path: str | os.PathLike, size: int | tuple[int, int]) -> np.ndarray:
    """Reads a JPEG, PNG, GIF or BMP file as RGB and resizes it (bilinear, antialiased).

    BiT evaluates on the whole image resized to the crop size, without a center crop.

    Args:
        path: Image file.
        size: Output size, an int for squares or (height, width).

    Returns:
        float32 array (height, width, 3) with values in [0, 255].

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not an image TensorFlow can decode.
    """
    path = os.fspath(path)
    if not files.isfile(path):
        raise FileNotFoundError(f"No image file at {path!r}.")
    try:
        image = read_image(path)
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as e:
        raise ValueError(f"{path!r} is not a readable JPEG, PNG, GIF or BMP image.") from e
    return resize(image.numpy(), size)


def resize(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resizes an (height, width, 3) image to `size`, returning float32 in [0, 255]."""
    return resize_images(image, size).numpy()


def resize_images(images, size: int | tuple[int, int]) -> tf.Tensor:
    """Resizes images `(..., height, width, 3)` to `size`: bilinear, antialiased, float32
    clipped to [0, 255]. The one resize of `load_image` and of exported models' bytes input.
    """
    size = (size, size) if isinstance(size, int) else tuple(size)
    resized = tf.image.resize(tf.cast(images, tf.float32), size, antialias=True)
    return tf.clip_by_value(resized, 0.0, 255.0)


def synthetic_image(size: int = 224) -> np.ndarray:
    """A deterministic made-up picture (colour gradients and a disc), float32 in [0, 255].

    For demos and smoke tests that must run without any image file. It shows nothing real.
    """
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    disc = ((x - 0.6) ** 2 + (y - 0.4) ** 2 < 0.06).astype(np.float32)
    image = np.stack([255 * x, 255 * y, 255 * (1 - disc) * (1 - x * y)], axis=-1)
    return image.astype(np.float32)
