r"""Fine-tunes a BiT model with BiT-HyperRule.

Example (the README's main job: offline, about 2 minutes on 2 CPU cores, a small BiT
trained from scratch on the built-in digits; prints the test accuracy and the model's path):
    bit-train --model=R14x1 --weights=none --dataset=digits --logdir=/tmp/digits \
        --batch_size=64 --base_lr=0.24 --steps=300 --resize=16 --crop=16 --norandom_flip \
        --jit_compile

Fine-tune BiT-M-R50x1 on CIFAR-10 with the full rule (downloads the checkpoint and the data):
    bit-train --model=BiT-M-R50x1 --dataset=cifar10 --logdir=/tmp/cifar10

Restarting the same command resumes from the last checkpoint in --logdir. Flags: --helpfull.
"""

from __future__ import annotations

from bit_keras.models.freezing import TRAINABLE
from bit_keras.programs.recipe_program import run_recipe
from bit_keras.programs.shared_flags import define_config_flags
from bit_keras.training.finetuning import TrainConfig

# One flag per TrainConfig field (tests/training/test_cli.py holds it); the shared fields'
# help is shared_flags.py's.
_FLAGS = define_config_flags(
    TrainConfig,
    {
        "steps": "Total steps (the rule's schedule, stretched).",
        "crop": "Crop and evaluation size (rule: 128/480).",
        "base_lr": "Learning rate at batch 512, scaled linearly to --batch_size.",
        "resize": "Resize before the random crop (rule: 160/512).",
        "random_crop": "Random crops (BiT's); --norandom_crop resizes each image to --crop "
        "whole, for labels a crop changes (positions, counts).",
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


def main() -> None:
    """The `bit-train` command (and tools/train.py)."""
    run_recipe("bit-train", __name__, TrainConfig, _FLAGS, _train)
