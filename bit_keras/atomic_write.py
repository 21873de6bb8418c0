"""Writing files all at once: to a temporary name beside the target, then renamed.

Imports no other part of bit_keras.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable


def save_atomically(path: str | os.PathLike, save: Callable[[str], object]) -> None:
    """Calls `save(tmp)` on a temporary path in `path`'s folder, then renames it to `path`.

    A failed or interrupted `save` leaves neither a half-written file nor a changed `path`.
    The temporary path keeps `path`'s suffix (`.keras`, `.weights.h5`, ...), which Keras
    savers check.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = next((s for s in (".weights.h5",) if path.endswith(s)), os.path.splitext(path)[1])
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
