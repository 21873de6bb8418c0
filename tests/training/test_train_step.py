"""bit-train's replica step (also the benchmark's): the loss falls; accumulation is exact."""

import keras
import numpy as np
import tensorflow as tf

import bit_keras
from bit_keras.training.train_step import make_replica_step


def _setup(seed=0):
    keras.utils.set_random_seed(seed)
    model = bit_keras.create_model("R14x1", weights=None, classes=3, input_shape=(32, 32, 3))
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(seed)
    images = tf.constant(rng.uniform(-1, 1, (4, 32, 32, 3)).astype("float32"))
    labels = tf.one_hot([0, 1, 2, 0], 3)
    return model, optimizer, images, labels


def test_loss_falls_on_a_fixed_batch():
    model, optimizer, images, labels = _setup()
    step = tf.function(make_replica_step(model, optimizer, global_batch=4))
    losses = [float(step(images, labels)) for _ in range(6)]
    assert abs(losses[0] - np.log(3)) < 1e-5  # zero-initialised head: uniform logits
    assert losses[-1] < losses[0]


def test_batch_split_gives_the_same_update():
    results = []
    for split in (1, 2):
        model, optimizer, images, labels = _setup()
        step = tf.function(make_replica_step(model, optimizer, global_batch=4, batch_split=split))
        loss = float(step(images, labels))
        results.append((loss, [v.numpy() for v in model.trainable_variables]))
    (loss_1, weights_1), (loss_2, weights_2) = results
    assert abs(loss_1 - loss_2) < 1e-6
    for a, b in zip(weights_1, weights_2, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
