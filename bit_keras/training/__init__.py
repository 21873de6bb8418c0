"""Fine-tuning BiT models with BiT-HyperRule on tf.distribute.

A top layer of the package: it builds every model through `bit_keras.pretrained.create_model`
and reads data through `bit_keras.data`; nothing in bit_keras imports it. Its names load
lazily, so that `bit-train` parses its flags before TensorFlow loads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "ResolvedConfig": "bit_keras.training.config",
    "TrainConfig": "bit_keras.training.config",
    "resolve": "bit_keras.training.config",
    "train": "bit_keras.training.loop",
    "make_strategy": "bit_keras.training.strategy",
}

__all__ = ["ResolvedConfig", "TrainConfig", "hyperrule", "make_strategy", "resolve", "train"]


def __getattr__(name: str):
    if name == "hyperrule":
        return importlib.import_module("bit_keras.training.hyperrule")
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bit_keras.training' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:
    from bit_keras.training import hyperrule
    from bit_keras.training.config import ResolvedConfig, TrainConfig, resolve
    from bit_keras.training.loop import train
    from bit_keras.training.strategy import make_strategy
