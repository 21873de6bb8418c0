"""The recipes' losses, chosen by the data: softmax for one label, sigmoid for several.

Each takes `(model, images, targets)` and returns per-example losses (B,) in float32, as
`train_step.make_replica_step` sums them; the targets are one-hot (MixUp-mixed) or multi-hot.
"""

from __future__ import annotations

import keras
import tensorflow as tf

# big_vision's ImageNet-21k pre-training (configs/bit_i21k.py, `init_head_bias`) starts the
# head's bias at -10 under the sigmoid loss: every class starts near probability 0
# (sigmoid(-10) = 4.5e-5), as nearly all of 21,843 classes are absent from any one image.
SIGMOID_HEAD_BIAS = -10.0


def softmax_cross_entropy(model: keras.Model, images, targets) -> tf.Tensor:
    """Softmax cross-entropy of the model's logits against (mixed) one-hot targets."""
    logits = tf.cast(model(images, training=True), tf.float32)
    return tf.nn.softmax_cross_entropy_with_logits(targets, logits)


def sigmoid_cross_entropy(model: keras.Model, images, targets) -> tf.Tensor:
    """Sigmoid cross-entropy summed over the classes (big_vision's `sigmoid_xent`)."""
    logits = tf.cast(model(images, training=True), tf.float32)
    per_class = tf.nn.sigmoid_cross_entropy_with_logits(targets, logits)
    return tf.reduce_sum(per_class, axis=-1)


def for_data(multi_label: bool):
    """The loss for single-label (softmax) or multi-label (sigmoid) data."""
    return sigmoid_cross_entropy if multi_label else softmax_cross_entropy
