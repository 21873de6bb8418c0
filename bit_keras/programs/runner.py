"""How every bit_keras program runs: its flags checked before TensorFlow loads, then one call
into the library, errors as one line, Ctrl-C and SIGTERM as normal events.

`run` is the one runner. A program passes `check` (names, files and folders: no TensorFlow
yet, so that a mistake fails in well under a second) and `work` (the library call, given what
`check` returned). Its statuses: 0 done, 1 an error (`PROGRAM: error: ...`), 130 stopped by
Ctrl-C or SIGTERM (a training run: 130 or 143, after its loop saved a checkpoint and said
where). TensorFlow's own log lines are held back unless asked for (`tf_logs.py`).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from absl import app, flags

from bit_keras._runtime.tf_logs import held_stderr, logs_wanted, quiet_tensorflow

# Exit status of a program stopped by Ctrl-C or SIGTERM (128 + SIGINT, the shell's).
INTERRUPTED_STATUS = 130


def run(
    program: str,
    check: Callable[[], tuple],
    work: Callable[..., object],
    *,
    errors: tuple[type[Exception], ...] = (),
    guard: Callable[..., AbstractContextManager] | None = None,
    hold_stderr: bool = True,
    interrupted: str = "interrupted; no half-written file was left.",
) -> None:
    """Runs `check()`, then imports TensorFlow quietly and runs `work(*checked)`.

    Args:
        program: The name its lines start with (the console command's).
        check: Checks the flags without TensorFlow; returns the arguments of `work`.
        work: The library call.
        errors: Exceptions beyond ValueError and OSError that end the program with one line.
        guard: Given what `check` returned, a context entered before TensorFlow loads and held
            while `work` runs (a training run's lock on its logdir).
        hold_stderr: Hold file descriptor 2 for the whole run and write back all but
            TensorFlow's lines at the end (the converters and LiteRT write their own there);
            False: only TensorFlow's start-up is held (a long training run's lines show live).
        interrupted: What an interrupt that says nothing of its own prints.

    SIGTERM is handled as Ctrl-C is, so that the atomic writes' clean-up runs and nothing is
    left half-written (the training loop installs its own handlers while it trains). An
    interrupt that carries an `exit_status` (`TrainingInterrupted`) has already said what it
    saved: the program exits with that status and no line of its own.
    """

    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with contextlib.nullcontext() if logs_wanted() or not hold_stderr else held_stderr():
            checked = check()
            with guard(*checked) if guard else contextlib.nullcontext():
                quiet_tensorflow()
                work(*checked)
    except KeyboardInterrupt as e:
        status = getattr(e, "exit_status", None)
        if status is not None:
            sys.exit(status)
        print(f"{program}: {str(e) or interrupted}", file=sys.stderr)
        sys.exit(INTERRUPTED_STATUS)
    except (ValueError, OSError, *errors) as e:
        sys.exit(f"{program}: error: {e}")
    finally:
        signal.signal(signal.SIGTERM, previous)


def start(
    module: str,
    body: Callable[..., None],
    *,
    required: Sequence[str] = (),
    arguments: str | None = None,
) -> None:
    """Parses the command line with absl and calls `body()`: the console command's (and the
    repository's thin `tools/` and `export/` scripts') entry.

    Args:
        module: The program module (`__name__`): `--help` shows its docstring, and its flags
            as the program's own.
        body: Runs the program (usually one call of `run`).
        required: Flags that must be given.
        arguments: The one positional argument's meaning, for a program that takes one
            (`body(argument)`); else positional arguments are an error.
    """
    # `--help` prints the main module's docstring: the program's, also under a console command
    # (whose generated main module has none) or a thin script of the repository.
    sys.modules["__main__"].__doc__ = sys.modules[module].__doc__
    for flag in flags.FLAGS.flags_by_module_dict().get(module, []):
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    flags.mark_flags_as_required(list(required))

    def main(argv: list[str]) -> None:
        if arguments is not None:
            if len(argv) != 2:
                raise app.UsageError(f"Pass one argument: {arguments}.")
            body(argv[1])
            return
        if len(argv) > 1:
            raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
        body()

    app.run(main)
