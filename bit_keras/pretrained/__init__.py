"""The published BiT weights: the registry, `create_model`, `model_from_checkpoint`, the
`keras.applications`-style constructors and checkpoint conversion.

It imports the layers below it (`bit_keras.models`, `bit_keras.checkpoint`, the label lists
of `bit_keras.predictions`), never `bit_keras.data`, `training` or `export`, which build on it.
"""

from bit_keras.pretrained import applications
from bit_keras.pretrained.convert import convert_checkpoint
from bit_keras.pretrained.from_checkpoint import model_from_checkpoint
from bit_keras.pretrained.registry import (
    PRETRAINED,
    PretrainedModel,
    check_weights,
    checkpoint_path,
    create_model,
    default_resolution,
    fetch,
    find_model_for_file,
    find_model_for_hub,
    get_model_info,
    known_resolution,
    list_models,
    model_table,
    resolve_model,
    weights_path,
)

__all__ = [
    "PRETRAINED",
    "PretrainedModel",
    "applications",
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
    "model_from_checkpoint",
    "model_table",
    "resolve_model",
    "weights_path",
]
