"""The published BiT weights: the registry, `create_model`, `model_from_checkpoint`, the
`keras.applications`-style constructors and checkpoint conversion.

It imports the layers below it (`bit_keras.models`, `bit_keras.checkpoint`, the label lists
of `bit_keras.predictions`), never `bit_keras.data`, `training` or `export`, which build on it.

Its names load on first use (`lazy_names.py`): the registry's names and checks
(`catalog.py`) load without Keras or TensorFlow (`tools/list_models.py`, the programs' checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras._runtime.lazy_names import lazy_names

__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "PretrainedModel": "bit_keras.pretrained.catalog",
        "default_resolution": "bit_keras.pretrained.builder",
        "find_model_for_file": "bit_keras.pretrained.catalog",
        "find_model_for_hub": "bit_keras.pretrained.catalog",
    },
)

__all__ = [
    "PretrainedModel",
    "default_resolution",
    "find_model_for_file",
    "find_model_for_hub",
]


if TYPE_CHECKING:
    from bit_keras.pretrained.builder import default_resolution
    from bit_keras.pretrained.catalog import (
        PretrainedModel,
        find_model_for_file,
        find_model_for_hub,
    )
