"""The `bit-train` program: absl flags in, one call to `bit_keras.training.train`.

Run it as `bit-train` (installed with the package) or `python tools/train.py`; see the
module docstring of tools/train.py for examples. Every flag is a `TrainConfig` field and takes
its default from there.
"""

from __future__ import annotations

import dataclasses
import sys

from absl import app, flags

from bit_keras.training.config import MIXED_PRECISION, STRATEGIES, TrainConfig
from bit_keras.training.interrupts import TrainingInterrupted

# Flag defaults are TrainConfig's; a field without one (`logdir`) is a required flag.
_DEFAULTS = {
    field.name: None if field.default is dataclasses.MISSING else field.default
    for field in dataclasses.fields(TrainConfig)
}

_MODEL = flags.DEFINE_string(
    "model",
    _DEFAULTS["model"],
    "Published model (BiT-M-R50x1, ...) or architecture (R50x1, R14x1).",
)
_WEIGHTS = flags.DEFINE_string(
    "weights",
    _DEFAULTS["weights"],
    "`default` (the official checkpoint), `none`, or a weights file.",
)
_DATASET = flags.DEFINE_string(
    "dataset", _DEFAULTS["dataset"], "A TFDS name (cifar10), `folder:PATH`, or `digits` (built in)."
)
_DATA_DIR = flags.DEFINE_string(
    "data_dir", _DEFAULTS["data_dir"], "TFDS data folder (prepared data works offline)."
)
_DOWNLOAD = flags.DEFINE_boolean(
    "download",
    _DEFAULTS["download"],
    "Download and prepare a TFDS data set on first use; --nodownload makes it an error.",
)
_SKIP_BAD_IMAGES = flags.DEFINE_boolean(
    "skip_bad_images",
    _DEFAULTS["skip_bad_images"],
    "Leave out files of a folder: data set that are not images (default: list them, stop).",
)
_LOGDIR = flags.DEFINE_string(
    "logdir", _DEFAULTS["logdir"], "Checkpoints, TensorBoard logs and the final model."
)
_OVERWRITE = flags.DEFINE_boolean(
    "overwrite",
    _DEFAULTS["overwrite"],
    "Delete the run already in --logdir (checkpoints, logs, model) and start over there.",
)
_BATCH_SIZE = flags.DEFINE_integer(
    "batch_size", _DEFAULTS["batch_size"], "Global batch size.", lower_bound=1
)
_BASE_LR = flags.DEFINE_float(
    "base_lr", _DEFAULTS["base_lr"], "Learning rate at batch 512, scaled linearly to --batch_size."
)
_STEPS = flags.DEFINE_integer(
    "steps", _DEFAULTS["steps"], "Total steps (the rule's schedule, stretched)."
)
_RESIZE = flags.DEFINE_integer(
    "resize", _DEFAULTS["resize"], "Resize before the random crop (rule: 160/512)."
)
_CROP = flags.DEFINE_integer("crop", _DEFAULTS["crop"], "Crop and evaluation size (rule: 128/480).")
_EXAMPLES_PER_CLASS = flags.DEFINE_integer(
    "examples_per_class",
    _DEFAULTS["examples_per_class"],
    "Few-shot: train on exactly K examples of each class.",
)
_EXAMPLES_PER_CLASS_SEED = flags.DEFINE_integer(
    "examples_per_class_seed", _DEFAULTS["examples_per_class_seed"], "Seed of the few-shot draw."
)
_MIXUP_ALPHA = flags.DEFINE_float(
    "mixup_alpha", _DEFAULTS["mixup_alpha"], "MixUp alpha (rule: 0.1 from 20k examples)."
)
_RANDOM_FLIP = flags.DEFINE_boolean(
    "random_flip",
    _DEFAULTS["random_flip"],
    "Random left-right flips (BiT's); --norandom_flip for digits, text.",
)
_STRATEGY = flags.DEFINE_enum(
    "strategy", _DEFAULTS["strategy"], STRATEGIES, "tf.distribute strategy."
)
_TPU = flags.DEFINE_string("tpu", _DEFAULTS["tpu"], "TPU address (`local` on a TPU VM).")
_MIXED_PRECISION = flags.DEFINE_enum(
    "mixed_precision",
    _DEFAULTS["mixed_precision"],
    [p for p in MIXED_PRECISION if p],
    "Mixed-precision policy.",
)
_JIT_COMPILE = flags.DEFINE_boolean(
    "jit_compile", _DEFAULTS["jit_compile"], "Compile the train step with XLA."
)
_EVAL_EVERY = flags.DEFINE_integer(
    "eval_every", _DEFAULTS["eval_every"], "Evaluate every N steps (and at the end)."
)
_CHECKPOINT_EVERY = flags.DEFINE_integer(
    "checkpoint_every",
    _DEFAULTS["checkpoint_every"],
    "Checkpoint every N steps. Default: every tenth of the run, and at least every 10 minutes "
    "on one worker. Ctrl-C or SIGTERM also checkpoint (at the current step) before exiting.",
)
_BATCH_SPLIT = flags.DEFINE_integer(
    "batch_split", _DEFAULTS["batch_split"], "Micro-batches per batch (accumulated)."
)
_SEED = flags.DEFINE_integer(
    "seed", _DEFAULTS["seed"], "Seed of the new weights and of the data order."
)
_LOG_EVERY = flags.DEFINE_integer(
    "log_every", _DEFAULTS["log_every"], "TensorBoard scalars every N steps."
)

# Every flag above, one per TrainConfig field (tests/training/test_cli.py holds it).
_RUN_FLAGS = (
    _MODEL,
    _WEIGHTS,
    _DATASET,
    _DATA_DIR,
    _DOWNLOAD,
    _SKIP_BAD_IMAGES,
    _LOGDIR,
    _OVERWRITE,
    _BATCH_SIZE,
    _BASE_LR,
    _STEPS,
    _RESIZE,
    _CROP,
    _EXAMPLES_PER_CLASS,
    _EXAMPLES_PER_CLASS_SEED,
    _MIXUP_ALPHA,
    _RANDOM_FLIP,
    _STRATEGY,
    _TPU,
    _MIXED_PRECISION,
    _JIT_COMPILE,
    _EVAL_EVERY,
    _CHECKPOINT_EVERY,
    _BATCH_SPLIT,
    _SEED,
    _LOG_EVERY,
)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    try:
        config = TrainConfig(**{holder.name: holder.value for holder in _RUN_FLAGS})
    except ValueError as e:
        sys.exit(f"bit-train: error: {e}")
    # TensorFlow loads only now, after the flags and the config are checked (in ~0.2 s).
    from bit_keras.training.finetuning import train

    try:
        train(config, out=lambda line: print(line, flush=True))
    except (ValueError, OSError) as e:
        sys.exit(f"bit-train: error: {e}")
    except TrainingInterrupted as e:
        sys.exit(e.exit_status)  # the loop has said where it saved
    except KeyboardInterrupt:
        print("bit-train: interrupted before a checkpoint could be saved.", file=sys.stderr)
        sys.exit(130)


def run() -> None:
    """Entry point of the `bit-train` console command (and of tools/train.py)."""
    flags.mark_flag_as_required("logdir")
    # `--help` lists the flags key to the main module; these are defined here, not there.
    for holder in _RUN_FLAGS:
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[holder.name])
    app.run(main)
