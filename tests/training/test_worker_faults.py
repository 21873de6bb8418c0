"""A cluster of two `bit-train` workers on 127.0.0.1 whose workers are preempted (SIGTERM to
the chief, then to worker 1), lost (worker 1 killed, then stopped) or killed in the middle of
a save (the chief): the workers end with one line each (every worker at the same step with the
same status; a lost worker and the checkpoint to resume from named), and the cluster started
again after all of it ends with the weights of a run that lost none."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from bit_keras.training.strategy import lost_task
from bit_test_utils import REPO

HERE = pathlib.Path(__file__).parent

STEPS = 24
FLAGS = [
    "--model=R14x1",
    "--weights=none",
    "--dataset=digits",
    f"--steps={STEPS}",
    "--batch_size=8",
    "--resize=12",
    "--crop=8",
    "--checkpoint_every=2",
    "--noreport",
]
# Beyond TensorFlow's heartbeat timeout (about 10 s) and a start of the process.
DETECTED_WITHIN = 60


def _addresses():
    sockets = [socket.socket() for _ in range(2)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    addresses = [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    for s in sockets:
        s.close()
    return addresses


def _start(logdir, die_in_save=None, flags=()):
    """Both workers of a new cluster, as `bit-train` processes; with `die_in_save`, the chief
    kills itself while it writes the checkpoint of that step (`die_in_save.py`)."""
    workers = _addresses()
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        program = [str(REPO / "tools" / "train.py"), f"--logdir={logdir}", *FLAGS, *flags]
        if index == 0 and die_in_save is not None:
            program = [str(HERE / "die_in_save.py"), str(die_in_save), *program]
        processes.append(
            subprocess.Popen(
                [sys.executable, *program],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    return processes


def _finish(processes, timeout=300):
    """Each worker's (status, stdout, stderr)."""
    outputs = [p.communicate(timeout=timeout) for p in processes]
    return [(p.returncode, *output) for p, output in zip(processes, outputs, strict=True)]


def _weights(logdir) -> dict[str, np.ndarray]:
    reader = tf.train.load_checkpoint(str(logdir / "checkpoints"))
    names = sorted(k for k in reader.get_variable_to_shape_map() if k.startswith("model/"))
    return {k: reader.get_tensor(k) for k in names}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("uninterrupted")
    # Its weights do not depend on when checkpoints are saved: one at the end.
    for status, _, stderr in _finish(_start(logdir, flags=[f"--checkpoint_every={STEPS}"])):
        assert status == 0, stderr[-3000:]
    return _weights(logdir)


def _signal_at_checkpoint(logdir, process, signum, step):
    """Sends `signum` to `process` once the run has saved the checkpoint of `step`."""
    saved = logdir / "checkpoints" / f"ckpt-{step}.index"
    deadline = time.monotonic() + 240
    while not saved.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert saved.exists(), process.communicate()[1][-3000:]
    process.send_signal(signum)


def _latest(logdir) -> tuple[str, int]:
    saved = tf.train.latest_checkpoint(str(logdir / "checkpoints"))
    return saved, int(saved.rsplit("-", 1)[1])


def _next_checkpoint(step: int) -> int:
    return step + 2 - step % 2


def _preempted(logdir, signalled: int) -> tuple[str, int]:
    """SIGTERM to worker `signalled` alone: every worker saves the same step and exits 143,
    each with one line."""
    processes = _start(logdir)
    _, step = _latest(logdir) if (logdir / "checkpoints").exists() else (None, 0)
    _signal_at_checkpoint(logdir, processes[signalled], signal.SIGTERM, _next_checkpoint(step))
    results = _finish(processes)
    assert [status for status, _, _ in results] == [143, 143], [e[-2000:] for *_, e in results]
    saved, step = _latest(logdir)
    for index, (_, stdout, stderr) in enumerate(results):
        whom = "" if index == signalled else " to another worker of the cluster"
        where = f"; saved {saved}" if index == 0 else ""
        assert stdout.strip().splitlines()[-1] == (
            f"Interrupted by SIGTERM{whom} after step {step}{where}. Run the same command again "
            "to resume from there."
        )
        assert "Traceback" not in stderr
    return saved, step


def _lost(stderr: str, worker: int, step_from: int, saved: str) -> None:
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"bit-train: error: Lost worker {worker} of the cluster at step "), last
    assert int(last.split(" at step ")[1].split(" ")[0]) > step_from, last
    assert f"; the last checkpoint is {saved}. Start every worker again" in last, last
    assert "Traceback" not in stderr


def _worker_lost(logdir, signum) -> tuple[str, int]:
    """Worker 1 killed (SIGKILL) or stopped (SIGSTOP, let go on at the end): the chief names
    it and the last checkpoint, in less than DETECTED_WITHIN."""
    resumed, step = _latest(logdir)
    chief, worker = _start(logdir)
    _signal_at_checkpoint(logdir, worker, signum, _next_checkpoint(step))
    lost = time.monotonic()
    stdout, stderr = chief.communicate(timeout=DETECTED_WITHIN)
    seconds = time.monotonic() - lost
    saved, step_now = _latest(logdir)
    assert chief.returncode == 1, stderr[-3000:]
    assert f"Resumed from {resumed} at step {step}." in stdout
    _lost(stderr, 1, step, saved)
    assert seconds < DETECTED_WITHIN
    if signum == signal.SIGSTOP:
        worker.send_signal(signal.SIGCONT)  # it finds the chief gone
        _, stderr = worker.communicate(timeout=DETECTED_WITHIN)
        assert worker.returncode == 1, stderr[-3000:]
        _lost(stderr, 0, step, saved)
    else:
        worker.communicate()
        assert worker.returncode == -signal.SIGKILL
    return saved, step_now


def test_preempted_lost_and_stopped_workers_and_a_chief_lost_mid_save_end_as_if_none_was(
    tmp_path, uninterrupted
):
    # A preempted worker, the chief and then worker 1: every worker stops at one step.
    _preempted(tmp_path, 0)
    _preempted(tmp_path, 1)
    # Worker 1 lost, killed and then stopped: the chief names it and the checkpoint.
    _worker_lost(tmp_path, signal.SIGKILL)
    saved, step = _worker_lost(tmp_path, signal.SIGSTOP)

    # The chief killed while it writes a checkpoint: worker 1 names it and the one before.
    unfinished = _next_checkpoint(step + 1)
    chief, worker = _start(tmp_path, die_in_save=unfinished)
    _, stderr = worker.communicate(timeout=240)
    chief.communicate()
    assert chief.returncode == -signal.SIGKILL and worker.returncode == 1, stderr[-3000:]
    assert (tmp_path / "checkpoints" / f"ckpt-{unfinished}_temp").is_dir()
    saved, step_now = _latest(tmp_path)
    assert step_now == unfinished - 2
    _lost(stderr, 0, step, saved)

    # The same command on both workers: the unfinished checkpoint set aside, resumed from
    # the one before, to the weights of the run that lost nothing.
    results = _finish(_start(tmp_path))
    for status, stdout, stderr in results:
        assert status == 0, stderr[-3000:]
        assert f"Resumed from {saved} at step {step_now}." in stdout
    aside = tmp_path / "checkpoints" / "damaged"
    assert (
        f"The checkpoint {tmp_path / 'checkpoints' / f'ckpt-{unfinished}'} was not finished (the "
        f"run stopped while writing it); moved its files into {aside}."
    ) in results[0][1]
    assert (aside / f"ckpt-{unfinished}_temp").is_dir()
    resumed = _weights(tmp_path)
    assert resumed.keys() == uninterrupted.keys()
    for name, value in resumed.items():
        np.testing.assert_array_equal(value, uninterrupted[name], err_msg=name)


@pytest.mark.parametrize(
    ("message", "lost", "why"),
    [
        (  # the chief, when worker 1 was killed or stopped (TensorFlow's heartbeats)
            "Collective ops is aborted by: Error reported from /job:worker/task:1: The following "
            "tasks are unhealthy (stopped sending heartbeats):\n/job:worker/replica:0/task:1\n"
            "The tasks have crashed.",
            "worker 1",
            "it stopped sending heartbeats",
        ),
        (  # worker 1, stopped, then let go on: the chief has gone
            "Graph execution error:\n\nAdditional GRPC error information from remote target "
            "/job:worker/replica:0/task:0 while calling /tensorflow.WorkerService/RecvBuf:\n"
            ':UNKNOWN:Error received from peer {grpc_message:"sendmsg: Broken pipe (32)"}',
            "worker 0",
            "its connection was broken",
        ),
        (  # named by its address alone (TF_CONFIG's cluster)
            "failed to connect to all addresses; last error: ipv4:127.0.0.1:2223: "
            "Connection refused",
            "worker 1",
            "it cannot be reached",
        ),
        ("Collective ops is aborted by: something else", None, "the collectives with it failed"),
    ],
)
def test_the_lost_task_is_read_from_tensorflows_words(monkeypatch, message, lost, why):
    cluster = {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"index": 0}}))
    own = "worker1" if lost == "worker 0" else "worker0"
    assert lost_task(message, own) == (lost, why)
