"""Distillation by function matching as small pure pieces: the defaults (the loss is
`losses.kl_divergence`; the recipe `distillation.py`). Loads no TensorFlow.

Beyer et al., "Knowledge distillation: A good teacher is patient and consistent", CVPR 2022
(https://arxiv.org/abs/2106.05237): the student learns the teacher's function, on exactly
the images the teacher sees ("consistent": the same Inception crop, flip and MixUp for both)
and for a long time ("patient"). The defaults are big_vision's ImageNet configuration of that
paper (configs/proj/distill/bit_i1k.py, trainer trainers/proj/distill/distill.py, distance
evaluators/proj/distill/distance.py, optimizer big_vision/optax.py).
"""

from __future__ import annotations

# bit_i1k.py: `batch_size = 4096`, `num_epochs = 1200` ("a good middle-ground"),
# `mixup = dict(p=1.0)` (MixUp on every batch, Beta(1, 1) weights), `distance = 'kl'` with
# `t=1.0`, `grad_clip_norm = 1.0`, `optax_name = 'scale_by_adam'` with `lr = 0.03`,
# `wd = 0.0003` and `schedule = dict(warmup_steps=5000, decay_type='cosine')`, Inception
# crops of 224 with random flips.
BATCH_SIZE = 4096
EPOCHS = 1200
MIXUP_ALPHA = 1.0
TEMPERATURE = 1.0
CLIP_NORM = 1.0
LEARNING_RATE = 0.03  # Adam's, as it is at any batch size (big_vision does not scale it)
WEIGHT_DECAY = 3e-4  # decoupled, on the kernels, times the schedule (not the learning rate)
# The warm-up, 5,000 steps at batch 4,096, is the BiT paper's too (`upstream.warmup_steps`).
CROP = 224


def adamw_weight_decay(weight_decay: float = WEIGHT_DECAY, learning_rate: float = LEARNING_RATE):
    """Keras' `AdamW(weight_decay=...)` that decays as big_vision's `wd` does.

    big_vision subtracts `wd · schedule(t) · w` per step (its schedule runs from 0 to 1);
    Keras' AdamW subtracts `weight_decay · lr(t) · w` with `lr(t) = learning_rate ·
    schedule(t)`. They agree for `weight_decay = wd / learning_rate` (0.01 by default).
    """
    return weight_decay / learning_rate if learning_rate else 0.0
