"""BiT as a feature extractor: embeddings (`bit-embed`), nearest images, and the few-shot
linear evaluation on frozen features (`bit-fewshot`; `bit_keras.features.fewshot` holds the solver).

The feature maps themselves are `bit_keras.feature_maps` (`models/pyramid.py`). A top layer
beside `training` and `export`: it reads data through `bit_keras.data` and models through
`bit_keras.pretrained`. Its names load on first use (`lazy_names.py`), so that the programs
check their flags before TensorFlow loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras._runtime.lazy_names import lazy_names

__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "EMBEDDING_FEATURES": "bit_keras.features.embedding_shards",
        "Embedder": "bit_keras.features.embedder",
        "EmbeddingInterrupted": "bit_keras.features.embedder",
        "EmbeddingJob": "bit_keras.features.embedding_shards",
        "Embeddings": "bit_keras.features.embeddings_file",
        "Neighbour": "bit_keras.features.search",
        "embedding_model": "bit_keras.features.pooled",
        "evaluate_fewshot": "bit_keras.features.fewshot_evaluation",
        "nearest_images": "bit_keras.features.search",
        "read_embeddings": "bit_keras.features.embeddings_file",
        "write_embeddings": "bit_keras.features.embedder",
    },
)

__all__ = [
    "EMBEDDING_FEATURES",
    "Embedder",
    "EmbeddingInterrupted",
    "EmbeddingJob",
    "Embeddings",
    "Neighbour",
    "embedding_model",
    "evaluate_fewshot",
    "nearest_images",
    "read_embeddings",
    "write_embeddings",
]

if TYPE_CHECKING:
    from bit_keras.features.embedder import (
        Embedder,
        EmbeddingInterrupted,
        write_embeddings,
    )
    from bit_keras.features.embedding_shards import EMBEDDING_FEATURES, EmbeddingJob
    from bit_keras.features.embeddings_file import Embeddings, read_embeddings
    from bit_keras.features.fewshot_evaluation import evaluate_fewshot
    from bit_keras.features.pooled import embedding_model
    from bit_keras.features.search import Neighbour, nearest_images
