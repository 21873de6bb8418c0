"""BiT's upstream (pre-training) recipe as small pure functions: learning rate, warm-up, schedule.

Kolesnikov et al., Big Transfer (BiT), Section 3.1, https://arxiv.org/abs/1912.11370: a
ResNet-v2 with GroupNorm and weight standardization trained with SGD (momentum 0.9) at an
initial learning rate of 0.03 per 256 images, weight decay 1e-4, batch 4,096, a linear
warm-up of 5,000 steps, and the rate cut tenfold after 30, 60 and 80 of 90 epochs.
big_vision's BiT configs (configs/bit_i1k.py, configs/bit_i21k.py) decay the rate on a
cosine instead and clip the gradient's global norm to 1.0. `pretraining.py` builds the
recipe from these; `bit-pretrain` takes its flag defaults from `config.PretrainConfig`.
"""

from __future__ import annotations

import math

from bit_keras.training.hyperrule import DECAY_FACTOR, Schedule

# Paper, Section 3.1.
BASE_LR = 0.03  # per 256 images, scaled linearly with the batch
BASE_BATCH = 256
BATCH_SIZE = 4096
WEIGHT_DECAY = 1e-4  # an L2 penalty on the kernels (convolutions and head), not on GN or biases
MOMENTUM = 0.9
CROP = 224  # Inception-style random crops of 224 x 224
EPOCHS = 90
DECAY_EPOCHS = (30, 60, 80)  # x0.1 after each, of 90 epochs
WARMUP_STEPS = 5_000  # at batch 4,096
# big_vision's BiT configs clip the gradient's global norm (`grad_clip_norm`).
CLIP_NORM = 1.0
# The paper's warm-up, 5,000 steps of the 28,151 of 90 ILSVRC-2012 epochs at batch 4,096,
# is 18% of that run; shorter runs warm up for at most a fifth of their steps, so that the
# warm-up ends before the first decay (a third of the run) in every schedule.
MAX_WARMUP_FRACTION = 0.2
SCHEDULES = ("paper", "cosine")


def learning_rate(batch_size: int, base_lr: float = BASE_LR) -> float:
    """`base_lr` (per 256 images) scaled linearly to the global batch size."""
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be positive. Received: batch_size={batch_size}")
    return base_lr * batch_size / BASE_BATCH


def total_steps(train_size: int, batch_size: int, epochs: float) -> int:
    """Steps of `epochs` passes over `train_size` examples at `batch_size` (rounded up)."""
    if train_size < 1 or batch_size < 1 or not epochs > 0:
        raise ValueError(
            "`train_size`, `batch_size` and `epochs` must be positive. Received: "
            f"train_size={train_size}, batch_size={batch_size}, epochs={epochs}"
        )
    return max(1, math.ceil(epochs * train_size / batch_size))


def warmup_steps(batch_size: int, steps: int) -> int:
    """The paper's warm-up, 5,000 steps at batch 4,096 (the same number of images at any
    batch), capped at `MAX_WARMUP_FRACTION` of a run of `steps`."""
    by_images = round(WARMUP_STEPS * BATCH_SIZE / batch_size)
    return min(by_images, int(steps * MAX_WARMUP_FRACTION))


def paper_schedule(steps: int, warmup: int) -> Schedule:
    """Warm-up, then x0.1 after 30, 60 and 80 of 90 parts of the run (the paper's epochs)."""
    decays = tuple(round(steps * epoch / EPOCHS) for epoch in DECAY_EPOCHS)
    return Schedule(steps, warmup, decays)


def schedule_learning_rate(kind: str, step: int, base_lr: float, steps: int, warmup: int) -> float:
    """The learning rate at `step` (0-based) under schedule `kind`, in Python, for logs and
    tests: linear warm-up from 0, then the paper's steps or a cosine decay to 0."""
    if kind not in SCHEDULES:
        raise ValueError(f"`schedule` must be one of {SCHEDULES}. Received: {kind!r}")
    if step < warmup:
        return base_lr * step / warmup
    if kind == "paper":
        decays = paper_schedule(steps, warmup).decay_steps
        return base_lr * DECAY_FACTOR ** sum(step > boundary for boundary in decays)
    progress = min(step - warmup, steps - warmup) / max(1, steps - warmup)
    return base_lr * 0.5 * (1 + math.cos(math.pi * progress))
