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
        "PRETRAINED": "bit_keras.pretrained.catalog",
        "ModelSource": "bit_keras.pretrained.model_source",
        "ModelSpec": "bit_keras.pretrained.model_source",
        "PretrainedModel": "bit_keras.pretrained.catalog",
        "applications": "bit_keras.pretrained.applications",
        "check_model_spec": "bit_keras.pretrained.model_source",
        "check_weights": "bit_keras.pretrained.catalog",
        "checkpoint_path": "bit_keras.pretrained.builder",
        "convert_checkpoint": "bit_keras.pretrained.convert",
        "create_model": "bit_keras.pretrained.builder",
        "default_resolution": "bit_keras.pretrained.builder",
        "fetch": "bit_keras.pretrained.builder",
        "find_model_for_file": "bit_keras.pretrained.catalog",
        "find_model_for_hub": "bit_keras.pretrained.catalog",
        "get_model_info": "bit_keras.pretrained.catalog",
        "known_resolution": "bit_keras.pretrained.builder",
        "list_models": "bit_keras.pretrained.catalog",
        "load_model_source": "bit_keras.pretrained.model_source",
        "model_from_checkpoint": "bit_keras.pretrained.from_checkpoint",
        "model_table": "bit_keras.pretrained.catalog",
        "resolve_model": "bit_keras.pretrained.catalog",
        "weights_path": "bit_keras.pretrained.builder",
    },
)

__all__ = [
    "PRETRAINED",
    "ModelSource",
    "ModelSpec",
    "PretrainedModel",
    "applications",
    "check_model_spec",
    "check_weights",
    "checkpoint_path",
    "convert_checkpoint",
    "create_model",
    "default_resolution",
    "fetch",
    "find_model_for_file",
    "find_model_for_hub",
    "get_model_info",
    "known_resolution",
    "list_models",
    "load_model_source",
    "model_from_checkpoint",
    "model_table",
    "resolve_model",
    "weights_path",
]


if TYPE_CHECKING:
    from bit_keras.pretrained import applications
    from bit_keras.pretrained.builder import (
        checkpoint_path,
        create_model,
        default_resolution,
        fetch,
        known_resolution,
        weights_path,
    )
    from bit_keras.pretrained.catalog import (
        PRETRAINED,
        PretrainedModel,
        check_weights,
        find_model_for_file,
        find_model_for_hub,
        get_model_info,
        list_models,
        model_table,
        resolve_model,
    )
    from bit_keras.pretrained.convert import convert_checkpoint
    from bit_keras.pretrained.from_checkpoint import model_from_checkpoint
    from bit_keras.pretrained.model_source import (
        ModelSource,
        ModelSpec,
        check_model_spec,
        load_model_source,
    )
