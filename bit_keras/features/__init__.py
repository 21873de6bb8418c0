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
        "EMBEDDING_FEATURES": "bit_keras.features.embedding_job",
        "Embedder": "bit_keras.features.embedding_run",
        "EmbeddingInterrupted": "bit_keras.features.embedding_run",
        "EmbeddingJob": "bit_keras.features.embedding_job",
        "Embeddings": "bit_keras.features.embeddings_file",
        "check_output": "bit_keras.features.embedding_job",
        "embedding_model": "bit_keras.features.pooled",
        "nearest": "bit_keras.features.embeddings_file",
        "read_embeddings": "bit_keras.features.embeddings_file",
        "split_size": "bit_keras.features.embedding_run",
        "write_embeddings": "bit_keras.features.embedding_run",
    },
)

__all__ = [
    "EMBEDDING_FEATURES",
    "Embedder",
    "EmbeddingInterrupted",
    "EmbeddingJob",
    "Embeddings",
    "check_output",
    "embedding_model",
    "nearest",
    "read_embeddings",
    "split_size",
    "write_embeddings",
]

if TYPE_CHECKING:
    from bit_keras.features.embedding_job import EMBEDDING_FEATURES, EmbeddingJob, check_output
    from bit_keras.features.embedding_run import (
        Embedder,
        EmbeddingInterrupted,
        split_size,
        write_embeddings,
    )
    from bit_keras.features.embeddings_file import Embeddings, nearest, read_embeddings
    from bit_keras.features.pooled import embedding_model
