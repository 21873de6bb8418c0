"""Training BiT models on tf.distribute: fine-tuning with BiT-HyperRule (`train`, or in Keras'
`fit`) and upstream pre-training with BiT's own recipe (`pretrain`), two recipes of one loop.

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
        "DistillConfig": "bit_keras.training.config",
        "FitRecipe": "bit_keras.training.fit",
        "PretrainConfig": "bit_keras.training.config",
        "Recipe": "bit_keras.training.recipe",
        "ResolvedConfig": "bit_keras.training.config",
        "TrainConfig": "bit_keras.training.config",
        "distill": "bit_keras.training.distillation",
        "fit_recipe": "bit_keras.training.fit",
        "hyperrule": "bit_keras.training.hyperrule",
        "make_strategy": "bit_keras.training.strategy",
        "pretrain": "bit_keras.training.pretraining",
        "resolve": "bit_keras.training.config",
        "run_recipe": "bit_keras.training.loop",
        "train": "bit_keras.training.finetuning",
        "upstream": "bit_keras.training.upstream",
    },
)

__all__ = [
    "DistillConfig",
    "FitRecipe",
    "PretrainConfig",
    "Recipe",
    "ResolvedConfig",
    "TrainConfig",
    "distill",
    "fit_recipe",
    "hyperrule",
    "make_strategy",
    "pretrain",
    "resolve",
    "run_recipe",
    "train",
    "upstream",
]


if TYPE_CHECKING:
    from bit_keras.training import hyperrule, upstream
    from bit_keras.training.config import (
        DistillConfig,
        PretrainConfig,
        ResolvedConfig,
        TrainConfig,
        resolve,
    )
    from bit_keras.training.distillation import distill
    from bit_keras.training.finetuning import train
    from bit_keras.training.fit import FitRecipe, fit_recipe
    from bit_keras.training.loop import run_recipe
    from bit_keras.training.pretraining import pretrain
    from bit_keras.training.recipe import Recipe
    from bit_keras.training.strategy import make_strategy
