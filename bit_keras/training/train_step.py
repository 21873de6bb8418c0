"""One replica's training step: softmax cross-entropy, gradient accumulation, one update."""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf


def make_replica_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    *,
    global_batch: int,
    batch_split: int = 1,
    jit_compile: bool = False,
) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """Returns `step(images, labels) -> loss`, the step bit-train runs on every replica.

    The loss is the softmax cross-entropy of the logits against (MixUp-mixed) one-hot labels,
    summed and divided by `global_batch`, so that the replicas' gradients add up to the
    global batch's mean. With `batch_split` > 1 the replica batch is cut in that many parts
    whose gradients are added before the one update (gradient accumulation). Mixed-precision
    loss scaling is the optimizer's (`keras.optimizers.LossScaleOptimizer`).

    Args:
        model: Returns logits.
        optimizer: Built on `model.trainable_variables`.
        global_batch: Images in one step over all replicas.
        batch_split: Parts of a replica batch; must divide it.
        jit_compile: Compile the forward and backward pass with XLA.
    """

    def gradients(images, labels):
        with tf.GradientTape() as tape:
            logits = tf.cast(model(images, training=True), tf.float32)
            per_example = tf.nn.softmax_cross_entropy_with_logits(labels, logits)
            loss = tf.reduce_sum(per_example) / global_batch  # averaged over the global batch
            scaled = optimizer.scale_loss(loss)
        return loss, tape.gradient(scaled, model.trainable_variables)

    gradients = tf.function(gradients, jit_compile=jit_compile)

    def replica_step(images, labels):
        total_loss, total_grads = 0.0, None
        for images_i, labels_i in zip(
            tf.split(images, batch_split), tf.split(labels, batch_split), strict=True
        ):
            loss, grads = gradients(images_i, labels_i)
            total_loss += loss
            total_grads = (
                grads
                if total_grads is None
                else [a + g for a, g in zip(total_grads, grads, strict=True)]
            )
        optimizer.apply_gradients(zip(total_grads, model.trainable_variables, strict=True))
        return total_loss

    return replica_step
