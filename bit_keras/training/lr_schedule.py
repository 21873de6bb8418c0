"""BiT-HyperRule's learning-rate schedule as a Keras schedule (`hyperrule.BiTLearningRate`)."""

from __future__ import annotations

import keras
from keras import ops

from bit_keras.training.hyperrule import DECAY_FACTOR, Schedule


@keras.saving.register_keras_serializable(package="bit_keras")
class BiTLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """BiT's learning-rate schedule as a Keras schedule: the values of `hyperrule.learning_rate`.

    Args:
        base_lr: Learning rate after warm-up.
        warmup_steps: Steps of linear warm-up from 0.
        decay_steps: Steps after which the rate is multiplied by `decay_factor`.
        decay_factor: 0.1 in BiT.
    """

    def __init__(
        self,
        base_lr: float,
        warmup_steps: int,
        decay_steps: tuple[int, ...],
        decay_factor: float = DECAY_FACTOR,
    ):
        self.base_lr = float(base_lr)
        self.warmup_steps = int(warmup_steps)
        self.decay_steps = tuple(int(s) for s in decay_steps)
        self.decay_factor = float(decay_factor)

    @classmethod
    def from_schedule(cls, base_lr: float, sched: Schedule) -> BiTLearningRate:
        return cls(base_lr, sched.warmup_steps, sched.decay_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        decays = sum(ops.cast(step > boundary, "float32") for boundary in self.decay_steps)
        rate = self.base_lr * ops.power(self.decay_factor, decays)
        if self.warmup_steps:
            warm = self.base_lr * step / self.warmup_steps
            rate = ops.where(step < self.warmup_steps, warm, rate)
        return rate

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "warmup_steps": self.warmup_steps,
            "decay_steps": list(self.decay_steps),
            "decay_factor": self.decay_factor,
        }
