r"""Distills a teacher BiT into a student by function matching.

The student learns the frozen teacher's function: both see the same Inception crop, flip and
MixUp at every step, and the loss is the KL divergence between their softmaxes (Beyer et al.,
"Knowledge distillation: A good teacher is patient and consistent", CVPR 2022; big_vision's
defaults). No labels are needed (a folder of images without class sub-folders works); where
there are labels, the student's and the teacher's test accuracy and their top-1 agreement are
measured. Checkpoints, Ctrl-C/SIGTERM, exact resume, TensorBoard and the report as bit-train.

Example (offline: an R26x1 teacher fine-tuned on digits, then an R14x1 student of it):
    bit-train --model=R26x1 --weights=none --dataset=digits \
        --logdir=/tmp/bit_digits_teacher --batch_size=64 --base_lr=0.24 --steps=300 \
        --resize=16 --crop=16 --norandom_flip
    bit-distill --teacher=/tmp/bit_digits_teacher/model.keras \
        --model=R14x1 --dataset=digits --logdir=/tmp/bit_digits_student --batch_size=64 \
        --steps=600 --norandom_flip

A BiT-M-R152x2 fine-tuned on your data, into an R50x1, on your images (labels not needed):
    bit-distill --teacher=/runs/r152x2/model.keras --model=R50x1 \
        --dataset=folder:/data/unlabelled --logdir=/runs/r50x1_student --batch_size=512
"""

from __future__ import annotations

from bit_keras.programs.recipe_program import run_recipe
from bit_keras.programs.shared_flags import define_config_flags
from bit_keras.training.distillation import DistillConfig

# One flag per DistillConfig field (tests/training/test_distillation.py holds it).
_FLAGS = define_config_flags(
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


def main() -> None:
    """The `bit-distill` command (and tools/distill.py)."""
    run_recipe("bit-distill", __name__, DistillConfig, _FLAGS, _distill)
