"""A BiT's embeddings: its pre-logits, or one of its feature maps averaged over space.

The pre-logits are what BiT's head reads: the global average of `final_relu` (block 4 after
the final GroupNorm and ReLU), 2048 x width numbers for the R50-R152 BiTs; they are the same
numbers as P5 pooled. P2-P4 pooled (the raw outputs of blocks 1-3, `feature_maps`) are
lower-level features, 256, 512 and 1024 x width wide.
"""

from __future__ import annotations

import keras

from bit_keras.features.embedding_shards import EMBEDDING_FEATURES, PRE_LOGITS
from bit_keras.models.pyramid import feature_maps


def embedding_model(model: keras.Model, features: str = PRE_LOGITS) -> keras.Model:
    """A model over `model`'s weights that maps images to embeddings (B, C).

    Args:
        model: A BiT ResNet-v2, with or without its head.
        features: `pre_logits` (the head's input), or `P2`..`P5` averaged over space
            (`P5` pooled is the pre-logits).

    Returns:
        A functional `keras.Model` sharing `model`'s layers.

    Raises:
        ValueError: unknown `features`, or `model` is not a BiT ResNet-v2.

    Example:
    >>> import numpy as np, bit_keras
    >>> from bit_keras.features import embedding_model
    >>> bit = bit_keras.create_model("R14x1", weights=None, input_shape=(32, 32, 3))
    >>> embedding_model(bit, "P3")(np.zeros((2, 32, 32, 3), "float32")).shape
    (2, 512)
    """
    if features not in EMBEDDING_FEATURES:
        raise ValueError(f"`features` must be one of {EMBEDDING_FEATURES}. Received: {features!r}")
    level = "P5" if features == PRE_LOGITS else features
    maps = feature_maps(model)
    pooled = keras.layers.GlobalAveragePooling2D(name=f"{features.lower()}_pool")(
        maps.output[level]
    )
    return keras.Model(maps.input, pooled, name=f"{model.name}_{features.lower()}")
