"""One way to reach files on any filesystem TensorFlow reads: local paths through `os` (no
TensorFlow needed, so that programs check their flags before it loads), and `SCHEME://` paths
(`gs://`, `s3://` with tensorflow-io, `hdfs://`, TensorFlow's in-memory `ram://`) through
`tf.io.gfile`.

Imports no other part of bit_keras.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from typing import IO


def is_remote(path: str | os.PathLike) -> bool:
    """Whether `path` names a file on a filesystem reached through TensorFlow (`gs://...`)."""
    return "://" in os.fspath(path)


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


@contextlib.contextmanager
def _reaching(path: str) -> Iterator[None]:
    # TensorFlow's error for a filesystem it cannot reach (no network, no credentials, no
    # such bucket) as an OSError naming the path: the programs end with it in one line. A
    # file that is not there stays TensorFlow's NotFoundError, which callers look for.
    import tensorflow as tf

    try:
        yield
    except tf.errors.NotFoundError:
        raise
    except tf.errors.OpError as e:
        why = (e.message or type(e).__name__).strip().splitlines()[0]
        raise OSError(f"{path} cannot be reached ({type(e).__name__}: {why})") from None


class WriteError(OSError):
    """A file could not be written (a full disk, a quota, a filesystem that failed), named with
    the reason: nothing of it was kept, and what was written before is as it was.

    Attributes:
        path: The file.
        reason: The filesystem's words ("No space left on device").
        advice: What to do, where the writer knows ("the last checkpoint is ...").
    """

    def __init__(self, path: str, reason: str, advice: str = ""):
        self.path, self.reason, self.advice = path, reason, advice
        super().__init__(f"Could not write {path} ({reason}){'; ' + advice if advice else '.'}")

    def advised(self, advice: str) -> WriteError:
        """The same failure, with what to do."""
        return WriteError(self.path, self.reason, advice)


# The ops through which TensorFlow writes a run's files: checkpoints and TensorBoard events.
_WRITING_OPS = (
    "SaveV2",
    "MergeV2Checkpoints",
    "CreateSummaryFileWriter",
    "WriteSummary",
    "FlushSummaryWriter",
)


def tf_write_error(error: BaseException, *, any_op: bool = False) -> WriteError | None:
    """TensorFlow's error for a file it could not write, as a `WriteError` naming the file and
    the reason; None for any other error (an out-of-memory device is ResourceExhausted too).

    TensorFlow says it as `{{function_node ...}} PATH; REASON [Op:OP]` (or with lines about
    events it could not flush after the first). `any_op`: `error` came from a write, whatever
    raised it (`tf.io.gfile`'s).
    """
    import tensorflow as tf

    if not isinstance(error, tf.errors.OpError) or isinstance(error, tf.errors.NotFoundError):
        return None
    text = (error.message or "").strip() or type(error).__name__
    if not any_op and not any(
        f"[Op:{op}]" in text or f"__wrapped__{op}_" in text for op in _WRITING_OPS
    ):
        return None
    first = text.splitlines()[0]
    if "}} " in first:
        first = first.split("}} ", 1)[1]
    first = first.split(" [Op:", 1)[0]
    path, _, reason = first.rpartition("; ")
    path = path.split(".tempstate", 1)[0]  # TensorFlow's temporary name of the file
    return WriteError(path or "a file", reason or type(error).__name__)


def absolute(path: str | os.PathLike) -> str:
    """`path` made absolute where it is local; a `SCHEME://` path as it is."""
    path = os.fspath(path)
    return path if is_remote(path) else os.path.abspath(path)


def join(path: str, *names: str) -> str:
    """`os.path.join`, which `SCHEME://` paths take as they are (their separator is `/`)."""
    return os.path.join(path, *names)


def parent(path: str) -> str:
    """The folder that holds `path`."""
    return os.path.dirname(path.rstrip("/")) if is_remote(path) else os.path.dirname(path)


def exists(path: str) -> bool:
    """Whether `path` exists; OSError where its filesystem cannot be reached."""
    if is_remote(path):
        with _reaching(path):
            return _gfile().exists(path)
    return os.path.exists(path)


def isdir(path: str) -> bool:
    """Whether `path` is a folder; OSError where its filesystem cannot be reached (which
    `tf.io.gfile.isdir` would call no folder)."""
    if is_remote(path):
        return exists(path) and _gfile().isdir(path)
    return os.path.isdir(path)


def isfile(path: str) -> bool:
    """Whether `path` is a file; OSError where its filesystem cannot be reached."""
    if is_remote(path):
        return exists(path) and not _gfile().isdir(path)
    return os.path.isfile(path)


def listdir(path: str) -> list[str]:
    """The names in folder `path` (without a trailing `/` for folders)."""
    if is_remote(path):
        with _reaching(path):
            return [name.rstrip("/") for name in _gfile().listdir(path)]
    return os.listdir(path)


def scan(path: str, is_file: Callable[[str], bool] = lambda name: False):
    """`(folders, files)`: the names in folder `path`, sorted, told apart without a call per
    name where the listing says (locally `os.scandir`; `gs://` marks folders with `/`).
    Elsewhere (`ram://`) a name is checked, unless `is_file(name)` says it is a file (an
    image's suffix)."""
    folders, names = [], []
    if is_remote(path):
        gfile = _gfile()
        for name in gfile.listdir(path):
            if name.endswith("/"):
                folders.append(name.rstrip("/"))
            elif not is_file(name) and gfile.isdir(join(path, name)):
                folders.append(name)
            else:
                names.append(name)
    else:
        with os.scandir(path) as entries:
            for entry in entries:
                (folders if entry.is_dir() else names).append(entry.name)
    return sorted(folders), sorted(names)


def makedirs(path: str) -> None:
    """Creates folder `path` and its parents; nothing if it exists."""
    if is_remote(path):
        with _reaching(path):
            _gfile().makedirs(path)
    else:
        os.makedirs(path, exist_ok=True)


def open_file(path: str, mode: str = "r", **kwargs) -> IO:
    """`open` for local paths (with `kwargs`: `newline`, `encoding`), `tf.io.gfile.GFile`
    for the others (text as UTF-8)."""
    if is_remote(path):
        return _gfile().GFile(path, mode)
    return open(path, mode, **kwargs)


def size(path: str) -> int:
    """The size of file `path` in bytes."""
    return _gfile().stat(path).length if is_remote(path) else os.path.getsize(path)


def stamp(path: str) -> tuple[int, int]:
    """`(size, modification time in ns)` of file `path`; `(-1, -1)` where it cannot be read."""
    try:
        if is_remote(path):
            stat = _gfile().stat(path)
            return stat.length, stat.mtime_nsec
        stat = os.stat(path)
    except Exception:  # OSError here, TensorFlow's NotFoundError there
        return -1, -1
    return stat.st_size, stat.st_mtime_ns


def remove(path: str) -> None:
    """Deletes file `path`."""
    if is_remote(path):
        _gfile().remove(path)
    else:
        os.remove(path)


def rmtree(path: str) -> None:
    """Deletes folder `path` and everything in it."""
    if is_remote(path):
        _gfile().rmtree(path)
    else:
        shutil.rmtree(path)


def rename(source: str, target: str) -> None:
    """Moves `source` to `target`, replacing a file there: atomic on local filesystems; on
    object stores (`gs://`) a copy then a delete, the best they offer."""
    if is_remote(source) or is_remote(target):
        _gfile().rename(source, target, overwrite=True)
    else:
        os.replace(source, target)


def copy(source: str, target: str) -> None:
    """Copies file `source` to `target`, replacing a file there."""
    if is_remote(source) or is_remote(target):
        _gfile().copy(source, target, overwrite=True)
    else:
        shutil.copyfile(source, target)
