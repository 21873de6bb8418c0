"""tf.distribute: MirroredStrategy over two logical CPUs, and two workers on 127.0.0.1.

Each strategy's runs of the recipes share one process (tests/training/distributed_run.py):
the one-device references, the two-CPU runs and the first start of the two workers are made
once for this module."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import sharded_tfds

from bit_test_utils import REPO, run_python

SCRIPT = REPO / "tests" / "training" / "distributed_run.py"
STEPS = 6
# The two-CPU runs, against one device; `pretrain_noclip` only runs on one device.
MIRRORED = ("finetune", "pretrain", "distill")


def _env(extra=None):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(extra or {})}


def _metrics(logdir, recipes, task=0) -> dict[str, dict]:
    """The metrics each recipe's run wrote (distributed_run.py), by recipe."""
    return {
        recipe: json.loads((logdir / "metrics" / f"{recipe}.{task}.json").read_text())
        for recipe in recipes
    }


def _run(kind, logdir, recipes, steps=STEPS):
    result = run_python(
        [str(SCRIPT), kind, str(logdir), str(steps), ",".join(recipes)], timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return _metrics(logdir, recipes)


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    recipes = (*MIRRORED, "pretrain_noclip")
    return _run("default", tmp_path_factory.mktemp("one"), recipes)


@pytest.fixture(scope="module")
def two_cpus(tmp_path_factory):
    return _run("mirrored", tmp_path_factory.mktemp("two"), MIRRORED)


def _same_losses(one_device, two_cpus, recipe):
    """The recipe's 6-step run on one device and on MirroredStrategy over two logical CPUs,
    checked to log the same losses (of which at least 4 differ); returns both runs' metrics
    and the logged steps."""
    one, two = one_device[recipe], two_cpus[recipe]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    steps = sorted(one["loss_history"], key=int)
    assert steps == sorted(two["loss_history"], key=int) and len(steps) == STEPS
    # Fine-tuning's zero head and warm-up make its first steps ln(10); later ones carry it.
    assert len({round(one["loss_history"][s], 4) for s in steps}) >= 4
    np.testing.assert_allclose(
        [one["loss_history"][s] for s in steps],
        [two["loss_history"][s] for s in steps],
        rtol=1e-4,
    )
    return one, two, steps


def test_mirrored_two_cpus_matches_one_device(one_device, two_cpus):
    one, two, _ = _same_losses(one_device, two_cpus, "finetune")
    assert one["test_accuracy"] == two["test_accuracy"]


def test_pretraining_on_two_cpus_clips_the_global_gradient_as_one_device_does(one_device, two_cpus):
    one, two, steps = _same_losses(one_device, two_cpus, "pretrain")
    np.testing.assert_allclose(one["weights_abs_sum"], two["weights_abs_sum"], rtol=1e-5)
    # The clipping is at work in these runs: without it they go elsewhere.
    free = one_device["pretrain_noclip"]
    assert abs(free["loss_history"][steps[-1]] - one["loss_history"][steps[-1]]) > 1e-2


def test_distillation_on_two_cpus_matches_one_device(one_device, two_cpus):
    # The teacher is built under the strategy's scope with the student; both replicas run it.
    one, two, _ = _same_losses(one_device, two_cpus, "distill")
    np.testing.assert_allclose(one["weights_abs_sum"], two["weights_abs_sum"], rtol=1e-5)
    for key in ("test_accuracy", "test_teacher_accuracy", "test_agreement"):
        assert one[key] == two[key], key


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _multi_worker(logdir, recipes, steps=3, env=None):
    """Both workers' metrics of each recipe ({recipe: [worker 0's, worker 1's]}) and logs."""
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(
            subprocess.Popen(
                [sys.executable, str(SCRIPT), "multi_worker", str(logdir), str(steps), recipes],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=_env({"TF_CONFIG": json.dumps(tf_config), **(env or {})}),
            )
        )
    logs = []
    for proc in procs:
        _, stderr = proc.communicate(timeout=900)
        assert proc.returncode == 0, stderr[-3000:]
        logs.append(stderr)
    outputs = [_metrics(logdir, recipes.split(","), task) for task in range(2)]
    return {recipe: [o[recipe] for o in outputs] for recipe in outputs[0]}, logs


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """Fine-tuning (digits), then pre-training (a TFDS data set in 6 TFRecord files, 3 read by
    each worker), in one start of two workers; the logdir of both."""
    logdir = tmp_path_factory.mktemp("workers")
    data_dir = sharded_tfds.prepare(str(tmp_path_factory.mktemp("tfds")))
    env = {"PRETRAIN_TFDS": f"{sharded_tfds.NAME}:{data_dir}"}
    outputs, logs = _multi_worker(logdir, "finetune,pretrain", env=env)
    return outputs, logdir, logs


def test_multi_worker_two_processes_end_with_identical_weights(two_workers):
    runs, logdir, _ = two_workers
    outputs, run = runs["finetune"], logdir / "finetune"
    assert [o["replicas"] for o in outputs] == [2, 2]
    assert outputs[0]["loss_history"] == outputs[1]["loss_history"]
    assert outputs[0]["weights_abs_sum"] == outputs[1]["weights_abs_sum"]
    assert outputs[0]["weights"] == outputs[1]["weights"]
    assert outputs[0]["test_accuracy"] == outputs[1]["test_accuracy"]
    # One writer: the chief's checkpoints and model; the worker's scratch space is gone.
    # (A cluster restarted mid-run: tests/training/test_worker_faults.py.)
    assert (run / "model.keras").exists()
    assert not (run / ".workers" / "worker1").exists()


def test_pretraining_on_two_workers_ends_with_identical_weights_and_one_npz(two_workers):
    outputs, run = two_workers[0]["pretrain"], two_workers[1] / "pretrain"
    assert [o["replicas"] for o in outputs] == [2, 2]
    assert all(f"on {sharded_tfds.NAME}:" in log for log in two_workers[2])
    assert outputs[0]["loss_history"] == outputs[1]["loss_history"]
    assert outputs[0]["weights"] == outputs[1]["weights"]
    assert (run / "model.npz").exists() and (run / "model.keras").exists()
    assert not (run / ".workers" / "worker1").exists()
