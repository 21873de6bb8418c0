"""Ctrl-C and SIGTERM during training: finish the step, save a checkpoint, stop.

Preemptible machines (cloud VMs, TPU pods) send SIGTERM with a short grace period; people
press Ctrl-C. Either one asks the loop to stop after the current step; the loop checkpoints
that step and raises `TrainingInterrupted`. A second signal stops at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on a signal after saving a checkpoint.

    Attributes:
        signum: The signal.
        step: The last step trained (and saved).
        checkpoint: The checkpoint's path prefix (None on a non-chief worker).
        rerun: Words that follow "Run the same command again" (" without --overwrite").
        exit_status: 128 + the signal number, the shell's convention (130 for Ctrl-C, 143 for
            SIGTERM).
    """

    def __init__(self, signum: int, step: int, checkpoint: str | None, *, rerun: str = ""):
        self.signum, self.step, self.checkpoint = signum, step, checkpoint
        self.exit_status = 128 + signum
        where = f"; saved {checkpoint}" if checkpoint else ""
        super().__init__(
            f"Interrupted by {signal.Signals(signum).name} after step {step}{where}. "
            f"Run the same command again{rerun} to resume from there."
        )


class StopRequests:
    """A context in which SIGINT/SIGTERM ask to stop instead of killing the process.

    `signum` is the first signal received (None until then). A second signal raises
    `KeyboardInterrupt` at once. Handlers are only installed in the main thread (Python
    delivers signals there); elsewhere the context does nothing.
    """

    def __init__(self, out: Callable[[str], object] = print):
        self.signum: int | None = None
        self._out = out
        self._previous = {}

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum
        self._out(
            f"{signal.Signals(signum).name} received: stopping after this step to save a "
            "checkpoint (send it again to quit at once, without one)."
        )
