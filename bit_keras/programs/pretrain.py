r"""Pre-trains a BiT with BiT's upstream recipe.

Example (the README's pre-training example: offline, a small BiT from scratch on the built-in
digits; prints the test accuracy and where the model and its official-layout .npz went):
    bit-pretrain --model=R14x1 --dataset=digits --logdir=/tmp/bit_digits_pretrain \
        --batch_size=64 --base_lr=0.4 --steps=300 --crop=16 --norandom_flip --jit_compile

Then fine-tune from it (bit-train's --weights takes the run's model.keras or model.npz):
    bit-train --model=R14x1 --weights=/tmp/bit_digits_pretrain/model.keras ...

BiT-S-R50x1 as the paper trains it, on ILSVRC-2012 (TFDS: prepare imagenet2012 first):
    bit-pretrain --model=R50x1 --dataset=imagenet2012 --logdir=/tmp/bit_s_r50x1

Restarting the same command resumes from the last checkpoint in --logdir. Flags: --helpfull.
"""

from __future__ import annotations

from bit_keras.programs.recipe_program import run_recipe
from bit_keras.programs.shared_flags import define_config_flags
from bit_keras.training import upstream
from bit_keras.training.pretraining import PretrainConfig

# One flag per PretrainConfig field (tests/training/test_pretrain_cli.py holds it).
_FLAGS = define_config_flags(
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


def main() -> None:
    """The `bit-pretrain` command (and tools/pretrain.py)."""
    run_recipe("bit-pretrain", __name__, PretrainConfig, _FLAGS, _pretrain)
