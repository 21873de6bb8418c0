"""Preemption: a training process killed (SIGKILL) or stopped (Ctrl-C, SIGTERM) and started again
with the same command, as often as it takes."""

import json
import os
import random
import re
import signal

import keras
import numpy as np

import bit_keras.layers  # noqa: F401  (registers the layers for keras.saving.load_model)
from bit_test_utils import REPO, run_python, signal_when

# Long enough that a signal sent at an early progress line lands before the run ends.
STEPS = 60


def _command(logdir, program="train.py"):
    # bit-pretrain's defaults are the paper's (weights none, Inception crops at --crop).
    recipe = ["--weights=none", "--resize=12"] if program == "train.py" else ["--base_lr=0.4"]
    return [
        str(REPO / "tools" / program),
        "--model=R14x1",
        "--dataset=digits",
        f"--logdir={logdir}",
        "--batch_size=8",
        f"--steps={STEPS}",
        "--crop=8",
        "--checkpoint_every=5",
        "--log_every=1",
        "--noreport",  # not looked at here
        *recipe,
    ]


def _kill_when(logdir, ready, timeout=300, signum=signal.SIGKILL, program="train.py"):
    """Runs the command until `ready(its stdout so far)`, then sends `signum`; returns its
    output's lines (stdout, then stderr) and its status."""
    result = signal_when(_command(logdir, program), ready, signum, timeout=timeout)
    return (result.stdout + result.stderr).splitlines(keepends=True), result.returncode


def _checkpoint_done(logdir, step):
    """A `ready` test: true once the checkpoint of `step` is complete on disk."""

    def done(_):
        # CheckpointManager names a checkpoint in its state file only after writing it.
        state = logdir / "checkpoints" / "checkpoint"
        return state.exists() and f'"ckpt-{step}"' in state.read_text()

    return done


def _finish(logdir, program="train.py"):
    result = run_python(_command(logdir, program), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _checkpoints(logdir) -> list[int]:
    return sorted(
        int(f.split("-")[1].split(".")[0])
        for f in os.listdir(logdir / "checkpoints")
        if f.endswith(".index")
    )


def _resumed(logdir, step) -> str:
    """What a restart that resumes from the checkpoint of `step` says."""
    return f"Resumed from {logdir / 'checkpoints' / f'ckpt-{step}'} at step {step}."


def _interrupted(lines, status, signum, logdir) -> int:
    """The step at which Ctrl-C (SIGINT) or SIGTERM stopped the run, checked to be saved and
    said in one line, and the run's model not written."""
    output = "".join(lines)
    assert status == {signal.SIGINT: 130, signal.SIGTERM: 143}[signum], output[-3000:]
    match = re.search(r"Interrupted by (\w+) after step (\d+); saved (\S+)\. Run the same", output)
    assert match, output[-3000:]
    assert match[1] == signal.Signals(signum).name
    step = int(match[2])
    assert step < STEPS and match[3] == str(logdir / "checkpoints" / f"ckpt-{step}")
    assert "Traceback" not in output
    assert not (logdir / "model.keras").exists()
    return step


def test_a_run_stopped_four_ways_resumes_each_time_and_ends_with_the_uninterrupted_weights(
    tmp_path,
):
    """One run, stopped again and again with the same command restarted each time: SIGKILL
    before the first checkpoint, Ctrl-C, SIGKILL at a seeded random checkpoint, SIGTERM."""
    run = tmp_path / "run"

    # SIGKILL before the first checkpoint: the rerun starts over.
    _, status = _kill_when(run, lambda out: any(s.startswith("step 1/") for s in out.splitlines()))
    assert status == -signal.SIGKILL
    assert not (run / "checkpoints" / "checkpoint").exists()

    # Progress lines come every few seconds, not every step (a whole run can print only its
    # first and last): Ctrl-C goes when the first checkpoint is complete, at step 5.
    lines, status = _kill_when(run, _checkpoint_done(run, 5), signum=signal.SIGINT)
    output = "".join(lines)
    assert "Resumed" not in output and "starting at step 0." in output
    assert f"No checkpoint in {run / 'checkpoints'}: training from the start." in output
    stopped = _interrupted(lines, status, signal.SIGINT, run)
    assert stopped >= 5

    # SIGKILL a few steps after a later checkpoint; seeded, so that a failure is reproduced.
    after = 5 * random.Random(28).randint(3, 5)
    print(f"SIGKILL after the checkpoint at step {after}")
    lines, status = _kill_when(run, _checkpoint_done(run, after))
    assert status == -signal.SIGKILL
    assert _resumed(run, stopped) in "".join(lines)
    assert not (run / "model.keras").exists()
    last = _checkpoints(run)[-1]
    assert after <= last < STEPS

    # SIGTERM (a preemption notice) at the next checkpoint.
    following = 5 * (last // 5 + 1)
    lines, status = _kill_when(run, _checkpoint_done(run, following), signum=signal.SIGTERM)
    assert _resumed(run, last) in "".join(lines)
    stopped = _interrupted(lines, status, signal.SIGTERM, run)
    assert stopped >= following

    output = _finish(run)
    assert _resumed(run, stopped) in output
    assert f"starting at step {stopped}." in output
    steps = [line for line in output.splitlines() if line.startswith("step ")]
    assert steps[0].startswith(f"step {stopped + 1}/{STEPS}") and steps[-1].startswith(
        f"step {STEPS}/{STEPS}"
    )
    record = json.loads((run / "config.json").read_text())
    history = record["metrics"]["loss_history"]
    assert min(map(int, history)) == stopped + 1 and max(map(int, history)) == STEPS  # once each
    assert record["metrics"]["step"] == STEPS
    # The same command run without a break: the same losses, the same weights, bit for bit.
    _finish(tmp_path / "whole")
    whole = json.loads((tmp_path / "whole" / "config.json").read_text())["metrics"]
    assert history == {s: loss for s, loss in whole["loss_history"].items() if int(s) > stopped}
    assert record["metrics"]["test_accuracy"] == whole["test_accuracy"]
    weights = [
        keras.saving.load_model(d / "model.keras").get_weights() for d in (run, tmp_path / "whole")
    ]
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_pretraining_interrupted_by_ctrl_c_resumes_to_the_uninterrupted_weights(tmp_path):
    # bit-pretrain runs in the same loop: the same interrupt, the same exact resume.
    stopped = tmp_path / "stopped"
    lines, status = _kill_when(
        stopped, _checkpoint_done(stopped, 5), signum=signal.SIGINT, program="pretrain.py"
    )
    step = _interrupted(lines, status, signal.SIGINT, stopped)
    assert not (stopped / "model.npz").exists()
    resumed = _finish(stopped, "pretrain.py")
    assert _resumed(stopped, step) in resumed
    assert f"Wrote {stopped / 'model.npz'}" in resumed

    _finish(tmp_path / "whole", "pretrain.py")
    records = [json.loads((d / "config.json").read_text()) for d in (stopped, tmp_path / "whole")]
    assert records[0]["recipe"] == "Pre-training"
    history = records[0]["metrics"]["loss_history"]
    assert history == {
        s: loss for s, loss in records[1]["metrics"]["loss_history"].items() if int(s) > step
    }
    arrays = [np.load(d / "model.npz") for d in (stopped, tmp_path / "whole")]
    assert arrays[0].files == arrays[1].files
    for key in arrays[0].files:
        np.testing.assert_array_equal(arrays[0][key], arrays[1][key])
