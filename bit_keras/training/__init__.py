"""Fine-tuning BiT models with BiT-HyperRule: on tf.distribute (`train`), or in `fit`.

A top layer of the package: it builds every model through `bit_keras.pretrained.create_model`
and reads data through `bit_keras.data`; nothing in bit_keras imports it. Its names load
lazily, so that `bit-train` parses its flags before TensorFlow loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras.lazy_names import lazy_names

__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "FitRecipe": "bit_keras.training.fit",
        "ResolvedConfig": "bit_keras.training.config",
        "TrainConfig": "bit_keras.training.config",
        "fit_recipe": "bit_keras.training.fit",
        "hyperrule": "bit_keras.training.hyperrule",
        "make_strategy": "bit_keras.training.strategy",
        "resolve": "bit_keras.training.config",
        "train": "bit_keras.training.finetuning",
    },
)

__all__ = [
    "FitRecipe",
    "ResolvedConfig",
    "TrainConfig",
    "fit_recipe",
    "hyperrule",
    "make_strategy",
    "resolve",
    "train",
]


if TYPE_CHECKING:
    from bit_keras.training import hyperrule
    from bit_keras.training.config import ResolvedConfig, TrainConfig, resolve
    from bit_keras.training.finetuning import train
    from bit_keras.training.fit import FitRecipe, fit_recipe
    from bit_keras.training.strategy import make_strategy
