"""A run whose loss or weights stop being finite: one line, a non-zero exit, the failure in
config.json, and only finite checkpoints kept, from which a rerun with a lower rate goes on."""

import json

import numpy as np
import tensorflow as tf

from bit_keras.training.run_lock import LOCK_FILE
from bit_test_utils import REPO, run_python

MAIN_JOB = [
    "--model=R14x1",
    "--weights=none",
    "--dataset=digits",
    "--resize=12",
    "--crop=8",
    "--batch_size=8",
    "--steps=30",
    "--checkpoint_every=2",
]


def _train(logdir, *args):
    return run_python([str(REPO / "tools" / "train.py"), *MAIN_JOB, f"--logdir={logdir}", *args])


def test_a_diverging_run_stops_with_one_line_and_a_rerun_goes_on(tmp_path):
    logdir = tmp_path / "run"
    result = _train(logdir, "--base_lr=1e6")
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("bit-train: error:")]
    assert "training diverged and stopped" in line
    assert "Try a lower --base_lr (now 1e+06)" in line
    failure = json.loads((logdir / "config.json").read_text())["failure"]
    assert failure["kind"] == "diverged" and failure["message"] in line
    assert f"step {failure['step']} " in line
    # The checkpoint kept is finite: the weights are checked before each save.
    checkpoint = failure["checkpoint"]
    assert checkpoint and f"the last good checkpoint, {checkpoint}, is kept" in line
    reader = tf.train.load_checkpoint(checkpoint)
    floats = [k for k, d in reader.get_variable_to_dtype_map().items() if d.is_floating]
    assert floats and all(np.isfinite(reader.get_tensor(k)).all() for k in floats)
    assert tf.train.latest_checkpoint(logdir / "checkpoints") == checkpoint
    assert not (logdir / LOCK_FILE).exists()
    # A rerun with a lower rate resumes there and ends as a run does.
    result = _train(logdir, "--base_lr=0.01")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Resumed from {checkpoint} at step " in result.stdout
    record = json.loads((logdir / "config.json").read_text())
    assert "failure" not in record and np.isfinite(record["metrics"]["train_loss"])
