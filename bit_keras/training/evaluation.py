"""How a recipe measures its model: named sums per batch, per-example outputs, a headline.

The loop runs an `Evaluation` on every replica over the recipe's evaluation split: it adds
up each sum over the split and divides it by the examples evaluated (`test_<name>`), and in
the run's final evaluation it also gathers the per-example outputs of every replica (and
thumbnails of the first examples `show` picks), which the run report draws from. The loop
knows no metric by name; a classifier's evaluation is `classification`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf


class Measured(NamedTuple):
    """What an evaluation returns for one batch on one replica.

    Attributes:
        sums: Name to a scalar: a sum over the batch's real examples (mask 1); the loop
            reports `sum over the split / examples` as `test_<name>`.
        examples: Name to a per-example tensor (B, ...) of the batch (fillers included; the
            loop leaves out those with mask 0), gathered in the final evaluation.
    """

    sums: dict[str, tf.Tensor]
    examples: dict[str, tf.Tensor]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Evaluation:
    """A recipe's evaluation, as the loop runs it.

    Attributes:
        batch: `(model, images, labels, mask) -> Measured`, on one replica's batch; it may
            call other models the recipe built (a teacher).
        headline: The sum that measures the run (`accuracy`): `test_<headline>` is the run's
            metric, first in its lines.
        words: The headline in words (`test accuracy`).
        show: `per-example arrays (NumPy) -> bool mask` of the examples whose images the
            report shows (a classifier's mistakes); None: none.
    """

    batch: Callable[[keras.Model, tf.Tensor, tf.Tensor, tf.Tensor], Measured]
    headline: str
    words: str
    show: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None

    @property
    def metric(self) -> str:
        """The key of the run's metric in its results (`test_accuracy`)."""
        return f"test_{self.headline}"


def top1(model: keras.Model, images) -> tf.Tensor:
    """The model's top-1 class ids (B,), int64."""
    return tf.argmax(model(images, training=False), axis=-1)


def hits(predicted: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """(B,) float32: 1 where `predicted` is among the labels: single-label labels (B,), or
    multi-label ones (B, L) padded with -1."""
    labels = tf.reshape(labels, [tf.shape(labels)[0], -1])
    predicted = tf.cast(predicted, labels.dtype)
    return tf.cast(tf.reduce_any(tf.equal(labels, predicted[:, None]), axis=-1), tf.float32)


def mistakes(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The examples whose top-1 prediction is none of their labels (`show` of a classifier)."""
    labels = arrays["labels"].reshape(len(arrays["labels"]), -1)
    return ~(labels == arrays["predicted"][:, None]).any(axis=1)


def classification(multi_label: bool = False) -> Evaluation:
    """Top-1 accuracy, or for multi-label data precision@1 (big_vision's metric for
    ImageNet-21k: whether the highest-scoring class is one of the image's labels).

    Per example it keeps the labels and the top-1 prediction (the report's confusion matrix
    and per-class accuracy) and shows the mistakes.
    """
    name = "precision_at_1" if multi_label else "accuracy"

    def batch(model, images, labels, mask):
        predicted = top1(model, images)
        return Measured(
            sums={name: tf.reduce_sum(hits(predicted, labels) * mask)},
            examples={"labels": labels, "predicted": tf.cast(predicted, labels.dtype)},
        )

    words = "test precision@1" if multi_label else "test accuracy"
    return Evaluation(batch=batch, headline=name, words=words, show=mistakes)
