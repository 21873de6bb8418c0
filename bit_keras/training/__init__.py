"""Training BiT models on tf.distribute: three recipes of one loop, and the seam for yours.

Fine-tuning with BiT-HyperRule (`train`, or in Keras' `fit` with `fit_recipe`), upstream
pre-training with BiT's own recipe (`pretrain`) and distillation by function matching
(`distill`). A recipe of your own is a `Recipe` whose `build` returns the `Parts` (model,
optimizer, loss, `Evaluation`), with a config that extends `RunConfig`; `run_recipe` runs it
with checkpoints, interrupts, exact resume, every tf.distribute strategy and the report.

A top layer of the package: it builds every model through `bit_keras.create_model`
and reads data through `bit_keras.data`; nothing in bit_keras imports it. Its names load
lazily, so that `bit-train` parses its flags before TensorFlow loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras._runtime.lazy_names import lazy_names

__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "DistillConfig": "bit_keras.training.distillation",
        "Evaluation": "bit_keras.training.evaluation",
        "FitSettings": "bit_keras.training.fit",
        "Measured": "bit_keras.training.evaluation",
        "Parts": "bit_keras.training.recipe",
        "PretrainConfig": "bit_keras.training.pretraining",
        "Recipe": "bit_keras.training.recipe",
        "ResolvedConfig": "bit_keras.training.finetuning",
        "RunConfig": "bit_keras.training.config",
        "TrainConfig": "bit_keras.training.finetuning",
        "classification": "bit_keras.training.evaluation",
        "distill": "bit_keras.training.distillation",
        "fit_recipe": "bit_keras.training.fit",
        "hyperrule": "bit_keras.training.hyperrule",
        "make_strategy": "bit_keras.training.strategy",
        "pretrain": "bit_keras.training.pretraining",
        "run_recipe": "bit_keras.training.loop",
        "train": "bit_keras.training.finetuning",
        "upstream": "bit_keras.training.upstream",
    },
)

__all__ = [
    "DistillConfig",
    "Evaluation",
    "FitSettings",
    "Measured",
    "Parts",
    "PretrainConfig",
    "Recipe",
    "ResolvedConfig",
    "RunConfig",
    "TrainConfig",
    "classification",
    "distill",
    "fit_recipe",
    "hyperrule",
    "make_strategy",
    "pretrain",
    "run_recipe",
    "train",
    "upstream",
]


if TYPE_CHECKING:
    from bit_keras.training import hyperrule, upstream
    from bit_keras.training.config import RunConfig
    from bit_keras.training.distillation import DistillConfig, distill
    from bit_keras.training.evaluation import Evaluation, Measured, classification
    from bit_keras.training.finetuning import ResolvedConfig, TrainConfig, train
    from bit_keras.training.fit import FitSettings, fit_recipe
    from bit_keras.training.loop import run_recipe
    from bit_keras.training.pretraining import PretrainConfig, pretrain
    from bit_keras.training.recipe import Parts, Recipe
    from bit_keras.training.strategy import make_strategy
