"""Progress lines for long runs: step, loss, learning rate, images/s and ETA."""

from __future__ import annotations

import datetime
import time


class Progress:
    """Prints `step 120/500 (24%) loss 0.4321 lr 0.003 1234.5 img/s ETA 0:01:02` lines.

    Args:
        total: Last step.
        start: Step the run starts after (0, or where it resumed).
        batch_size: Global batch size, for images/s.
        out: Where lines go.
        every_seconds: At most one line per this many seconds (and always the last step).
    """

    def __init__(self, total: int, start: int, batch_size: int, out=print, every_seconds=5.0):
        self.total, self.start, self.batch_size, self.out = total, start, batch_size, out
        self.every_seconds = every_seconds
        self._began = self._last_print = time.monotonic()
        self._first_step_done = None
        self.images_per_second = 0.0

    def update(self, step: int, loss: float, lr: float) -> None:
        now = time.monotonic()
        if self._first_step_done is None:
            # The first step traces and compiles: leave it out of the speed.
            self._first_step_done = (now, step)
        first_time, first_step = self._first_step_done
        if step > first_step:
            self.images_per_second = (step - first_step) * self.batch_size / (now - first_time)
        if now - self._last_print < self.every_seconds and step not in (self.total, self.start + 1):
            return
        self._last_print = now
        remaining = "?"
        if self.images_per_second:
            seconds = (self.total - step) * self.batch_size / self.images_per_second
            remaining = str(datetime.timedelta(seconds=round(seconds)))
        self.out(
            f"step {step}/{self.total} ({100 * step // self.total}%) loss {loss:.4f} "
            f"lr {lr:.6g} {self.images_per_second:.1f} img/s ETA {remaining}"
        )
