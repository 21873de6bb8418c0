"""Preemption: a training process killed with SIGKILL and started again with the same command."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import bit_keras.layers  # noqa: F401  (registers the layers for keras.saving.load_model)
from bit_test_utils import REPO

# Long enough that a signal sent at an early progress line lands before the run ends.
STEPS = 60


def _command(logdir, program="train.py"):
    # bit-pretrain's defaults are the paper's (weights none, Inception crops at --crop).
    recipe = ["--weights=none", "--resize=12"] if program == "train.py" else ["--base_lr=0.4"]
    return [
        sys.executable,
        str(REPO / "tools" / program),
        "--model=R14x1",
        "--dataset=digits",
        f"--logdir={logdir}",
        "--batch_size=8",
        f"--steps={STEPS}",
        "--crop=8",
        "--checkpoint_every=5",
        "--log_every=1",
        *recipe,
    ]


def _env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def _kill_when(logdir, ready, timeout=300, signum=signal.SIGKILL, program="train.py"):
    proc = subprocess.Popen(
        _command(logdir, program),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
    )
    lines, deadline = [], time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        if line:
            lines.append(line)
        if ready(lines):
            proc.send_signal(signum)
            rest, _ = proc.communicate(timeout=timeout)
            return lines + rest.splitlines(keepends=True), proc.returncode
        if not line:
            time.sleep(0.05)
    raise AssertionError("the run ended before it could be killed:\n" + "".join(lines))


def _checkpoint_done(logdir, step):
    """A `ready` test: true once the checkpoint of `step` is complete on disk."""

    def done(_):
        # CheckpointManager names a checkpoint in its state file only after writing it.
        state = logdir / "checkpoints" / "checkpoint"
        return state.exists() and f'"ckpt-{step}"' in state.read_text()

    return done


def _finish(logdir, program="train.py"):
    result = subprocess.run(
        _command(logdir, program),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_sigkill_at_a_random_step_resumes_and_ends_with_the_uninterrupted_weights(tmp_path):
    killed = tmp_path / "killed"
    # A checkpoint, then a kill a few steps later; seeded, so that a failure is reproduced.
    after = 5 * random.Random(28).randint(1, 4)
    print(f"SIGKILL after the checkpoint at step {after}")

    _, status = _kill_when(killed, _checkpoint_done(killed, after))
    assert status == -signal.SIGKILL
    assert not (killed / "model.keras").exists()
    checkpoints = sorted(
        int(f.split("-")[1].split(".")[0])
        for f in os.listdir(killed / "checkpoints")
        if f.endswith(".index")
    )
    last = checkpoints[-1]
    assert after <= last < STEPS

    output = _finish(killed)
    assert f"Resumed from {killed / 'checkpoints' / f'ckpt-{last}'} at step {last}." in output
    assert f"starting at step {last}." in output
    steps = [line for line in output.splitlines() if line.startswith("step ")]
    assert steps[0].startswith(f"step {last + 1}/{STEPS}") and steps[-1].startswith(
        f"step {STEPS}/{STEPS}"
    )
    record = json.loads((killed / "config.json").read_text())
    history = record["metrics"]["loss_history"]
    assert min(map(int, history)) == last + 1 and max(map(int, history)) == STEPS  # once each
    assert record["metrics"]["step"] == STEPS
    # The same command run without a break: the same losses, the same weights, bit for bit.
    _finish(tmp_path / "whole")
    whole = json.loads((tmp_path / "whole" / "config.json").read_text())["metrics"]
    assert history == {s: loss for s, loss in whole["loss_history"].items() if int(s) > last}
    assert record["metrics"]["test_accuracy"] == whole["test_accuracy"]
    weights = [
        keras.saving.load_model(d / "model.keras").get_weights()
        for d in (killed, tmp_path / "whole")
    ]
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sigkill_before_the_first_checkpoint_starts_over(tmp_path):
    def first_step(lines):
        return any(line.startswith("step 1/") for line in lines)

    _kill_when(tmp_path, first_step)
    assert not (tmp_path / "checkpoints" / "checkpoint").exists()
    output = _finish(tmp_path)
    assert "Resumed" not in output and "starting at step 0." in output
    assert f"No checkpoint in {tmp_path / 'checkpoints'}: training from the start." in output
    record = json.loads((tmp_path / "config.json").read_text())
    assert (
        record["metrics"]["step"] == STEPS and min(map(int, record["metrics"]["loss_history"])) == 1
    )


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_checkpoints_the_current_step_and_the_rerun_resumes(
    tmp_path, signum, status
):
    # Progress lines come every few seconds, not every step (a whole run can print only its
    # first and last): the signal goes when the first checkpoint is complete, at step 5.
    lines, returncode = _kill_when(tmp_path, _checkpoint_done(tmp_path, 5), signum=signum)
    output = "".join(lines)
    assert returncode == status, output[-3000:]
    match = re.search(r"Interrupted by (\w+) after step (\d+); saved (\S+)\. Run the same", output)
    assert match, output[-3000:]
    assert match[1] == signal.Signals(signum).name
    step = int(match[2])
    assert 5 <= step < STEPS and match[3] == str(tmp_path / "checkpoints" / f"ckpt-{step}")
    assert "Traceback" not in output
    assert not (tmp_path / "model.keras").exists()

    resumed = _finish(tmp_path)
    assert f"Resumed from {match[3]} at step {step}." in resumed
    record = json.loads((tmp_path / "config.json").read_text())
    assert record["metrics"]["step"] == STEPS
    assert min(map(int, record["metrics"]["loss_history"])) == step + 1


def test_pretraining_interrupted_by_ctrl_c_resumes_to_the_uninterrupted_weights(tmp_path):
    # bit-pretrain runs in the same loop: the same interrupt, the same exact resume.
    stopped = tmp_path / "stopped"
    lines, status = _kill_when(
        stopped, _checkpoint_done(stopped, 5), signum=signal.SIGINT, program="pretrain.py"
    )
    output = "".join(lines)
    assert status == 130, output[-3000:]
    match = re.search(r"Interrupted by SIGINT after step (\d+); saved (\S+)\. Run the same", output)
    assert match and "Traceback" not in output, output[-3000:]
    assert not (stopped / "model.npz").exists()
    resumed = _finish(stopped, "pretrain.py")
    assert f"Resumed from {match[2]} at step {match[1]}." in resumed
    assert f"Wrote {stopped / 'model.npz'}" in resumed

    _finish(tmp_path / "whole", "pretrain.py")
    records = [json.loads((d / "config.json").read_text()) for d in (stopped, tmp_path / "whole")]
    assert records[0]["recipe"] == "Pre-training"
    history = records[0]["metrics"]["loss_history"]
    assert history == {
        s: loss
        for s, loss in records[1]["metrics"]["loss_history"].items()
        if int(s) > int(match[1])
    }
    arrays = [np.load(d / "model.npz") for d in (stopped, tmp_path / "whole")]
    assert arrays[0].files == arrays[1].files
    for key in arrays[0].files:
        np.testing.assert_array_equal(arrays[0][key], arrays[1][key])
