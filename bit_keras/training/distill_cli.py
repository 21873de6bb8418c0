"""The `bit-distill` program: absl flags in, one call to `bit_keras.training.distill`.

Run it as `bit-distill` (installed with the package) or `python tools/distill.py`; see the
module docstring of tools/distill.py for examples. Every flag is a `DistillConfig` field and
takes its default from there (big_vision's, `function_matching.py`).
"""

from __future__ import annotations

from bit_keras.training.distillation import DistillConfig
from bit_keras.training.program import define_flags, run_program

# One flag per DistillConfig field (tests/training/test_distillation.py holds it).
_FLAGS = define_flags(
    DistillConfig,
    {
        "model": "The student: an architecture (R50x1, ...; R14x1, R26x1 for small runs), or a "
        "published model to start from.",
        "weights": "`none` (from scratch, big_vision's), `default` (a published model's "
        "checkpoint), or a weights file to start the student from.",
        "teacher": "The model whose function the student learns: a published name, an "
        "official .npz, a run's model.keras, timm's layout or hf-hub:ORG/NAME. Frozen.",
        "batch_size": "Global batch size (big_vision: 4096).",
        "steps": "Total steps (instead of --epochs).",
        "crop": "Inception-crop size of both models (default: the teacher's resolution, else "
        "224); evaluation resizes the whole image to it.",
        "base_lr": "Adam's learning rate (big_vision: 0.03), as it is at any batch size.",
        "weight_decay": "Decoupled weight decay on the kernels, times the schedule "
        "(big_vision's wd: 3e-4; 0: none).",
        "clip_norm": "Clip the gradient's global norm (1.0; 0: no clipping).",
        "temperature": "Temperature of both softmaxes in the KL divergence (1.0).",
        "mixup_alpha": "MixUp on every batch, weights from Beta(alpha, alpha) (1.0).",
        "epochs": "Passes over the training split (default 1200, big_vision's; or --steps).",
        "warmup_steps": "Linear warm-up steps before the cosine decay (default: big_vision's "
        "5,000 at batch 4,096, as many images at other batches, at most a fifth of the run).",
    },
)


def _distill():
    from bit_keras.training.distillation import distill

    return distill


def run() -> None:
    """Entry point of the `bit-distill` console command (and of tools/distill.py)."""
    run_program("bit-distill", DistillConfig, _FLAGS, _distill)
