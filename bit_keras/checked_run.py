"""How a program that is not a training run ends: flags checked before TensorFlow loads,
errors as one line, Ctrl-C and SIGTERM as a clean exit (the exporters, `bit-embed`,
`bit-fewshot`).

Imports no other part of bit_keras but `tf_logs` (the layer below it).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable

from bit_keras._runtime.tf_logs import held_stderr, logs_wanted, quiet_tensorflow

# Exit status of a program stopped by Ctrl-C or SIGTERM (128 + SIGINT, the shell's).
INTERRUPTED_STATUS = 130


def run_checked(
    program: str,
    check: Callable[[], tuple],
    work: Callable[..., object],
    interrupted: str = "interrupted; no half-written file was left.",
) -> None:
    """Runs `check()` (names, files and folders: before TensorFlow loads, so a mistake fails
    in well under a second), then imports TensorFlow quietly and runs `work(*checked)`,
    turning errors into one line and interrupts into a clean exit.

    SIGTERM is handled as Ctrl-C is, so the atomic writes' clean-up runs and nothing is left
    half-written; the process then exits with `INTERRUPTED_STATUS`, printing the interrupt's
    own message if it has one, else `interrupted`.
    """

    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        # TensorFlow's start-up lines, and the converter's and LiteRT's C++ lines too.
        with contextlib.nullcontext() if logs_wanted() else held_stderr():
            checked = check()  # without TensorFlow, but for a timm config.json not yet here
            quiet_tensorflow()
            work(*checked)
    except KeyboardInterrupt as e:
        print(f"{program}: {str(e) or interrupted}", file=sys.stderr)
        sys.exit(INTERRUPTED_STATUS)
    except (ValueError, OSError) as e:
        sys.exit(f"{program}: error: {e}")
    finally:
        signal.signal(signal.SIGTERM, previous)
