"""tf.distribute: MirroredStrategy over two logical CPUs, and two workers on 127.0.0.1."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np

SCRIPT = pathlib.Path(__file__).with_name("distributed_run.py")


def _run(kind, logdir, env=None, steps=4, recipe="finetune"):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), kind, str(logdir), str(steps), recipe],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _one_device_and_two_cpus(tmp_path, recipe):
    """The recipe's 6-step run on one device and on MirroredStrategy over two logical CPUs,
    checked to log the same losses (of which at least 4 differ); returns both runs' metrics
    and the logged steps."""
    one = _run("default", tmp_path / "one", steps=6, recipe=recipe)
    two = _run("mirrored", tmp_path / "two", steps=6, recipe=recipe)
    assert (one["replicas"], two["replicas"]) == (1, 2)
    steps = sorted(one["loss_history"], key=int)
    assert steps == sorted(two["loss_history"], key=int) and len(steps) == 6
    # Fine-tuning's zero head and warm-up make its first steps ln(10); later ones carry it.
    assert len({round(one["loss_history"][s], 4) for s in steps}) >= 4
    np.testing.assert_allclose(
        [one["loss_history"][s] for s in steps],
        [two["loss_history"][s] for s in steps],
        rtol=1e-4,
    )
    return one, two, steps


def test_mirrored_two_cpus_matches_one_device(tmp_path):
    one, two, _ = _one_device_and_two_cpus(tmp_path, "finetune")
    assert one["test_accuracy"] == two["test_accuracy"]


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_pretraining_on_two_cpus_clips_the_global_gradient_as_one_device_does(tmp_path):
    one, two, steps = _one_device_and_two_cpus(tmp_path, "pretrain")
    np.testing.assert_allclose(one["weights_abs_sum"], two["weights_abs_sum"], rtol=1e-5)
    # The clipping is at work in these runs: without it they go elsewhere.
    free = _run("default", tmp_path / "free", steps=6, recipe="pretrain_noclip")
    assert abs(free["loss_history"][steps[-1]] - one["loss_history"][steps[-1]]) > 1e-2


def test_distillation_on_two_cpus_matches_one_device(tmp_path):
    # The teacher is built under the strategy's scope with the student; both replicas run it.
    one, two, _ = _one_device_and_two_cpus(tmp_path, "distill")
    np.testing.assert_allclose(one["weights_abs_sum"], two["weights_abs_sum"], rtol=1e-5)
    for key in ("test_accuracy", "test_teacher_accuracy", "test_agreement"):
        assert one[key] == two[key], key


def _multi_worker(logdir, steps, recipe="finetune"):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(
            subprocess.Popen(
                [sys.executable, str(SCRIPT), "multi_worker", str(logdir), str(steps), recipe],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={
                    **os.environ,
                    "TF_CPP_MIN_LOG_LEVEL": "2",
                    "TF_CONFIG": json.dumps(tf_config),
                },
            )
        )
    outputs, logs = [], []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-3000:]
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))
        logs.append(stderr)
    return outputs, logs


def test_multi_worker_two_processes_end_with_identical_weights(tmp_path):
    outputs, _ = _multi_worker(tmp_path / "run", 3)
    assert [o["replicas"] for o in outputs] == [2, 2]
    assert outputs[0]["loss_history"] == outputs[1]["loss_history"]
    assert outputs[0]["weights_abs_sum"] == outputs[1]["weights_abs_sum"]
    assert outputs[0]["weights"] == outputs[1]["weights"]
    assert outputs[0]["test_accuracy"] == outputs[1]["test_accuracy"]
    # One writer: the chief's checkpoints and model; the worker's scratch space is gone.
    assert (tmp_path / "run" / "model.keras").exists()
    assert not (tmp_path / "run" / ".workers" / "worker1").exists()

    # Restarted, both workers rejoin from the chief's last checkpoint.
    again, logs = _multi_worker(tmp_path / "run", 3)
    for log in logs:
        assert "Resumed from" in log and "ckpt-3 at step 3." in log
    assert again[0]["weights"] == outputs[0]["weights"] == again[1]["weights"]


def test_pretraining_on_two_workers_ends_with_identical_weights_and_one_npz(tmp_path):
    outputs, _ = _multi_worker(tmp_path / "run", 3, recipe="pretrain")
    assert [o["replicas"] for o in outputs] == [2, 2]
    assert outputs[0]["loss_history"] == outputs[1]["loss_history"]
    assert outputs[0]["weights"] == outputs[1]["weights"]
    assert (tmp_path / "run" / "model.npz").exists() and (tmp_path / "run" / "model.keras").exists()
    assert not (tmp_path / "run" / ".workers" / "worker1").exists()
