"""BiT-HyperRule: the one fixed fine-tuning recipe of BiT, as small pure functions.

Kolesnikov et al., Big Transfer (BiT), Section 3.3, https://arxiv.org/abs/1912.11370, and
big_transfer's bit_hyperrule.py. Every value can be overridden by the caller. `settings`
applies the whole rule to a training set; `bit-train` (`config.resolve`) and Keras' `fit`
(`fit.fit_recipe`) both take their numbers from it.
"""

from __future__ import annotations

import dataclasses

from bit_keras._runtime.lazy_names import lazy_names

# Images with an area below 96x96 are resized to 160 and cropped to 128; larger ones are
# resized to 512 and cropped to 480.
SMALL_IMAGE_AREA = 96 * 96
SMALL_RESOLUTION = (160, 128)
LARGE_RESOLUTION = (512, 480)
# Dataset-size thresholds of the schedule and of MixUp.
SMALL_DATASET = 20_000
MEDIUM_DATASET = 500_000
MIXUP_ALPHA = 0.1
# SGD with momentum 0.9, learning rate 0.003 at batch 512, scaled linearly; no weight decay.
MOMENTUM = 0.9
BASE_LR = 0.003
BASE_BATCH = 512
DECAY_FACTOR = 0.1


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A BiT schedule: linear warm-up, then steps down by `DECAY_FACTOR` at each boundary.

    Attributes:
        total_steps: Training steps.
        warmup_steps: Steps of linear warm-up from 0 to the base learning rate.
        decay_steps: Steps after which the learning rate is multiplied by 0.1.
    """

    total_steps: int
    warmup_steps: int
    decay_steps: tuple[int, ...]

    def __post_init__(self):
        steps = (self.warmup_steps, *self.decay_steps, self.total_steps)
        if self.total_steps < 1 or self.warmup_steps < 0 or list(steps) != sorted(steps):
            raise ValueError(
                "A schedule needs 0 <= warmup_steps <= decay_steps (ascending) <= total_steps "
                f"and total_steps >= 1. Received: {self}"
            )

    def scaled(self, total_steps: int) -> Schedule:
        """The same shape of schedule stretched or shrunk to `total_steps`."""
        if total_steps < 1:
            raise ValueError(f"`total_steps` must be positive. Received: {total_steps}")
        ratio = total_steps / self.total_steps
        return Schedule(
            total_steps,
            round(self.warmup_steps * ratio),
            tuple(round(s * ratio) for s in self.decay_steps),
        )


def resolution(image_size: tuple[int, int]) -> tuple[int, int]:
    """(resize, crop) sizes for a dataset whose images are `image_size` = (height, width)."""
    height, width = image_size
    return SMALL_RESOLUTION if height * width < SMALL_IMAGE_AREA else LARGE_RESOLUTION


def schedule(dataset_size: int) -> Schedule:
    """The training schedule for a training set of `dataset_size` examples."""
    if dataset_size < 1:
        raise ValueError(f"`dataset_size` must be positive. Received: {dataset_size}")
    if dataset_size < SMALL_DATASET:
        return Schedule(500, 100, (200, 300, 400))
    if dataset_size < MEDIUM_DATASET:
        return Schedule(10_000, 500, (3_000, 6_000, 9_000))
    return Schedule(20_000, 500, (6_000, 12_000, 18_000))


def mixup_alpha(dataset_size: int) -> float:
    """MixUp's alpha: 0.1 from 20,000 training examples up, no MixUp (0.0) below."""
    return MIXUP_ALPHA if dataset_size >= SMALL_DATASET else 0.0


def base_learning_rate(global_batch_size: int, base_lr: float = BASE_LR) -> float:
    """`base_lr` (given for batch 512) scaled linearly to the global batch size."""
    if global_batch_size < 1:
        raise ValueError(f"`global_batch_size` must be positive. Received: {global_batch_size}")
    return base_lr * global_batch_size / BASE_BATCH


def learning_rate(step: int, base_lr: float, sched: Schedule) -> float:
    """The learning rate at `step` (0-based), in Python, for logs and tests."""
    if step < sched.warmup_steps:
        return base_lr * step / sched.warmup_steps
    return base_lr * DECAY_FACTOR ** sum(step > boundary for boundary in sched.decay_steps)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What BiT-HyperRule resolves a training set and a batch size to, after any overrides.

    Attributes:
        batch_size: Global batch size.
        resize: Images are resized to `resize` x `resize` ...
        crop: ... then randomly cropped to `crop` x `crop`; also the evaluation size.
        schedule: Steps of warm-up, decay and in all.
        mixup_alpha: MixUp's alpha (0.0: no MixUp).
        learning_rate: The learning rate after warm-up, scaled to `batch_size`.
    """

    batch_size: int
    resize: int
    crop: int
    schedule: Schedule
    mixup_alpha: float
    learning_rate: float

    @property
    def steps(self) -> int:
        """Training steps in all."""
        return self.schedule.total_steps


_rule_mixup_alpha = mixup_alpha  # `settings` has an argument of that name


def settings(
    train_size: int,
    image_size: tuple[int, int],
    batch_size: int,
    *,
    base_lr: float = BASE_LR,
    steps: int | None = None,
    resize: int | None = None,
    crop: int | None = None,
    mixup_alpha: float | None = None,
) -> Settings:
    """BiT-HyperRule for a training set, with optional overrides (None: the rule's value).

    Args:
        train_size: Examples in the training set.
        image_size: (height, width) of its images.
        batch_size: Global batch size.
        base_lr: Learning rate at batch 512, scaled linearly to `batch_size`.
        steps: Total steps; the rule's schedule is stretched or shrunk to it.
        resize: Resize before the random crop (at least `crop`).
        crop: Training crop and evaluation size; alone, it also caps the rule's crop.
        mixup_alpha: MixUp's alpha.
    """
    rule_resize, rule_crop = resolution(image_size)
    crop = crop or (rule_crop if resize is None else min(rule_crop, resize))
    resize = resize or max(rule_resize, crop)
    if crop > resize:
        raise ValueError(f"`crop` ({crop}) must not exceed `resize` ({resize}).")
    sched = schedule(train_size)
    if steps is not None:
        sched = sched.scaled(steps)
    return Settings(
        batch_size=batch_size,
        resize=resize,
        crop=crop,
        schedule=sched,
        mixup_alpha=_rule_mixup_alpha(train_size) if mixup_alpha is None else mixup_alpha,
        learning_rate=base_learning_rate(batch_size, base_lr),
    )


# The Keras schedule lives beside the rule, so that the rule itself (and the bit-train flags
# built on it) loads without Keras and TensorFlow.
__getattr__, _ = lazy_names(globals(), {"BiTLearningRate": "bit_keras.training.lr_schedule"})
