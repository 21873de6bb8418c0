"""BiT-HyperRule in Keras' `fit`: the recipe equals bit-train's rule, and its pieces fit.

The README's `fit` block, run as written, trains with it: test_readme_fit.py.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from bit_keras import data
from bit_keras.training import FitSettings, TrainConfig, fit_recipe, hyperrule
from bit_keras.training.finetuning import resolve
from bit_keras.training.lr_schedule import BiTLearningRate

RULE_CASES = [
    # (train size, image size, batch, overrides)
    (1_437, (8, 8), 64, {"base_lr": 0.24, "steps": 300, "resize": 16, "crop": 16}),
    (1_437, (32, 32), 512, {}),
    (50_000, (32, 32), 512, {}),
    (1_281_167, (375, 500), 4096, {}),
    (40_000, (200, 200), 128, {"crop": 224, "mixup_alpha": 0.0, "steps": 1_000}),
]


@pytest.mark.parametrize(("size", "image_size", "batch", "overrides"), RULE_CASES)
def test_recipe_is_the_loops_rule(size, image_size, batch, overrides):
    recipe = fit_recipe(size, image_size, batch, **overrides)
    config = TrainConfig(logdir="unused", batch_size=batch, **overrides)
    loop = resolve(config, size, 100, 10, image_size)
    assert (recipe.resize, recipe.crop, recipe.schedule, recipe.mixup_alpha) == (
        loop.resize,
        loop.crop,
        loop.schedule,
        loop.mixup_alpha,
    )
    assert recipe.learning_rate == loop.learning_rate
    assert recipe.batch_size == batch and recipe.steps == loop.schedule.total_steps


def test_the_optimizer_follows_the_loops_schedule_step_by_step():
    # bit-train builds its schedule from `resolve` (loop.py); the recipe's optimizer reads
    # the same schedule at `iterations`. Compare the rate of every update of the run.
    recipe = fit_recipe(1_437, (8, 8), 64, base_lr=0.24, steps=300, resize=16, crop=16)
    config = TrainConfig(
        model="R14x1", weights="none", logdir="unused", batch_size=64, base_lr=0.24, steps=300
    )
    resolved = resolve(config, 1_437, 360, 10, (8, 8))
    loop_schedule = BiTLearningRate.from_schedule(resolved.learning_rate, resolved.schedule)
    optimizer = recipe.optimizer()
    assert isinstance(optimizer, keras.optimizers.SGD) and optimizer.momentum == 0.9
    variable = keras.Variable(np.zeros(3, "float32"))
    optimizer.build([variable])
    rates, expected = [], []
    for step in range(recipe.steps):
        rates.append(float(optimizer.learning_rate))
        expected.append(float(loop_schedule(step)))
        assert float(optimizer.learning_rate) == pytest.approx(
            hyperrule.learning_rate(step, resolved.learning_rate, resolved.schedule), rel=1e-6
        )
        optimizer.apply_gradients([(np.ones(3, "float32"), variable)])
    np.testing.assert_array_equal(rates, expected)
    assert rates[0] == 0.0 and max(rates) == pytest.approx(0.24 * 64 / 512)


def test_fit_arguments_cover_the_schedule():
    recipe = fit_recipe(1_437, (32, 32), 64)
    assert recipe.fit_arguments() == {"epochs": 10, "steps_per_epoch": 50, "shuffle": False}
    assert recipe.fit_arguments(epochs=4) == {"epochs": 4, "steps_per_epoch": 125, "shuffle": False}
    with pytest.raises(ValueError, match=r"divides the 500 steps.*epochs=3"):
        recipe.fit_arguments(epochs=3)


def test_recipe_rejects_bad_settings():
    with pytest.raises(ValueError, match="global_batch_size"):
        fit_recipe(1_437, (8, 8), 0)
    with pytest.raises(ValueError, match=r"`crop` \(32\) must not exceed `resize` \(16\)"):
        fit_recipe(1_437, (8, 8), 64, resize=16, crop=32)


def test_datasets_are_fit_input():
    source = data.digits_source()
    recipe = fit_recipe(source.train_size, source.image_size, 16, steps=10, resize=20, crop=16)
    assert isinstance(recipe, FitSettings) and isinstance(recipe, hyperrule.Settings)
    images, labels = next(iter(recipe.train_dataset(source.train_examples(), 10)))
    assert images.shape == (16, 16, 16, 3) and labels.shape == (16, 10)
    assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0
    test = list(recipe.test_dataset(source.test(), 10))
    assert sum(int(x.shape[0]) for x, _ in test) == source.test_size
    first_images, first_labels = test[0]
    assert first_images.shape == (16, 16, 16, 3)
    np.testing.assert_array_equal(
        np.argmax(first_labels, -1), [int(y) for _, y in source.test().take(16)]
    )
    # The same seed gives the same batches: the recipe passes its seed through.
    again = next(iter(recipe.train_dataset(source.train_examples(), 10)))
    np.testing.assert_array_equal(again[0], images)
