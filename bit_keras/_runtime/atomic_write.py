"""Writing files and folders all at once: to a temporary name beside the target, then renamed.

Targets on a filesystem TensorFlow reads (`gs://`, `ram://`: `files.is_remote`) are written
locally first. A file is copied beside the target under a temporary name, then renamed (an
object store's rename is a copy and a delete: a reader never sees half a file, though two
writers may race); a folder is copied into place file by file after the old one is deleted.

Imports only `files` of bit_keras.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator

from bit_keras._runtime import files


def save_atomically(path: str | os.PathLike, save: Callable[[str], object]) -> None:
    """Calls `save(tmp)` on a temporary path in `path`'s folder, then renames it to `path`.

    A failed or interrupted `save` leaves neither a half-written file nor a changed `path`.
    The temporary path keeps `path`'s suffix (`.keras`, `.weights.h5`, ...), which Keras
    savers check. The file gets the usual permissions (0666 less the umask), not the 0600
    of temporary files.
    """
    path = os.fspath(path)
    suffix = next((s for s in (".weights.h5",) if path.endswith(s)), os.path.splitext(path)[1])
    with _naming(path):
        if files.is_remote(path):
            _save_remote(path, save, suffix)
            return
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
        os.close(fd)
        try:
            save(tmp)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


@contextlib.contextmanager
def _naming(path: str) -> Iterator[None]:
    # A write that failed (ENOSPC, EDQUOT, EIO; TensorFlow's words for it: a remote path, a
    # SavedModel's variables) names the target, which a write's own error does not: a
    # `files.WriteError`.
    try:
        yield
    except files.WriteError:
        raise
    except OSError as e:
        if e.errno is None or e.errno in (errno.ENOENT, errno.EEXIST, errno.EISDIR):
            raise  # not the filesystem failing: the caller's to say
        raise files.WriteError(path, e.strerror or str(e)) from e
    except Exception as e:
        error = files.tf_write_error(e, any_op=files.is_remote(path))
        if error is None:
            raise
        raise files.WriteError(path, error.reason) from e


def save_directory_atomically(
    path: str | os.PathLike, save: Callable[[str], object], *, overwrite: bool = False
) -> None:
    """Calls `save(tmp)` on a new temporary folder beside `path`, then renames it to `path`.

    A failed or interrupted `save` leaves no folder at `path` (or the old one, untouched).
    An existing `path` is replaced only with `overwrite=True`, after `save` succeeded.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
    """
    path = files.absolute(path)
    if files.is_remote(path):
        if files.exists(path) and not overwrite:
            raise FileExistsError(f"{path!r} exists; pass overwrite=True to replace it.")
        with _naming(path):
            _save_remote_directory(path, save)
        return
    if os.path.lexists(path) and not overwrite:
        raise FileExistsError(f"{path!r} exists; pass overwrite=True to replace it.")
    with _naming(path):
        _save_directory(path, save)


def _save_directory(path: str, save: Callable[[str], object]) -> None:
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


def _save_remote(path: str, save: Callable[[str], object], suffix: str) -> None:
    folder = files.parent(path)
    files.makedirs(folder)
    tmp = files.join(folder, f".tmp-{uuid.uuid4().hex}{suffix}")
    with tempfile.TemporaryDirectory(prefix="bit_keras_") as local:
        written = os.path.join(local, f"file{suffix}")
        save(written)
        try:
            files.copy(written, tmp)
            files.rename(tmp, path)
        finally:
            _discard(tmp, files.remove)


def _save_remote_directory(path: str, save: Callable[[str], object]) -> None:
    # Written locally, then the old folder deleted and the new one copied into place, file by
    # file: filesystems reached through TensorFlow rename files, not folders (object stores
    # have none; ram:// loses a renamed folder's files), so a reader may see it half-copied.
    with tempfile.TemporaryDirectory(prefix="bit_keras_") as local:
        save(local)
        _discard(path, files.rmtree)
        _copy_tree(local, path)


def _discard(path: str, delete: Callable[[str], object]) -> None:
    # A temporary copy left by a failure; gone already after a rename (some filesystems,
    # ram://, still say a renamed folder exists).
    try:
        if files.exists(path):
            delete(path)
    except Exception:
        pass


def _copy_tree(local: str, target: str) -> None:
    files.makedirs(target)
    for name in os.listdir(local):
        source = os.path.join(local, name)
        if os.path.isdir(source):
            _copy_tree(source, files.join(target, name))
        else:
            files.copy(source, files.join(target, name))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
