"""A training recipe's program (`bit-train`, `bit-pretrain`, `bit-distill`): one flag per field
of its config, checked before TensorFlow loads, then one call of the recipe's library function.
"""

from __future__ import annotations

from collections.abc import Callable

from absl import flags

from bit_keras.data.names import check_dataset_name
from bit_keras.programs.runner import run, start
from bit_keras.training.config import RunConfig, check_model
from bit_keras.training.interrupts import (
    DamagedFileError,
    TrainingDivergedError,
    UndecodableImageError,
    WorkerLostError,
)
from bit_keras.training.logdir import check_logdir
from bit_keras.training.run_lock import RunLock, is_chief_process


def run_recipe(
    program: str,
    module: str,
    config_class: type[RunConfig],
    holders: dict[str, flags.FlagHolder],
    entry: Callable[[], Callable],
) -> None:
    """Parses the flags, checks the config, then calls `entry()(config)`: the `main` of the
    program module `module` (its docstring is the program's `--help`).

    `entry` returns the library function (`train`, `pretrain`, `distill`); it is imported only
    after the config is checked, so that flag errors come before TensorFlow loads. The run's
    lock on its logdir is taken before TensorFlow loads too: a second run on it fails at once.
    Errors in flags, data and files end the program with one line and status 1; Ctrl-C and
    SIGTERM end it with 130 and 143 after the loop has saved a checkpoint and said where.
    """

    def check() -> tuple[RunConfig]:
        config = config_class(**{name: holder.value for name, holder in holders.items()})
        check_model(config)
        check_dataset_name(config.dataset, config.data_dir)
        check_logdir(config)
        return (config,)

    def work(config: RunConfig) -> None:
        entry()(config, out=lambda line: print(line, flush=True))

    start(module, lambda: run_training(program, check, work), required=["logdir"])


def run_training(program: str, check: Callable[[], tuple], work: Callable[..., object]) -> None:
    """`runner.run` for a program that trains (`config.logdir` is `check()`'s one result): the
    run's lock taken before TensorFlow loads, its lines live, the training loop's errors as one
    line, and its interrupts' exit statuses."""
    run(
        program,
        check,
        work,
        errors=(TrainingDivergedError, UndecodableImageError, DamagedFileError, WorkerLostError),
        guard=lambda config: RunLock(config.logdir, enabled=is_chief_process()),
        hold_stderr=False,
        interrupted="interrupted before a checkpoint could be saved.",
    )
