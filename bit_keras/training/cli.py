"""The `bit-train` program: absl flags in, one call to `bit_keras.training.train`.

Run it as `bit-train` (installed with the package) or `python tools/train.py`; see the
module docstring of tools/train.py for examples.
"""

from __future__ import annotations

import sys

from absl import app, flags

from bit_keras.training import hyperrule
from bit_keras.training.strategy import STRATEGIES

_MODEL = flags.DEFINE_string(
    "model", "BiT-M-R50x1", "Published model (BiT-M-R50x1, ...) or architecture (R50x1, R14x1)."
)
_WEIGHTS = flags.DEFINE_string(
    "weights", "default", "`default` (the official checkpoint), `none`, or a weights file."
)
_DATASET = flags.DEFINE_string(
    "dataset", "digits", "A TFDS name (cifar10), `folder:PATH`, or `digits` (built in)."
)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data folder (prepared data works offline).")
_LOGDIR = flags.DEFINE_string("logdir", None, "Checkpoints, TensorBoard logs and the final model.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 512, "Global batch size.", lower_bound=1)
_BASE_LR = flags.DEFINE_float(
    "base_lr", hyperrule.BASE_LR, "Learning rate at batch 512, scaled linearly to --batch_size."
)
_STEPS = flags.DEFINE_integer("steps", None, "Total steps (the rule's schedule, stretched).")
_RESIZE = flags.DEFINE_integer("resize", None, "Resize before the random crop (rule: 160/512).")
_CROP = flags.DEFINE_integer("crop", None, "Crop and evaluation size (rule: 128/480).")
_EXAMPLES_PER_CLASS = flags.DEFINE_integer(
    "examples_per_class", None, "Few-shot: train on exactly K examples of each class."
)
_EXAMPLES_PER_CLASS_SEED = flags.DEFINE_integer(
    "examples_per_class_seed", 0, "Seed of the few-shot draw."
)
_MIXUP_ALPHA = flags.DEFINE_float("mixup_alpha", None, "MixUp alpha (rule: 0.1 from 20k examples).")
_RANDOM_FLIP = flags.DEFINE_boolean(
    "random_flip", True, "Random left-right flips (BiT's); --norandom_flip for digits, text."
)
_STRATEGY = flags.DEFINE_enum("strategy", "auto", STRATEGIES, "tf.distribute strategy.")
_TPU = flags.DEFINE_string("tpu", None, "TPU address (`local` on a TPU VM).")
_MIXED_PRECISION = flags.DEFINE_enum(
    "mixed_precision", None, ["mixed_float16", "mixed_bfloat16"], "Mixed-precision policy."
)
_JIT_COMPILE = flags.DEFINE_boolean("jit_compile", False, "Compile the train step with XLA.")
_EVAL_EVERY = flags.DEFINE_integer("eval_every", None, "Evaluate every N steps (and at the end).")
_CHECKPOINT_EVERY = flags.DEFINE_integer("checkpoint_every", 1000, "Checkpoint every N steps.")
_BATCH_SPLIT = flags.DEFINE_integer("batch_split", 1, "Micro-batches per batch (accumulated).")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the new weights and of the data order.")
_LOG_EVERY = flags.DEFINE_integer("log_every", 10, "TensorBoard scalars every N steps.")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bit_keras.training import TrainConfig, train

    try:
        config = TrainConfig(
            model=_MODEL.value,
            weights=_WEIGHTS.value,
            dataset=_DATASET.value,
            data_dir=_DATA_DIR.value,
            logdir=_LOGDIR.value,
            batch_size=_BATCH_SIZE.value,
            base_lr=_BASE_LR.value,
            steps=_STEPS.value,
            resize=_RESIZE.value,
            crop=_CROP.value,
            examples_per_class=_EXAMPLES_PER_CLASS.value,
            examples_per_class_seed=_EXAMPLES_PER_CLASS_SEED.value,
            mixup_alpha=_MIXUP_ALPHA.value,
            random_flip=_RANDOM_FLIP.value,
            strategy=_STRATEGY.value,
            tpu=_TPU.value,
            mixed_precision=_MIXED_PRECISION.value,
            jit_compile=_JIT_COMPILE.value,
            eval_every=_EVAL_EVERY.value,
            checkpoint_every=_CHECKPOINT_EVERY.value,
            batch_split=_BATCH_SPLIT.value,
            seed=_SEED.value,
            log_every=_LOG_EVERY.value,
        )
        train(config, out=lambda line: print(line, flush=True))
    except (ValueError, OSError) as e:
        sys.exit(f"bit-train: error: {e}")


def run() -> None:
    """Entry point of the `bit-train` console command."""
    flags.mark_flag_as_required("logdir")
    app.run(main)
