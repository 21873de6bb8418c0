"""One run per logdir: a lock file that names the process holding it.

A job started twice, or relaunched by a scheduler while its first copy still runs, would
otherwise train twice into one folder, each overwriting the other's checkpoints, events and
model. The run (the chief, under several workers) creates `LOGDIR/run.lock` with
`O_CREAT | O_EXCL`, atomic on local and network file systems alike, holding its process id,
host and start time, and deletes it when it ends, however it ends. The lock is re-entrant
within a process: the programs take it before TensorFlow loads, so that a second run fails in
a fraction of a second, and the loop's own `with` inside is a no-op. A second run finds the file
and stops at once, naming the first. A lock left by a process that died without cleaning up
(SIGKILL, a crash) on this host is taken over, with a message; one from another host cannot
be checked from here, so the message says how to remove it.

A logdir on a filesystem TensorFlow reads (`gs://`, `ram://`) is locked the same way, except
that its lock file is created after a check that it is absent: object stores offer no atomic
create-if-absent through TensorFlow, so two runs started the same second may both go on.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
from collections.abc import Callable

from bit_keras._runtime import files

LOCK_FILE = "run.lock"


class LogdirInUseError(ValueError):
    """Another run holds the logdir's lock."""


class RunLock:
    """Holds `LOGDIR/run.lock` for the duration of a `with` block.

    A logdir the lock created is removed again on exit if nothing else was written into it,
    so a run that fails its checks leaves nothing behind.

    Args:
        logdir: The run's folder (created if missing).
        out: Where the line about a stale lock taken over goes.
        enabled: False on workers other than the chief, which write no run files.
    """

    def __init__(self, logdir: str, out: Callable[[str], object] = print, *, enabled=True):
        self.logdir = files.absolute(logdir)
        self.path = files.join(self.logdir, LOCK_FILE)
        self.out, self.enabled = out, enabled
        self._created_logdir = False
        self._nested = False

    def __enter__(self) -> RunLock:
        if not self.enabled:
            return self
        if not files.isdir(self.logdir):
            files.makedirs(self.logdir)
            self._created_logdir = True
        try:
            self._create()
        except FileExistsError:
            holder = _read(self.path)
            if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
                self._nested = True  # this process holds it already (the program, for the loop)
                return self
            if not _is_stale(holder):
                self._remove_logdir_if_empty()
                raise LogdirInUseError(_in_use(self.logdir, self.path, holder)) from None
            self.out(
                f"Taking over {self.path}: its process {holder.get('pid')} on this host "
                f"({holder.get('host')}) is no longer running."
            )
            files.remove(self.path)
            try:
                self._create()
            except FileExistsError:  # another run took it over first
                raise LogdirInUseError(_in_use(self.logdir, self.path, _read(self.path))) from None
        return self

    def __exit__(self, *exc) -> None:
        if not self.enabled or self._nested:
            return
        if _read(self.path).get("pid") == os.getpid():
            files.remove(self.path)
        self._remove_logdir_if_empty()

    def _create(self) -> None:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        text = json.dumps(record) + "\n"
        if files.is_remote(self.path):  # no atomic create-if-absent there (module docstring)
            if files.exists(self.path):
                raise FileExistsError(self.path)
            with files.open_file(self.path, "w") as f:
                f.write(text)
            return
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
        except OSError as e:
            # A full disk: a lock without its holder would read as held, by nobody, forever.
            os.remove(self.path)
            self._remove_logdir_if_empty()
            raise files.WriteError(self.path, e.strerror or str(e)) from e

    def _remove_logdir_if_empty(self) -> None:
        if self._created_logdir and files.isdir(self.logdir) and not files.listdir(self.logdir):
            files.rmtree(self.logdir)


def _read(path: str) -> dict:
    try:
        with files.open_file(path) as f:
            record = json.load(f)
        return record if isinstance(record, dict) else {}
    except Exception:  # gone or being written: OSError here, TensorFlow's errors for gs://
        return {}


def _is_stale(holder: dict) -> bool:
    # Only a process on this host can be checked; an unreadable lock is taken as held.
    pid = holder.get("pid")
    if not isinstance(pid, int) or holder.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _in_use(logdir: str, path: str, holder: dict) -> str:
    who = (
        f"process {holder['pid']} on {holder.get('host', '?')} since {holder.get('started', '?')}"
        if "pid" in holder
        else "another run"
    )
    return (
        f"--logdir {logdir!r} is in use by {who}: one run per logdir. Wait for it, or pass "
        f"another --logdir; if that run is gone (another host cannot be checked from here), "
        f"delete {path}."
    )


def tf_config() -> dict:
    """The cluster's `TF_CONFIG` (`{}` where none is set)."""
    return json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")


def process_name() -> str:
    """This process's task as `strategy.worker_id` names it, before any strategy exists, from
    `TF_CONFIG`: `chief` with no cluster, else the task's type and index (`worker1`)."""
    task = tf_config().get("task") or {}
    return f"{task['type']}{int(task.get('index', 0))}" if task.get("type") else "chief"


def is_chief_process() -> bool:
    """`is_chief` before any strategy exists, from `TF_CONFIG`: no cluster, the `chief` task,
    or worker 0 of a cluster without one."""
    config = tf_config()
    task = config.get("task") or {}
    if not task.get("type"):
        return True
    return task["type"] == "chief" or (
        task["type"] == "worker"
        and int(task.get("index", 0)) == 0
        and "chief" not in config.get("cluster", {})
    )
