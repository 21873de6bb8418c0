import keras
import numpy as np
import pytest

from bit_keras.training import hyperrule
from bit_keras.training.hyperrule import BiTLearningRate, Schedule


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((95, 95), (160, 128)),
        ((96, 96), (512, 480)),
        ((32, 32), (160, 128)),
        ((95, 97), (160, 128)),
        ((96, 97), (512, 480)),
        ((500, 375), (512, 480)),
    ],
)
def test_resolution_boundary(size, expected):
    assert hyperrule.resolution(size) == expected


@pytest.mark.parametrize(
    ("examples", "expected"),
    [
        (1, Schedule(500, 100, (200, 300, 400))),
        (19_999, Schedule(500, 100, (200, 300, 400))),
        (20_000, Schedule(10_000, 500, (3_000, 6_000, 9_000))),
        (499_999, Schedule(10_000, 500, (3_000, 6_000, 9_000))),
        (500_000, Schedule(20_000, 500, (6_000, 12_000, 18_000))),
    ],
)
def test_schedule_boundaries(examples, expected):
    assert hyperrule.schedule(examples) == expected


@pytest.mark.parametrize(("examples", "alpha"), [(19_999, 0.0), (20_000, 0.1), (1_281_167, 0.1)])
def test_mixup_boundary(examples, alpha):
    assert hyperrule.mixup_alpha(examples) == alpha


def test_learning_rate_scales_with_batch():
    assert hyperrule.base_learning_rate(512) == pytest.approx(0.003)
    assert hyperrule.base_learning_rate(128) == pytest.approx(0.00075)
    assert hyperrule.base_learning_rate(64, base_lr=0.8) == pytest.approx(0.1)


# Steps are 0-based: step s is the (s+1)-th update. Warm-up is linear from 0; the rate drops by
# 10x after each boundary step, as big_transfer's get_lr.
SMALL = Schedule(500, 100, (200, 300, 400))
LARGE = Schedule(20_000, 500, (6_000, 12_000, 18_000))
CASES = [
    (SMALL, 0, 0.0),
    (SMALL, 50, 0.0015),
    (SMALL, 99, 0.003 * 99 / 100),
    (SMALL, 100, 0.003),
    (SMALL, 200, 0.003),
    (SMALL, 201, 0.0003),
    (SMALL, 300, 0.0003),
    (SMALL, 301, 0.00003),
    (SMALL, 401, 0.000003),
    (SMALL, 499, 0.000003),
    (LARGE, 250, 0.0015),
    (LARGE, 6_001, 0.0003),
    (LARGE, 12_001, 0.00003),
    (LARGE, 19_999, 0.000003),
]


@pytest.mark.parametrize(("sched", "step", "lr"), CASES)
def test_learning_rate_at_warmup_decays_and_end(sched, step, lr):
    assert hyperrule.learning_rate(step, 0.003, sched) == pytest.approx(lr, rel=1e-9, abs=1e-15)
    keras_lr = BiTLearningRate.from_schedule(0.003, sched)(step)
    assert float(keras_lr) == pytest.approx(lr, rel=1e-5, abs=1e-12)


def test_keras_schedule_serializes():
    schedule = BiTLearningRate(0.1, 10, (20, 30))
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    steps = np.arange(40)
    np.testing.assert_allclose(
        [float(restored(s)) for s in steps], [float(schedule(s)) for s in steps]
    )


def test_scaled_schedule():
    assert SMALL.scaled(250) == Schedule(250, 50, (100, 150, 200))
    with pytest.raises(ValueError):
        SMALL.scaled(0)


def test_bad_schedule():
    with pytest.raises(ValueError, match="ascending"):
        Schedule(100, 10, (50, 20))
    with pytest.raises(ValueError):
        hyperrule.schedule(0)
