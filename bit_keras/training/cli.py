"""The `bit-train` program: absl flags in, one call to `bit_keras.training.train`.

Run it as `bit-train` (installed with the package) or `python tools/train.py`; see the
module docstring of tools/train.py for examples. Every flag is a `TrainConfig` field and takes
its default from there.
"""

from __future__ import annotations

from bit_keras.models.freezing import TRAINABLE
from bit_keras.training.finetuning import TrainConfig
from bit_keras.training.program import define_flags, run_program

# One flag per TrainConfig field (tests/training/test_cli.py holds it); the shared fields'
# help is program.py's.
_FLAGS = define_flags(
    TrainConfig,
    {
        "steps": "Total steps (the rule's schedule, stretched).",
        "crop": "Crop and evaluation size (rule: 128/480).",
        "base_lr": "Learning rate at batch 512, scaled linearly to --batch_size.",
        "resize": "Resize before the random crop (rule: 160/512).",
        "examples_per_class": "Few-shot: train on exactly K examples of each class.",
        "examples_per_class_seed": "Seed of the few-shot draw.",
        "mixup_alpha": "MixUp alpha (rule: 0.1 from 20k examples).",
        "trainable": "What trains: `all` (BiT's), `head` (a linear probe on the pre-logits), "
        "or `block1`..`block4` (that block, those after it and the head; the root and earlier "
        "blocks stay as loaded).",
    },
    choices={"trainable": TRAINABLE},
)


def _train():
    from bit_keras.training.finetuning import train

    return train


def run() -> None:
    """Entry point of the `bit-train` console command (and of tools/train.py)."""
    run_program("bit-train", TrainConfig, _FLAGS, _train)
