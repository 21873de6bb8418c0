"""One replica's training step: a recipe's loss, gradient accumulation, clipping, one update."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import tensorflow as tf

from bit_keras.training.losses import softmax_cross_entropy

# A recipe's loss: (model, images, targets) -> per-example losses (B,), float32.
LossFn = Callable[[keras.Model, tf.Tensor, tf.Tensor], tf.Tensor]


def make_replica_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    *,
    global_batch: int,
    loss: LossFn = softmax_cross_entropy,
    weight_decay: float = 0.0,
    decayed: Sequence[keras.Variable] = (),
    clip_norm: float | None = None,
    batch_split: int = 1,
    jit_compile: bool = False,
) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """Returns `step(images, targets) -> loss`, the step every recipe runs on every replica.

    The loss is `loss(model, images, targets)` summed and divided by `global_batch`, so that
    the replicas' gradients add up to the global batch's mean. With `batch_split` > 1 the
    replica batch is cut in that many parts whose gradients are added before the one update
    (gradient accumulation). Mixed-precision loss scaling is the optimizer's
    (`keras.optimizers.LossScaleOptimizer`).

    Args:
        model: The model trained.
        optimizer: Built on `model.trainable_variables`.
        global_batch: Images in one step over all replicas.
        loss: The recipe's per-example loss; softmax cross-entropy by default.
        weight_decay: L2 weight decay of the `decayed` variables: the gradient of
            `weight_decay / 2 * sum(v ** 2)`, `weight_decay * v`, is added to theirs once per
            step over all replicas (not part of the returned loss).
        decayed: The variables to decay (a subset of `model.trainable_variables`).
        clip_norm: Clip the step's gradient (over all replicas, after accumulation) to this
            global norm.
        batch_split: Parts of a replica batch; must divide it.
        jit_compile: Compile the forward and backward pass with XLA.

    Returns:
        The step. It returns this replica's share of the mean loss over the global batch (the
        sum over replicas is the global batch's mean loss).
    """

    decayed_ids = {id(v) for v in decayed} if weight_decay else set()

    def gradients(images, targets):
        with tf.GradientTape() as tape:
            per_example = loss(model, images, targets)
            data_loss = tf.reduce_sum(per_example) / global_batch  # over the global batch
            scaled = optimizer.scale_loss(data_loss)
        grads = tape.gradient(scaled, model.trainable_variables)
        if decayed_ids:
            # The penalty's gradient, added directly: nothing for the tape to differentiate.
            # Every replica and micro-batch adds its share, so the step counts it once.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            share = weight_decay / (replicas * batch_split)
            grads = [
                g + optimizer.scale_loss(share * v.value) if id(v) in decayed_ids else g
                for g, v in zip(grads, model.trainable_variables, strict=True)
            ]
        return data_loss, grads

    gradients = tf.function(gradients, jit_compile=jit_compile, autograph=False)

    def replica_step(images, targets):
        total_loss, total_grads = 0.0, None
        for images_i, targets_i in zip(
            tf.split(images, batch_split), tf.split(targets, batch_split), strict=True
        ):
            loss_i, grads = gradients(images_i, targets_i)
            total_loss += loss_i
            total_grads = (
                grads
                if total_grads is None
                else [a + g for a, g in zip(total_grads, grads, strict=True)]
            )
        if clip_norm is not None:
            total_grads = _clipped(total_grads, clip_norm, optimizer)
        optimizer.apply_gradients(zip(total_grads, model.trainable_variables, strict=True))
        return total_loss

    return replica_step


def _clipped(grads: list[tf.Tensor], clip_norm: float, optimizer) -> list[tf.Tensor]:
    # Keras' own `global_clipnorm` clips each replica's share before the optimizer sums the
    # shares, so under several replicas it bounds the wrong vector. The norm here is that of
    # the sum over replicas (an extra all-reduce), and each share is scaled by the same
    # factor, so that the optimizer's sum is the clipped global gradient.
    context = tf.distribute.get_replica_context()
    summed = context.all_reduce(tf.distribute.ReduceOp.SUM, grads) if context else grads
    norm = tf.linalg.global_norm([tf.cast(g, tf.float32) for g in summed])
    # Under loss scaling the gradients carry the scale; the bound is on the true gradient.
    loss_scale = getattr(optimizer, "dynamic_scale", None)
    if loss_scale is not None:
        norm = norm / tf.cast(loss_scale, tf.float32)
    # Gradients that overflowed (inf or NaN) stay non-finite after the scaling (inf * 0 is
    # NaN), so the loss-scale optimizer still skips the step and lowers its scale.
    factor = tf.minimum(1.0, clip_norm / norm)
    return [g * tf.cast(factor, g.dtype) for g in grads]
