"""The nearest images to a query image in an embeddings file (`bit-embed --query`)."""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

from bit_keras.data.image_io import read_image
from bit_keras.features.embedder import Embedder
from bit_keras.features.embeddings_file import Embeddings, nearest


@dataclasses.dataclass(frozen=True)
class Neighbour:
    """One of the nearest images: its row in the file, its cosine similarity to the query, and
    what the file says of it (`Embeddings.describe`: its path or split and index, its label)."""

    index: int
    similarity: float
    description: str


def nearest_images(
    embeddings: Embeddings,
    image: str | os.PathLike | np.ndarray,
    model: keras.Model,
    *,
    top_k: int = 5,
    jit_compile: bool = False,
) -> list[Neighbour]:
    """The `top_k` images of `embeddings` nearest to `image` (cosine similarity), nearest
    first.

    Args:
        embeddings: A file `bit-embed` wrote (`read_embeddings`).
        image: An image file, or an image (H, W, 3) uint8.
        model: The model the file was embedded with (its `info["model"]`), built.
        top_k: How many.
        jit_compile: Compile the forward pass with XLA.

    The query is embedded as the file was: the same features, resized whole to the file's
    resolution.
    """
    info = embeddings.info
    if not isinstance(image, np.ndarray):
        path = os.fspath(image)
        try:
            image = read_image(path)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as e:
            raise ValueError(f"{path!r} is not a readable JPEG, PNG, GIF or BMP image.") from e
    embedder = Embedder(model, info["features"], jit_compile)
    if embedder.width != embeddings.embeddings.shape[-1]:
        raise ValueError(
            f"The model's {info['features']} have {embedder.width} features; the file's "
            f"embeddings have {embeddings.embeddings.shape[-1]}: it was embedded with "
            f"{info['model']!r}."
        )
    query = tf.data.Dataset.from_tensors((image, tf.constant(-1, tf.int64)))
    ((vector, _),) = embedder.embed(query, resolution=info["resolution"], batch_size=1)
    indices, similarity = nearest(embeddings.embeddings, vector[0], top_k)
    return [
        Neighbour(int(i), float(s), embeddings.describe(int(i)))
        for i, s in zip(indices, similarity, strict=True)
    ]
