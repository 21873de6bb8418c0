"""One run per logdir: the lock names its holder; a dead holder's lock on this host is taken
over; another host's is not."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from bit_keras.training.run_lock import LOCK_FILE, LogdirInUseError, RunLock
from bit_test_utils import REPO


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_second_run_on_the_logdir_fails_naming_the_first(tmp_path):
    logdir = tmp_path / "run"
    with RunLock(str(logdir)):
        record = json.loads((logdir / LOCK_FILE).read_text())
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
    assert not logdir.exists()  # created by the lock, left empty: removed
    # A live process on this host holds it.
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tmp_path.joinpath(LOCK_FILE).write_text(
            json.dumps({"pid": holder.pid, "host": socket.gethostname(), "started": "then"})
        )
        with pytest.raises(LogdirInUseError) as error, RunLock(str(tmp_path)):
            pass
    finally:
        holder.kill()
        holder.wait()
    message = str(error.value)
    assert f"in use by process {holder.pid} on {socket.gethostname()} since then" in message
    assert "one run per logdir" in message
    assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == holder.pid  # untouched


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    with RunLock(str(tmp_path)), RunLock(str(tmp_path)):  # the program's, then the loop's
        assert (tmp_path / LOCK_FILE).exists()
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_dead_processs_lock_on_this_host_is_taken_over(tmp_path):
    (tmp_path / LOCK_FILE).write_text(
        json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "started": "then"})
    )
    lines = []
    with RunLock(str(tmp_path), out=lines.append):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert len(lines) == 1 and "is no longer running" in lines[0]
    assert not (tmp_path / LOCK_FILE).exists() and tmp_path.is_dir()


def test_another_hosts_lock_is_not_taken_over(tmp_path):
    lock = tmp_path / LOCK_FILE
    lock.write_text(json.dumps({"pid": _dead_pid(), "host": "elsewhere", "started": "then"}))
    with (
        pytest.raises(LogdirInUseError, match=f"on elsewhere since then.*delete {lock}"),
        RunLock(str(tmp_path)),
    ):
        pass
    assert json.loads(lock.read_text())["host"] == "elsewhere"  # left as it was


def test_two_bit_train_runs_on_one_logdir(tmp_path):
    logdir = tmp_path / "run"
    command = [
        sys.executable,
        str(REPO / "tools" / "train.py"),
        "--model=R14x1",
        "--weights=none",
        "--dataset=digits",
        f"--logdir={logdir}",
        "--resize=12",
        "--crop=8",
        "--batch_size=8",
        "--steps=100000",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (logdir / LOCK_FILE).exists():  # the first run holds the logdir
            assert first.poll() is None, first.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.2)
        start = time.monotonic()
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        print(f"the second run stopped in {time.monotonic() - start:.2f} s")
        assert second.returncode == 1
        (line,) = [x for x in second.stderr.splitlines() if x.startswith("bit-train: error:")]
        assert f"is in use by process {first.pid} on {socket.gethostname()}" in line
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # untouched by the second
    finally:
        first.kill()
        first.wait(timeout=120)
