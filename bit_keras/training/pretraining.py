"""The upstream pre-training recipe (BiT's own) and `pretrain`, which runs it in the loop.

What it takes from the paper and from big_vision is in `upstream.py`: SGD with momentum 0.9 at
0.03 per 256 images, L2 weight decay 1e-4 on the kernels, linear warm-up, the paper's steps or
a cosine decay, the gradient's global norm clipped to 1.0; Inception-style random crops and
flips; evaluation on the shorter side resized to 256/224 of the crop, centre-cropped. The loss
follows the data: softmax cross-entropy for one label per image, sigmoid cross-entropy for
several (ImageNet-21k's case), with the new head's bias at -10 as big_vision starts it.

At the end of the run the logdir holds `model.keras`, `model.npz` (the body and head in the
official BiT layout, which the official code, timm and big_vision read) and `config.json`.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from bit_keras import data
from bit_keras.checkpoint import save_official_weights
from bit_keras.checkpoint.layout import official_variables
from bit_keras.training import losses, upstream
from bit_keras.training.config import DistillConfig, PretrainConfig, check_model
from bit_keras.training.loop import run_recipe
from bit_keras.training.lr_schedule import BiTLearningRate
from bit_keras.training.recipe import (
    Recipe,
    build_model,
    evaluation_data,
    load_data,
    metric_for,
    training_data,
)

NPZ_FILE = "model.npz"


def pretrain(
    config: PretrainConfig,
    strategy: tf.distribute.Strategy | None = None,
    *,
    out=print,
    return_model: bool = False,
):
    """Pre-trains a BiT with the upstream recipe; resumes from the last checkpoint in logdir.

    The training loop (`loop.run_recipe`) with this module's recipe, so everything
    `bit_keras.training.train` guarantees holds: checks before anything is written, every
    tf.distribute strategy, checkpoints on Ctrl-C and SIGTERM, exact resume.

    Returns:
        The final metrics (`step`, `test_accuracy` or `test_precision_at_1`, `train_loss`,
        `model_path`, `loss_history`, ...), and the model when `return_model`.
    """
    return run_recipe(
        config, lambda: recipe(config, out), strategy, out=out, return_model=return_model
    )


def resolve_schedule(
    config: PretrainConfig | DistillConfig, train_size: int, default_epochs: float = upstream.EPOCHS
) -> tuple[int, int]:
    """(total steps, warm-up steps) of a run on `train_size` examples: `config.steps`, else
    its `epochs` (`default_epochs` when None); the warm-up is `config.warmup_steps`, else the
    paper's 5,000 steps at batch 4,096 (big_vision's distillation configs take the same),
    at most a fifth of the run."""
    if config.steps is not None:
        steps = config.steps
    else:
        epochs = default_epochs if config.epochs is None else config.epochs
        steps = upstream.total_steps(train_size, config.batch_size, epochs)
    warmup = config.warmup_steps
    if warmup is None:
        warmup = upstream.warmup_steps(config.batch_size, steps)
    if warmup and warmup >= steps:
        raise ValueError(f"`warmup_steps` ({warmup}) must be fewer than the run's {steps} steps.")
    return steps, warmup


def learning_rate_schedule(
    kind: str, base_lr: float, steps: int, warmup: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """The Keras schedule of `upstream.schedule_learning_rate`."""
    if kind == "paper":
        return BiTLearningRate.from_schedule(base_lr, upstream.paper_schedule(steps, warmup))
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, steps - warmup), warmup_target=base_lr, warmup_steps=warmup
    )


def kernels(model: keras.Model) -> list[keras.Variable]:
    """The variables the paper's weight decay applies to: those the official layout names
    `.../kernel` (every convolution and the head), not GroupNorm's gamma and beta nor the
    head's bias, as big_vision decays them (`.*/kernel`)."""
    return [v for key, v in official_variables(model).items() if key.endswith("/kernel")]


def recipe(config: PretrainConfig, out=print) -> Recipe:
    """BiT's upstream recipe for `config`'s model and data, as the loop's recipe.

    Raises:
        ValueError: a model, weights or data flag that cannot work.
    """
    check_model(config)
    source = load_data(config, out)
    crop = config.crop or upstream.CROP
    eval_resize = round(crop * data.EVAL_RESIZE_RATIO)
    steps, warmup = resolve_schedule(config, source.train_size)
    lr = upstream.learning_rate(config.batch_size, config.base_lr)
    head_bias = losses.SIGMOID_HEAD_BIAS if source.multi_label else 0.0
    clip_norm = config.clip_norm or None
    if config.schedule == "paper":
        decays = upstream.paper_schedule(steps, warmup).decay_steps
        shape = f"x0.1 after {list(decays)}"
    else:
        shape = "cosine decay to 0"

    def optimizer(learning_rate):
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=upstream.MOMENTUM)

    def write_outputs(model, logdir):
        path = os.path.join(logdir, NPZ_FILE)
        save_official_weights(model, path)
        return [path]

    loss_name = "sigmoid" if source.multi_label else "softmax"
    resolved = {
        "train_size": source.train_size,
        "test_size": source.test_size,
        "num_classes": source.num_classes,
        "multi_label": source.multi_label,
        "loss": f"{loss_name} cross-entropy",
        "head_bias": head_bias,
        "crop": crop,
        "eval_resize": eval_resize,
        "steps": steps,
        "warmup_steps": warmup,
        "schedule": config.schedule,
        "learning_rate": lr,
        "weight_decay": config.weight_decay,
        "clip_norm": clip_norm,
        "momentum": upstream.MOMENTUM,
    }
    return Recipe(
        kind="Pre-training",
        settings=(
            f"{source.train_size} train / {source.test_size} test examples, "
            f"{source.num_classes} classes ({loss_name} cross-entropy"
            f"{', head bias -10' if head_bias else ''}); Inception crops at {crop}, evaluation "
            f"at {eval_resize} then centre {crop}; {steps} steps (warm-up {warmup}, {shape}); "
            f"lr {lr:g} at batch {config.batch_size}; weight decay {config.weight_decay:g}; "
            f"gradient norm clipped at {clip_norm if clip_norm else 'none'}"
        ),
        total_steps=steps,
        learning_rate=learning_rate_schedule(config.schedule, lr, steps, warmup),
        # Going on from weights with a head of these classes keeps it; another is new.
        build_model=lambda: build_model(
            config, source.num_classes, crop, out, new_head=False, head_bias=head_bias
        ),
        optimizer=optimizer,
        # Inception crops (`resize=None`); no MixUp upstream.
        train_dataset=training_data(
            source.train_examples, config, resize=None, crop=crop, num_classes=source.num_classes
        ),
        eval_dataset=evaluation_data(source, crop, eval_resize),
        eval_size=source.test_size,
        metric=metric_for(source.multi_label),
        loss=losses.for_data(source.multi_label),
        weight_decay=config.weight_decay,
        decayed=kernels,
        clip_norm=clip_norm,
        record={"resolved": resolved, "class_names": list(source.class_names)},
        write_outputs=write_outputs,
    )
