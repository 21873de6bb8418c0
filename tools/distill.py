r"""Distills a teacher BiT into a student by function matching (`bit-distill`).

The student learns the frozen teacher's function: both see the same Inception crop, flip and
MixUp at every step, and the loss is the KL divergence between their softmaxes (Beyer et al.,
"Knowledge distillation: A good teacher is patient and consistent", CVPR 2022; big_vision's
defaults). No labels are needed (a folder of images without class sub-folders works); where
there are labels, the student's and the teacher's test accuracy and their top-1 agreement are
measured. Checkpoints, Ctrl-C/SIGTERM, exact resume, TensorBoard and the report as bit-train.

Example (offline: an R26x1 teacher fine-tuned on digits, then an R14x1 student of it):
    .venv/bin/python tools/train.py --model=R26x1 --weights=none --dataset=digits \
        --logdir=/tmp/bit_digits_teacher --batch_size=64 --base_lr=0.24 --steps=300 \
        --resize=16 --crop=16 --norandom_flip
    .venv/bin/python tools/distill.py --teacher=/tmp/bit_digits_teacher/model.keras \
        --model=R14x1 --dataset=digits --logdir=/tmp/bit_digits_student --batch_size=64 \
        --steps=600 --norandom_flip

A BiT-M-R152x2 fine-tuned on your data, into an R50x1, on your images (labels not needed):
    python tools/distill.py --teacher=/runs/r152x2/model.keras --model=R50x1 \
        --dataset=folder:/data/unlabelled --logdir=/runs/r50x1_student --batch_size=512
"""

from __future__ import annotations

from bit_keras.training.distill_cli import run

if __name__ == "__main__":
    run()
