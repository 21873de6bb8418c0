"""BiT's upstream recipe: learning rate, warm-up, schedules, weight decay, clipping, losses."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

import bit_keras
from bit_keras.training import PretrainConfig, losses, shared, upstream
from bit_keras.training.train_step import make_replica_step


def test_learning_rate_scales_linearly_from_0_03_per_256():
    assert upstream.learning_rate(4096) == pytest.approx(0.48)
    assert upstream.learning_rate(256) == pytest.approx(0.03)
    assert upstream.learning_rate(64, base_lr=0.4) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("batch", "steps", "warmup"),
    [
        (4096, 28_151, 5_000),  # the paper's ILSVRC-2012 run: 5,000 steps
        (4096, 312_000, 5_000),  # ImageNet-21k: 5,000 steps
        (1024, 200_000, 20_000),  # a quarter of the batch: as many images
        (64, 300, 60),  # short runs: a fifth of the run
        (8, 6, 1),
    ],
)
def test_warmup_is_5000_steps_at_4096_in_images_and_at_most_a_fifth(batch, steps, warmup):
    assert upstream.warmup_steps(batch, steps) == warmup


def test_ninety_epochs_of_ilsvrc_at_4096_is_the_papers_run():
    assert upstream.total_steps(1_281_167, 4096, 90) == 28_151
    config = PretrainConfig(logdir="unused", steps=None)
    assert shared.resolve_schedule(config, 1_281_167, upstream.EPOCHS) == (28_151, 5_000)
    config = PretrainConfig(logdir="unused", epochs=2, batch_size=64)
    assert shared.resolve_schedule(config, 1_438, upstream.EPOCHS) == (45, 9)


def test_paper_schedule_steps_down_after_30_60_80_of_90_epochs():
    sched = upstream.paper_schedule(900, 100)
    assert sched.decay_steps == (300, 600, 800) and sched.warmup_steps == 100
    keras_schedule = shared.learning_rate_schedule("paper", 0.5, 900, 100)
    for step, expected in [
        (0, 0.0),
        (50, 0.25),
        (100, 0.5),
        (300, 0.5),
        (301, 0.05),
        (601, 0.005),
        (801, 0.0005),
        (899, 0.0005),
    ]:
        assert upstream.schedule_learning_rate("paper", step, 0.5, 900, 100) == pytest.approx(
            expected
        )
        assert float(keras_schedule(step)) == pytest.approx(expected, rel=1e-5, abs=1e-9)


def test_cosine_schedule_is_kerass_cosine_decay_after_the_warm_up():
    keras_schedule = shared.learning_rate_schedule("cosine", 0.5, 900, 100)
    for step, expected in [(0, 0.0), (50, 0.25), (100, 0.5), (500, 0.25), (900, 0.0)]:
        assert upstream.schedule_learning_rate("cosine", step, 0.5, 900, 100) == pytest.approx(
            expected, abs=1e-9
        )
        assert float(keras_schedule(step)) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    rates = [upstream.schedule_learning_rate("cosine", s, 0.5, 900, 100) for s in range(100, 901)]
    assert all(a >= b for a, b in itertools.pairwise(rates))  # decreasing


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"steps": 10, "epochs": 2.0}, "not both"),
        ({"schedule": "linear"}, "schedule"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"steps": 10, "warmup_steps": 10}, "fewer than"),
        ({"base_lr": 0.0}, "base_lr"),
    ],
)
def test_bad_configs(overrides, message):
    with pytest.raises(ValueError, match=message):
        PretrainConfig(logdir="unused", **overrides)


def _tiny(seed=0, classes=3):
    keras.utils.set_random_seed(seed)
    model = bit_keras.create_model("R14x1", weights=None, classes=classes, input_shape=(16, 16, 3))
    for v in model.trainable_variables:  # a non-zero head, so that its kernel decays too
        v.assign(np.random.default_rng(seed).normal(0, 0.1, v.shape).astype("float32") + 0.5)
    return model


def test_weight_decay_is_an_l2_gradient_on_the_kernels_only():
    model = _tiny()
    before = {v.path: v.numpy() for v in model.trainable_variables}
    optimizer = keras.optimizers.SGD(1.0)  # no momentum: the update is the gradient
    optimizer.build(model.trainable_variables)
    step = make_replica_step(
        model,
        optimizer,
        global_batch=2,
        loss=lambda m, images, targets: tf.zeros([2]) * tf.reduce_sum(m(images)),  # no data
        weight_decay=1e-2,
        decayed=shared.kernels(model),
    )
    tf.function(step)(tf.zeros([2, 16, 16, 3]), tf.zeros([2, 3]))
    kernels = 0
    for v in model.trainable_variables:
        if v.path.endswith("kernel"):
            kernels += 1
            np.testing.assert_allclose(v.numpy(), before[v.path] * (1 - 1e-2), rtol=1e-6)
        else:  # GroupNorm's gamma and beta, the head's bias: not decayed
            np.testing.assert_array_equal(v.numpy(), before[v.path])
    assert kernels == 1 + 4 * 4 + 1  # root, 3 convs + projection per unit, head


def test_gradients_are_clipped_to_the_global_norm():
    images = tf.constant(np.random.default_rng(1).uniform(-1, 1, (4, 16, 16, 3)), tf.float32)
    targets = tf.one_hot([0, 1, 2, 0], 3)
    updates = {}
    for clip in (None, 1e-3):
        model = _tiny()
        before = [v.numpy() for v in model.trainable_variables]
        optimizer = keras.optimizers.SGD(1.0)
        optimizer.build(model.trainable_variables)
        step = make_replica_step(model, optimizer, global_batch=4, clip_norm=clip)
        tf.function(step)(images, targets)
        updates[clip] = [
            b - v.numpy() for b, v in zip(before, model.trainable_variables, strict=True)
        ]
    norm = np.sqrt(sum(np.sum(u.astype(np.float64) ** 2) for u in updates[None]))
    assert norm > 1e-2  # the test means something: this gradient is clipped
    clipped = np.sqrt(sum(np.sum(u.astype(np.float64) ** 2) for u in updates[1e-3]))
    assert clipped == pytest.approx(1e-3, rel=1e-3)
    for full, small in zip(updates[None], updates[1e-3], strict=True):
        # Same direction (to the float32 spacing of weights near 0.5, 6e-8).
        np.testing.assert_allclose(small, full * (1e-3 / norm), atol=1e-7)


def test_clipping_bounds_the_true_gradient_under_loss_scaling(mixed_float16):
    images = tf.constant(np.random.default_rng(1).uniform(-1, 1, (4, 16, 16, 3)), tf.float32)
    model = _tiny()
    before = [v.numpy() for v in model.trainable_variables]
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1.0))
    optimizer.build(model.trainable_variables)
    step = make_replica_step(model, optimizer, global_batch=4, clip_norm=1e-3)
    tf.function(step)(images, tf.one_hot([0, 1, 2, 0], 3))
    update = [b - v.numpy() for b, v in zip(before, model.trainable_variables, strict=True)]
    norm = np.sqrt(sum(np.sum(u.astype(np.float64) ** 2) for u in update))
    assert norm == pytest.approx(1e-3, rel=1e-2)  # not 1e-3 times the loss scale (32,768)


def test_sigmoid_loss_sums_over_classes_and_softmax_is_the_single_label_loss():
    model = _tiny(classes=4)
    images = tf.constant(np.random.default_rng(2).uniform(-1, 1, (2, 16, 16, 3)), tf.float32)
    targets = tf.constant([[1, 0, 1, 0], [0, 0, 0, 1]], tf.float32)
    logits = model(images, training=True).numpy().astype(np.float64)
    z = targets.numpy()
    # -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), written so that it cannot overflow.
    expected = (np.maximum(logits, 0) - logits * z + np.log1p(np.exp(-np.abs(logits)))).sum(1)
    np.testing.assert_allclose(
        losses.sigmoid_cross_entropy(model, images, targets), expected, rtol=1e-5
    )
    assert losses.for_data(True) is losses.sigmoid_cross_entropy
    assert losses.for_data(False) is losses.softmax_cross_entropy
    # The head bias big_vision starts at: every class near probability 0.
    assert 1 / (1 + np.exp(-losses.SIGMOID_HEAD_BIAS)) < 1e-4
