r"""VTAB-1k with BiT-HyperRule: fine-tunes one model on each of the 19 tasks and scores it.

Example (all 19 tasks, one run each; downloads the checkpoint and 17 data sets: RESISC45 and
Diabetic Retinopathy are manual downloads, the program says where their files go):
    bit-vtab --model=BiT-M-R50x1 --logdir=/tmp/vtab_r50x1

The paper's protocol, three runs per task (seeds 0, 1, 2), on some tasks only:
    bit-vtab --model=BiT-M-R50x1 --logdir=/tmp/vtab_r50x1 --runs=3 \
        --tasks=caltech101,structured

Score big_transfer's published VTAB checkpoints as they are (no training):
    bit-vtab --model=BiT-M-R50x1 --logdir=/tmp/vtab_published --evaluate_only \
        --checkpoints=published --runs=3

Every task's run is a bit-train run in LOGDIR/TASK/runN (with its report); LOGDIR holds the
tables: vtab.json, vtab.md, vtab.png and index.html. Restarting the same command resumes:
finished tasks are read back, a stopped one resumes from its last checkpoint. Flags:
--helpfull.
"""

from __future__ import annotations

import dataclasses

from bit_keras.programs.recipe_program import run_training
from bit_keras.programs.runner import start
from bit_keras.programs.shared_flags import define_config_flags, print_line
from bit_keras.training.config import check_model
from bit_keras.training.logdir import check_logdir
from bit_keras.vtab.config import VtabConfig, missing_checkpoints

PROGRAM = "bit-vtab"

# One flag per VtabConfig field; the shared fields' help is shared_flags.py's.
_FLAGS = define_config_flags(
    VtabConfig,
    {
        "model": "The model to fine-tune: a published model (BiT-M-R50x1) or an architecture "
        "(R50x1, with --weights). With --evaluate_only: the name the tables carry (and whose "
        "checkpoints --checkpoints=published reads).",
        "logdir": "One bit-train run per task and run (TASK/runN), and the tables.",
        "tasks": "Comma-separated VTAB-1k tasks or groups (natural, specialized, structured). "
        "Default: all 19.",
        "runs": "Runs per task, seeds --seed, --seed+1, ... (the paper: the mean of 3).",
        "base_lr": "Learning rate at batch 512, scaled linearly to --batch_size (BiT: 0.003).",
        "steps": "Steps per task (rule: 500; fewer stretch its schedule: a quick look, not "
        "the paper's numbers).",
        "crop": "Crop and evaluation size of every task (rule: 128 below 96x96 px, else 480).",
        "resize": "Resize before the random crop (rule: 160/512).",
        "seed": "Seed of the first run (run N: seed + N).",
        "evaluate_only": "Score the checkpoints --checkpoints names on each task's test split; "
        "no training.",
        "checkpoints": "With --evaluate_only: a path or URL with {task} and {run} "
        "(/ckpts/{task}-{run}.npz), or `published` for big_transfer's VTAB checkpoints of "
        "--model.",
    },
)


def _check() -> tuple[VtabConfig]:
    config = VtabConfig(**{name: holder.value for name, holder in _FLAGS.items()})
    first = config.task_config(config.selected[0], 0)
    check_logdir(dataclasses.replace(first, logdir=config.logdir))
    if config.evaluate_only:
        missing = missing_checkpoints(config)
        if missing:
            raise ValueError(missing)
    else:
        check_model(first)
    return (config,)


def _work(config: VtabConfig) -> None:
    from bit_keras.vtab.suite import evaluate_vtab, run_vtab

    if config.evaluate_only:
        evaluate_vtab(config, out=print_line)
    else:
        run_vtab(config, out=print_line)


def main() -> None:
    """The `bit-vtab` command (and tools/vtab.py)."""
    start(__name__, lambda: run_training(PROGRAM, _check, _work), required=["logdir"])
