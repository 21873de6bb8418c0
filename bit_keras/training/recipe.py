"""A recipe: what one kind of training is, as data for the one training loop.

Fine-tuning (`finetuning.py`, BiT-HyperRule) and upstream pre-training (`pretraining.py`)
are recipes; `loop.run_recipe` runs any of them with the same checkpoints, interrupts, exact
resume, progress, TensorBoard logs, evaluation and run record. A recipe says what differs:
the model, the loss, the optimizer and its schedule, the input pipelines and the evaluation.
The loop knows no recipe by name.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from bit_keras import data
from bit_keras.checkpoint import load_weights
from bit_keras.models import layer_names
from bit_keras.pretrained import create_model, weights_path
from bit_keras.training.config import RunConfig, weights_flag
from bit_keras.training.losses import softmax_cross_entropy
from bit_keras.training.run_lock import is_chief_process
from bit_keras.training.train_step import LossFn


def top1_hits(model: keras.Model, images, labels, mask) -> dict[str, tf.Tensor]:
    """Counts of one evaluation batch: how many top-1 predictions are among the labels.

    For single-label data (labels (B,)) that is top-1 accuracy; for multi-label data
    (labels (B, L), class ids padded with -1) precision@1, big_vision's metric for
    ImageNet-21k: whether the highest-scoring class is one of the image's labels.
    """
    logits = model(images, training=False)
    top1 = tf.argmax(logits, axis=-1, output_type=labels.dtype)
    labels = tf.reshape(labels, [tf.shape(labels)[0], -1])
    hits = tf.reduce_any(tf.equal(labels, top1[:, None]), axis=-1)
    return {"hits": tf.reduce_sum(tf.cast(hits, tf.float32) * mask)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Recipe:
    """One kind of training, as the loop runs it.

    Attributes:
        kind: What the run does, for its lines (`Fine-tuning`, `Pre-training`).
        settings: One line of the resolved settings (after "kind model on data: ").
        total_steps: Steps of the whole run.
        learning_rate: The schedule, `step (0-based) -> rate` (a Keras schedule).
        build_model: Builds the trained model (called under the strategy's scope, once);
            loads any weights and says what it loaded through the `out` it was given.
        optimizer: `learning_rate callable -> optimizer`; the loop adds loss scaling under
            `mixed_float16`.
        train_dataset: `(input_context or None, per-replica batch, start step) -> dataset` of
            endless `(images, targets)` batches, the same batches for the same step.
        eval_dataset: `(input_context or None, per-replica batch) -> dataset` of
            `(images, labels, mask)` batches (`data.eval_dataset`).
        eval_size: Examples in the evaluation split.
        metric: Key and words of the evaluation metric (`test_accuracy`, `test accuracy`).
        loss: `(model, images, targets) -> per-example losses`.
        evaluate: `(model, images, labels, mask) -> {"hits": ...}` sums of one batch; any
            other key is a count too, reported as `test_<key>` (its sum over the split
            divided by the examples) beside the metric.
        weight_decay: L2 weight decay (its gradient, `weight_decay * v`) of the variables
            `decayed(model)` returns.
        decayed: `model -> variables` that `weight_decay` applies to.
        clip_norm: The step's gradient is clipped to this global norm (None: not clipped).
        record: What `config.json` records of the recipe (resolved settings, class names).
        write_outputs: `(model, logdir) -> paths` of files written beside `model.keras` at
            the end of the run (atomically).
    """

    kind: str
    settings: str
    total_steps: int
    learning_rate: keras.optimizers.schedules.LearningRateSchedule
    build_model: Callable[[], keras.Model]
    optimizer: Callable[[Callable[[], tf.Tensor]], keras.optimizers.Optimizer]
    train_dataset: Callable[[tf.distribute.InputContext | None, int, int], tf.data.Dataset]
    eval_dataset: Callable[[tf.distribute.InputContext | None, int], tf.data.Dataset]
    eval_size: int
    metric: tuple[str, str] = ("test_accuracy", "test accuracy")
    loss: LossFn = softmax_cross_entropy
    evaluate: Callable[..., dict[str, tf.Tensor]] = top1_hits
    weight_decay: float = 0.0
    decayed: Callable[[keras.Model], list] = lambda model: []
    clip_norm: float | None = None
    record: dict = dataclasses.field(default_factory=dict)
    write_outputs: Callable[[keras.Model, str], list[str]] = lambda model, logdir: []


def metric_for(multi_label: bool) -> tuple[str, str]:
    """The evaluation metric's key and words: top-1 accuracy, or precision@1 for multi-label
    data (both counted by `top1_hits`)."""
    if multi_label:
        return ("test_precision_at_1", "test precision@1")
    return ("test_accuracy", "test accuracy")


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
        )

    return train_dataset


def evaluation_data(
    source: data.DataSource, crop: int, resize_shorter: int | None = None
) -> Callable[[tf.distribute.InputContext | None, int], tf.data.Dataset]:
    """A recipe's `eval_dataset`: the source's test split as `data.eval_dataset` batches it."""

    def eval_dataset(context, batch_size):
        return data.eval_dataset(
            source.test(),
            size=source.test_size,
            batch_size=batch_size,
            crop=crop,
            resize_shorter=resize_shorter,
            input_context=context,
        )

    return eval_dataset


def load_data(config: RunConfig, out, *, unlabelled: bool = False) -> data.DataSource:
    """The run's data set; says which files were left out (`skip_bad_images`). The image
    check's verdicts are kept in the logdir (by the chief). `unlabelled`: a folder of images
    without class sub-folders is taken (labels -1), for recipes that need no labels."""
    source = data.load_source(
        config.dataset,
        config.data_dir,
        download=config.download,
        skip_bad_images=config.skip_bad_images,
        image_check=config.image_check,
        verdicts_file=(
            os.path.join(config.logdir, data.VERDICTS_FILE) if is_chief_process() else None
        ),
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
