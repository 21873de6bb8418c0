"""A recipe: what one kind of training is, as data for the one training loop.

Fine-tuning (`finetuning.py`, BiT-HyperRule), upstream pre-training (`pretraining.py`) and
distillation (`distillation.py`) are recipes; `loop.run_recipe` runs any of them, or one of
your own, with the same checkpoints, interrupts, exact resume, progress, TensorBoard logs,
evaluation, run record and report. A recipe says what differs: its input pipelines, its
schedule, and, built under the strategy's scope, its model(s), optimizer, loss and evaluation
(`Parts`). The loop knows no recipe, metric or flag by name.

This module loads no TensorFlow: a recipe module's config is read (its program's flags
defined) before TensorFlow loads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from bit_keras.training.evaluation import Evaluation

    # A recipe's loss: (model, images, targets) -> per-example losses (B,), float32.
    LossFn = Callable[[keras.Model, tf.Tensor, tf.Tensor], tf.Tensor]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Parts:
    """What a recipe builds under the strategy's scope: everything the step and the
    evaluation run.

    Attributes:
        model: The model trained (and checkpointed, saved as `model.keras`).
        optimizer: Its optimizer, which may see the model (decay some variables, not
            others); the loop adds loss scaling under `mixed_float16` and builds it.
        loss: `(model, images, targets) -> per-example losses`; it may hold other models
            (a frozen teacher). Traced without AutoGraph, as the evaluation's `batch` (as
            Keras' `fit` traces its step): `tf.where` or `tf.cond`, not a Python `if` on a
            tensor.
        evaluation: How the model is measured (`evaluation.Evaluation`).
        weight_decay: L2 weight decay (its gradient, `weight_decay * v`) of `decayed`.
        decayed: The variables `weight_decay` applies to.
        clip_norm: The step's gradient is clipped to this global norm (None: not clipped).
    """

    model: keras.Model
    optimizer: keras.optimizers.Optimizer
    loss: LossFn
    evaluation: Evaluation
    weight_decay: float = 0.0
    decayed: Sequence[keras.Variable] = ()
    clip_norm: float | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Recipe:
    """One kind of training, as the loop runs it.

    Attributes:
        kind: What the run does, for its lines (`Fine-tuning`, `Pre-training`).
        settings: One line of the resolved settings (after "kind model on data: ").
        total_steps: Steps of the whole run.
        learning_rate: The schedule, `step (0-based) -> rate` (a Keras schedule).
        build: `learning rate callable -> Parts`, called once under the strategy's scope;
            loads any weights and says what it loaded.
        train_dataset: `(input_context or None, per-replica batch, start step) -> dataset` of
            endless `(images, targets)` batches, the same batches for the same step.
        eval_dataset: `(input_context or None, per-replica batch) -> dataset` of
            `(images, labels, mask)` batches (`data.eval_dataset`).
        eval_size: Examples in the evaluation split.
        advice: What to try when the run diverges (the learning rate, in the recipe's words).
        record: What `config.json` records of the recipe (resolved settings, class names).
        write_outputs: `(model, logdir) -> paths` of files written beside `model.keras` at
            the end of the run (atomically).
    """

    kind: str
    settings: str
    total_steps: int
    learning_rate: keras.optimizers.schedules.LearningRateSchedule
    build: Callable[[Callable[[], tf.Tensor]], Parts]
    train_dataset: Callable[[tf.distribute.InputContext | None, int, int], tf.data.Dataset]
    eval_dataset: Callable[[tf.distribute.InputContext | None, int], tf.data.Dataset]
    eval_size: int
    advice: str = ""
    record: dict = dataclasses.field(default_factory=dict)
    write_outputs: Callable[[keras.Model, str], list[str]] = lambda model, logdir: []
