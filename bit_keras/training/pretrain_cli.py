"""The `bit-pretrain` program: absl flags in, one call to `bit_keras.training.pretrain`.

Run it as `bit-pretrain` (installed with the package) or `python tools/pretrain.py`; see the
module docstring of tools/pretrain.py for examples. Every flag is a `PretrainConfig` field and
takes its default from there (the paper's values, `upstream.py`).
"""

from __future__ import annotations

from bit_keras.training import upstream
from bit_keras.training.pretraining import PretrainConfig
from bit_keras.training.program import define_flags, run_program

# One flag per PretrainConfig field (tests/training/test_pretrain_cli.py holds it).
_FLAGS = define_flags(
    PretrainConfig,
    {
        "model": "Architecture (R50x1, ..., R152x4; R14x1, R26x1 for small runs), or a "
        "published model to go on from.",
        "weights": "`none` (from scratch), `default` (a published model's checkpoint), or a "
        "weights file to go on from (.npz, .safetensors, .keras, .weights.h5, or an "
        "hf-hub:ORG/NAME repository): the body strictly, a head of "
        "the data's classes kept, another replaced by a new one.",
        "steps": "Total steps (instead of --epochs).",
        "crop": "Inception-crop size; evaluation resizes the shorter side to 256/224 of it "
        "and centre-crops.",
        "base_lr": "Learning rate per 256 images, scaled linearly to --batch_size (paper: 0.03).",
        "weight_decay": "L2 weight decay on the kernels (paper: 1e-4; 0: none).",
        "clip_norm": "Clip the gradient's global norm (big_vision: 1.0; 0: no clipping).",
        "schedule": "`paper` (x0.1 after 30, 60, 80 of 90 epochs) or `cosine` (big_vision).",
        "epochs": "Passes over the training split (default 90, the paper's; or --steps).",
        "warmup_steps": "Linear warm-up steps (default: the paper's 5,000 at batch 4,096, "
        "as many images at other batches, at most a fifth of the run).",
    },
    choices={"schedule": upstream.SCHEDULES},
)


def _pretrain():
    from bit_keras.training.pretraining import pretrain

    return pretrain


def run() -> None:
    """Entry point of the `bit-pretrain` console command (and of tools/pretrain.py)."""
    run_program("bit-pretrain", PretrainConfig, _FLAGS, _pretrain)
