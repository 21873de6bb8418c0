"""Ctrl-C and SIGTERM as requests to stop at the next safe point, not in the middle of work.

Preemptible machines (cloud VMs, TPU pods) send SIGTERM with a short grace period; people
press Ctrl-C. A long job (training, `bit-embed`) checks `StopRequests.signum` between steps
and stops there, having saved what it can. Imports no other part of bit_keras.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequests:
    """A context in which SIGINT/SIGTERM ask to stop instead of killing the process.

    `signum` is the first signal received (None until then). A second signal raises
    `KeyboardInterrupt` at once. Handlers are only installed in the main thread (Python
    delivers signals there); elsewhere the context does nothing.
    """

    def __init__(
        self,
        out: Callable[[str], object] = print,
        doing: str = "stopping after this step to save a checkpoint",
    ):
        self.signum: int | None = None
        self._out, self._doing = out, doing
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
            f"{signal.Signals(signum).name} received: {self._doing} (send it again to quit at "
            "once, without one)."
        )
