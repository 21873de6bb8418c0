"""A cluster of two `bit-train` workers on 127.0.0.1 that loses one, or whose chief is
preempted: the workers end with one line each (the lost worker and the checkpoint named;
every worker at the same step with the same status), and the cluster started again ends
with the weights of a run that lost none."""

import json
import os
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

STEPS = 16
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


def _start(logdir):
    """Both workers of a new cluster, as `bit-train` processes."""
    workers = _addresses()
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        processes.append(
            subprocess.Popen(
                [sys.executable, str(REPO / "tools" / "train.py"), f"--logdir={logdir}", *FLAGS],
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
    for status, _, stderr in _finish(_start(logdir)):
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


def test_a_preempted_chief_then_a_killed_worker_and_the_cluster_ends_as_if_neither_happened(
    tmp_path, uninterrupted
):
    checkpoints = str(tmp_path / "checkpoints")
    # SIGTERM to the chief: every worker stops at one step, with one line and one status.
    processes = _start(tmp_path)
    _signal_at_checkpoint(tmp_path, processes[0], signal.SIGTERM, 2)
    (chief, chief_out, chief_err), (worker, worker_out, worker_err) = _finish(processes)
    assert chief == worker == 143, (chief_err[-2000:], worker_err[-2000:])
    saved = tf.train.latest_checkpoint(checkpoints)
    step = int(saved.rsplit("-", 1)[1])
    assert chief_out.strip().splitlines()[-1] == (
        f"Interrupted by SIGTERM after step {step}; saved {saved}. Run the same command "
        "again to resume from there."
    )
    assert worker_out.strip().splitlines()[-1] == (
        f"Interrupted by SIGTERM to another worker of the cluster after step {step}. Run the "
        "same command again to resume from there."
    )
    assert "Traceback" not in chief_err + worker_err

    # Started again, then worker 1 killed: the chief names it and the checkpoint, at once.
    chief, worker = _start(tmp_path)
    _signal_at_checkpoint(tmp_path, worker, signal.SIGKILL, step + 2 - step % 2)
    killed = time.monotonic()
    stdout, stderr = chief.communicate(timeout=DETECTED_WITHIN)
    seconds = time.monotonic() - killed
    worker.communicate()
    assert chief.returncode == 1 and worker.returncode == -signal.SIGKILL
    assert f"Resumed from {saved} at step {step}." in stdout
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("bit-train: error: Lost worker 1 of the cluster at step "), last
    saved = tf.train.latest_checkpoint(checkpoints)
    assert f"; the last checkpoint is {saved}. Start every worker again" in last
    assert "Traceback" not in stderr and seconds < DETECTED_WITHIN

    # The same command on both workers: resumed from that checkpoint, to the same weights.
    for status, stdout, stderr in _finish(_start(tmp_path)):
        assert status == 0, stderr[-3000:]
        assert f"Resumed from {saved} at step " in stdout
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
