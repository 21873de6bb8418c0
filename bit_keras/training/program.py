"""What `bit-train` and `bit-pretrain` share: the run's flags and running a recipe's program.

Each program defines its flags once, from its config class (`TrainConfig`,
`PretrainConfig`): one flag per field with the field's default, the shared fields' help from
here, the recipe's own from the program. Flags are parsed and the config is checked before
TensorFlow loads (in ~0.2 s); then one call into the library runs the recipe.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable

from absl import app, flags

from bit_keras._runtime.tf_logs import quiet_tensorflow
from bit_keras.data.names import check_dataset_name
from bit_keras.training.config import (
    IMAGE_CHECKS,
    MIXED_PRECISION,
    STRATEGIES,
    RunConfig,
    check_model,
)
from bit_keras.training.interrupts import (
    TrainingDivergedError,
    TrainingInterrupted,
    UndecodableImageError,
)
from bit_keras.training.logdir import check_logdir
from bit_keras.training.run_lock import RunLock, is_chief_process

# Help of the fields every run has (`RunConfig`).
_RUN_HELP = {
    "model": "Published model (BiT-M-R50x1, ...) or architecture (R50x1, R14x1).",
    "weights": "`default` (the official checkpoint), `none`, or a weights file to transfer "
    "from: an official-layout .npz, timm's model.safetensors (or its folder, or an "
    "hf-hub:ORG/NAME[@REVISION] repository), a run's model.keras, a .weights.h5 (with any head; "
    "the body loads strictly, the head is new, as BiT transfers).",
    "dataset": "A TFDS name (cifar10), `folder:PATH`, `csv:PATH` (a manifest of image paths "
    "and labels), or `digits` (built in).",
    "data_dir": "TFDS data folder (prepared data works offline).",
    "download": "Download and prepare a TFDS data set on first use; --nodownload makes it an "
    "error.",
    "skip_bad_images": "Leave out files of a folder: or csv: data set that are not images or "
    "do not decode (default: list them, stop).",
    "image_check": "How the files of a folder: or csv: data set are checked: `decode` each "
    "one once before training (verdicts kept in the logdir), or read their `header` only (for "
    "very large data sets; a training file that does not decode is then named when training "
    "meets it, and ends the run with a checkpoint, or is skipped with --skip_bad_images).",
    "logdir": "Checkpoints, TensorBoard logs and the final model.",
    "overwrite": "Delete the run already in --logdir (checkpoints, logs, model) and start over "
    "there.",
    "batch_size": "Global batch size.",
    "steps": "Total steps.",
    "crop": "Training crop and evaluation size.",
    "random_flip": "Random left-right flips (BiT's); --norandom_flip for digits, text.",
    "strategy": "tf.distribute strategy.",
    "tpu": "TPU address (`local` on a TPU VM).",
    "mixed_precision": "Mixed-precision policy (weight standardization stays in float32).",
    "jit_compile": "Compile the train step with XLA.",
    "eval_every": "Evaluate every N steps (and at the end).",
    "checkpoint_every": "Checkpoint every N steps. Default: every tenth of the run, and at "
    "least every 10 minutes on one worker. Ctrl-C or SIGTERM also checkpoint (at the current "
    "step) before exiting.",
    "batch_split": "Micro-batches per batch (gradients accumulated).",
    "seed": "Seed of the new weights and of the data order.",
    "log_every": "TensorBoard scalars every N steps.",
    "report": "Write LOGDIR/report.html at the end (--noreport: not; tools/report.py LOGDIR "
    "writes it later from the run's files).",
}


def define_flags(
    config_class: type[RunConfig],
    help_texts: dict[str, str],
    choices: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, flags.FlagHolder]:
    """Defines one flag per field of `config_class`, with the field's default.

    Args:
        config_class: `TrainConfig`, `PretrainConfig`, ...
        help_texts: Help of the recipe's own fields, and of shared fields it words its own way.
        choices: The values of the recipe's own string fields that take one of a few.

    Returns:
        Field name to flag holder, in field order (`config_from_flags` reads them).
    """
    texts = {**_RUN_HELP, **help_texts}
    choices = {
        "strategy": STRATEGIES,
        "image_check": IMAGE_CHECKS,
        "mixed_precision": tuple(p for p in MIXED_PRECISION if p),
        **(choices or {}),
    }
    holders = {}
    for field in dataclasses.fields(config_class):
        name = field.name
        default = None if field.default is dataclasses.MISSING else field.default
        kind = field.type.replace(" | None", "")
        text = texts[name]
        if name in choices:
            holders[name] = flags.DEFINE_enum(name, default, list(choices[name]), text)
        elif kind == "bool":
            holders[name] = flags.DEFINE_boolean(name, default, text)
        elif kind == "int":
            lower = 1 if name in ("batch_size",) else None
            holders[name] = flags.DEFINE_integer(name, default, text, lower_bound=lower)
        elif kind == "float":
            holders[name] = flags.DEFINE_float(name, default, text)
        elif kind == "str":
            holders[name] = flags.DEFINE_string(name, default, text)
        else:
            raise TypeError(f"No flag type for field {name!r} of type {field.type!r}.")
    return holders


def run_program(
    program: str,
    config_class: type[RunConfig],
    holders: dict[str, flags.FlagHolder],
    entry: Callable[[], Callable],
) -> None:
    """Runs a training program: parses the flags, checks the config, calls `entry()(config)`.

    `entry` returns the library function (`train`, `pretrain`); it is imported only after the
    flags and the config are checked, so that flag errors come before TensorFlow loads.
    Errors in flags, data and files end the program with one line and status 1; Ctrl-C and
    SIGTERM end it with 130 and 143 after the loop has saved a checkpoint and said where.
    """
    flags.mark_flag_as_required("logdir")
    # `--help` lists the flags key to the main module; these are defined here, not there.
    for holder in holders.values():
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[holder.name])

    def main(argv: list[str]) -> None:
        if len(argv) > 1:
            raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
        try:
            config = config_class(**{name: holder.value for name, holder in holders.items()})
        except ValueError as e:
            sys.exit(f"{program}: error: {e}")
        try:
            # Names and files first, in well under a second: TensorFlow is not loaded yet.
            check_model(config)
            check_dataset_name(config.dataset, config.data_dir)
            check_logdir(config)
            # The lock first: a second run on the logdir fails before TensorFlow loads.
            with RunLock(config.logdir, enabled=is_chief_process()):
                quiet_tensorflow()
                run = entry()  # TensorFlow loads only now
                run(config, out=lambda line: print(line, flush=True))
        except (ValueError, OSError, TrainingDivergedError, UndecodableImageError) as e:
            sys.exit(f"{program}: error: {e}")
        except TrainingInterrupted as e:
            sys.exit(e.exit_status)  # the loop has said where it saved
        except KeyboardInterrupt:
            print(f"{program}: interrupted before a checkpoint could be saved.", file=sys.stderr)
            sys.exit(130)

    app.run(main)
