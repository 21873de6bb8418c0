"""Writing files and folders all at once: to a temporary name beside the target, then renamed.

Imports no other part of bit_keras.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable


def save_atomically(path: str | os.PathLike, save: Callable[[str], object]) -> None:
    """Calls `save(tmp)` on a temporary path in `path`'s folder, then renames it to `path`.

    A failed or interrupted `save` leaves neither a half-written file nor a changed `path`.
    The temporary path keeps `path`'s suffix (`.keras`, `.weights.h5`, ...), which Keras
    savers check. The file gets the usual permissions (0666 less the umask), not the 0600
    of temporary files.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = next((s for s in (".weights.h5",) if path.endswith(s)), os.path.splitext(path)[1])
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        save(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_directory_atomically(
    path: str | os.PathLike, save: Callable[[str], object], *, overwrite: bool = False
) -> None:
    """Calls `save(tmp)` on a new temporary folder beside `path`, then renames it to `path`.

    A failed or interrupted `save` leaves no folder at `path` (or the old one, untouched).
    An existing `path` is replaced only with `overwrite=True`, after `save` succeeded.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.lexists(path) and not overwrite:
        raise FileExistsError(f"{path!r} exists; pass overwrite=True to replace it.")
    folder = os.path.dirname(path)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=folder)
    old = None
    try:
        save(tmp)
        os.chmod(tmp, 0o777 & ~_umask())
        if os.path.lexists(path):
            old = tempfile.mkdtemp(prefix=".old-", dir=folder)
            os.rmdir(old)
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except OSError:
            if old is not None:
                os.replace(old, path)
                old = None
            raise
    finally:
        for leftover in (tmp, old):
            if leftover is not None and os.path.lexists(leftover):
                shutil.rmtree(leftover) if os.path.isdir(leftover) else os.remove(leftover)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
