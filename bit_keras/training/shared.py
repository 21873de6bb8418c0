"""What the recipes share: the data set and its pipelines, the model and its weights, the
schedules measured in steps or epochs, the decayed kernels and the official-layout output.

Each recipe module (`finetuning`, `pretraining`, `distillation`, or one of your own) builds
itself from these; no recipe imports another.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from bit_keras import data
from bit_keras._runtime import files
from bit_keras.checkpoint import load_weights, save_official_weights
from bit_keras.checkpoint.layout import official_variables
from bit_keras.data.image_check import VERDICTS_FILE
from bit_keras.models import layer_names
from bit_keras.pretrained.builder import create_model, weights_path
from bit_keras.training import upstream
from bit_keras.training.config import RunConfig, weights_flag
from bit_keras.training.logdir import WORKERS_DIR
from bit_keras.training.lr_schedule import BiTLearningRate
from bit_keras.training.run_lock import is_chief_process, process_name

NPZ_FILE = "model.npz"


def training_data(
    examples: Callable[[], data.Examples],
    config: RunConfig,
    *,
    resize: int | None,
    crop: int,
    num_classes: int,
    mixup_alpha: float = 0.0,
) -> Callable[[tf.distribute.InputContext | None, int, int], tf.data.Dataset]:
    """A recipe's `train_dataset`: `data.train_dataset` batches of `examples()` with the run's
    seed and flips (`resize` None: Inception crops)."""

    def train_dataset(context, batch_size, start_step):
        return data.train_dataset(
            examples(),
            batch_size=batch_size,
            resize=resize,
            crop=crop,
            num_classes=num_classes,
            mixup_alpha=mixup_alpha,
            seed=config.seed,
            start_step=start_step,
            random_flip=config.random_flip,
            input_context=context,
            data_service=config.data_service,
        )

    return train_dataset


def evaluation_data(
    source: data.DataSource, crop: int, resize_shorter: int | None = None
) -> Callable[[tf.distribute.InputContext | None, int], tf.data.Dataset]:
    """A recipe's `eval_dataset`: the source's test split as `data.eval_dataset` batches it."""

    def eval_dataset(context, batch_size):
        return data.eval_dataset(
            source.test,
            size=source.test_size,
            batch_size=batch_size,
            crop=crop,
            resize_shorter=resize_shorter,
            input_context=context,
        )

    return eval_dataset


def load_data(config: RunConfig, out, *, unlabelled: bool = False) -> data.DataSource:
    """The run's data set; says which files were left out (`skip_bad_images`). Every worker
    checks every image (all must leave out the same files) and keeps its verdicts: the chief
    in the logdir, the others in their own folders there. `unlabelled`: a folder of images
    without class sub-folders is taken (labels -1), for recipes that need no labels."""
    source = data.load_source(
        config.dataset,
        config.data_dir,
        download=config.download,
        skip_bad_images=config.skip_bad_images,
        image_check=config.image_check,
        verdicts_file=_verdicts_file(config.logdir),
        out=out,
        unlabelled=unlabelled,
    )
    if source.skipped_files:
        out(
            f"Left out {len(source.skipped_files)} file(s) that are not images or do not "
            f"decode (--skip_bad_images): {', '.join(source.skipped_files[:5])}"
            + (" ..." if len(source.skipped_files) > 5 else "")
        )
    return source


def _verdicts_file(logdir: str) -> str:
    if is_chief_process():
        return files.join(logdir, VERDICTS_FILE)
    return files.join(logdir, WORKERS_DIR, process_name(), VERDICTS_FILE)


def build_model(
    config: RunConfig,
    num_classes: int,
    crop: int,
    out,
    *,
    new_head: bool,
    head_bias: float = 0.0,
) -> keras.Model:
    """The model to train: `config.model` with a head of `num_classes` and the weights of
    `config.weights` (the body strictly), which the run is told.

    Args:
        config: The run.
        num_classes: Classes of the head.
        crop: The input size.
        out: Where the line saying what was loaded goes.
        new_head: Start a new zero-initialised head even where the file's head fits (BiT's
            transfer); otherwise a fitting head is loaded and only another size is replaced.
        head_bias: The new head's bias starts here (big_vision's -10 for a sigmoid loss).
    """
    path = weights_path(config.model, weights_flag(config))
    model = create_model(
        config.model, weights=None, classes=num_classes, input_shape=(crop, crop, 3)
    )
    head_is_new = True
    if path is None:
        out("Weights: none (random initialisation).")
    else:
        loaded = load_weights(model, path, new_head=new_head)
        head_is_new = not loaded.head_loaded
        out(f"Weights: {loaded.description}.")
    if head_bias and head_is_new:
        bias = model.get_layer(layer_names.HEAD).bias
        bias.assign(np.full(bias.shape, head_bias, np.float32))
        out(f"The new head's bias starts at {head_bias:g}.")
    return model


def resolve_schedule(config, train_size: int, default_epochs: float) -> tuple[int, int]:
    """(total steps, warm-up steps) of a run measured in `steps` or `epochs` on
    `train_size` examples: `config.steps`, else its `epochs` (`default_epochs` when None);
    the warm-up is `config.warmup_steps`, else the BiT paper's 5,000 steps at batch 4,096
    (big_vision's distillation configs take the same), at most a fifth of the run."""
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
    """The Keras schedule of `upstream.schedule_learning_rate`: linear warm-up, then the
    paper's steps (`paper`) or a cosine decay to 0 (`cosine`)."""
    if kind == "paper":
        return BiTLearningRate.from_schedule(base_lr, upstream.paper_schedule(steps, warmup))
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, steps - warmup), warmup_target=base_lr, warmup_steps=warmup
    )


def kernels(model: keras.Model) -> list[keras.Variable]:
    """The variables weight decay applies to: those the official layout names
    `.../kernel` (every convolution and the head), not GroupNorm's gamma and beta nor the
    head's bias, as big_vision decays them (`.*/kernel`)."""
    return [v for key, v in official_variables(model).items() if key.endswith("/kernel")]


def write_official_weights(model: keras.Model, logdir: str) -> list[str]:
    """A recipe's `write_outputs`: `LOGDIR/model.npz`, the model in the official BiT layout
    (which the official code, timm and big_vision read)."""
    path = os.path.join(logdir, NPZ_FILE)
    save_official_weights(model, path)
    return [path]


def lower_lr_advice(config) -> str:
    """A recipe's `advice`: a lower `base_lr`, in the program's words."""
    return f"Try a lower --base_lr (now {config.base_lr:g})"
