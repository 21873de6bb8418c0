"""The recipes' losses, chosen by the data: softmax for one label, sigmoid for several; and
distillation's KL divergence between a student's and a teacher's softmax.

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


def kl_divergence(student_logits, teacher_logits, temperature: float = 1.0) -> tf.Tensor:
    """Per-example `t² · KL(softmax(teacher / t) ‖ softmax(student / t))`, big_vision's `kl`
    distance (the t² keeps the gradient's scale as t changes, Hinton et al. 2015).

    Args:
        student_logits: (B, K).
        teacher_logits: (B, K); no gradient flows into them.
        temperature: t.

    Returns:
        (B,) float32; zero where the two softmaxes agree.
    """
    student = tf.cast(student_logits, tf.float32) / temperature
    teacher = tf.stop_gradient(tf.cast(teacher_logits, tf.float32)) / temperature
    teacher_log_p = tf.nn.log_softmax(teacher, axis=-1)
    student_log_p = tf.nn.log_softmax(student, axis=-1)
    kl = tf.reduce_sum(tf.exp(teacher_log_p) * (teacher_log_p - student_log_p), axis=-1)
    return temperature**2 * kl


def for_data(multi_label: bool):
    """The loss for single-label (softmax) or multi-label (sigmoid) data."""
    return sigmoid_cross_entropy if multi_label else softmax_cross_entropy
