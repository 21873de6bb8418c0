"""Damaged checkpoints: each save is read back before the oldest is deleted; a resume skips a
damaged newest checkpoint, names it, and goes on exactly from the one before."""

import os

import numpy as np
import pytest
import tensorflow as tf

import bit_keras.training.checkpoints as checkpoints
from bit_keras.training import train
from bit_keras.training.checkpoints import CheckpointDamagedError, Checkpoints
from bit_test_utils import tiny_train_config


def _cut(prefix: str) -> None:
    # Half of the data file, as a failed copy or a full disk leaves it.
    (data,) = tf.io.gfile.glob(prefix + ".data-*")
    with open(data, "rb") as f:
        content = f.read()
    with open(data, "wb") as f:
        f.write(content[: len(content) // 2])


def _small(tmp_path, keep=2):
    variable = tf.Variable(np.arange(1000, dtype=np.float32))
    lines = []
    return (
        variable,
        Checkpoints(tf.train.Checkpoint(v=variable), str(tmp_path), keep, lines.append),
        lines,
    )


def test_saves_keep_the_newest_and_a_bad_save_keeps_the_older_ones(tmp_path, monkeypatch):
    variable, store, _ = _small(tmp_path)
    for step in (1, 2, 3):
        variable.assign_add(tf.ones_like(variable))
        store.save(step)
    assert [os.path.basename(p) for p in store.paths()] == ["ckpt-2", "ckpt-3"]
    assert not tf.io.gfile.glob(str(tmp_path / "ckpt-1.*"))  # deleted after ckpt-3 read back
    assert store.latest == str(tmp_path / "ckpt-3")
    # A save that does not read back: an error, and nothing older is deleted.
    monkeypatch.setattr(checkpoints, "damage", lambda path: "DataLossError: cut short")
    with pytest.raises(CheckpointDamagedError, match=r"ckpt-4 just written does not read back"):
        store.save(4)
    assert [os.path.basename(p) for p in store.paths()] == ["ckpt-2", "ckpt-3"]
    assert store.latest == str(tmp_path / "ckpt-3")


def test_a_damaged_newest_checkpoint_is_named_and_the_one_before_restored(tmp_path):
    variable, store, lines = _small(tmp_path, keep=3)
    for step in (1, 2, 3):
        variable.assign(np.full(1000, step, np.float32))
        store.save(step)
    _cut(store.latest)
    variable.assign(np.zeros(1000, np.float32))
    restored = store.restore(lambda path: store.checkpoint.restore(path))
    assert restored == str(tmp_path / "ckpt-2")
    np.testing.assert_array_equal(variable.numpy(), np.full(1000, 2, np.float32))
    assert lines[0].startswith(f"The checkpoint {tmp_path / 'ckpt-3'} is damaged (")
    assert tf.train.latest_checkpoint(str(tmp_path)) == restored  # the state file agrees
    assert tf.io.gfile.glob(str(tmp_path / "damaged" / "ckpt-3.*"))  # set aside, not deleted
    # None that reads: one error naming them and the way out.
    for path in store.paths():
        _cut(path)
    with pytest.raises(
        CheckpointDamagedError, match=r"damaged: ckpt-2, ckpt-1\): pass --overwrite"
    ):
        store.restore(lambda path: store.checkpoint.restore(path))


class _KilledError(Exception):
    """Where the process died."""


def _die(*args, **kwargs):
    raise _KilledError


def test_a_save_that_did_not_finish_is_set_aside_at_the_next_start(tmp_path, monkeypatch):
    from tensorflow.python.ops import gen_io_ops

    variable, store, _ = _small(tmp_path, keep=3)
    for step in (1, 2):
        variable.assign(np.full(1000, step, np.float32))
        store.save(step)
    # Stopped before TensorFlow merged the shards (ckpt-3_temp/), then after a whole
    # checkpoint was written but before the state file listed it (ckpt-4).
    variable.assign(np.full(1000, 3, np.float32))
    with monkeypatch.context() as patch:
        patch.setattr(gen_io_ops, "merge_v2_checkpoints", _die)
        with pytest.raises(_KilledError):
            store.save(3)
    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "_write_state", _die)
        with pytest.raises(_KilledError):
            store.save(4)
    assert tf.io.gfile.isdir(str(tmp_path / "ckpt-3_temp"))
    assert tf.io.gfile.exists(str(tmp_path / "ckpt-4.index"))

    variable.assign(np.zeros(1000, np.float32))
    lines = []
    started = Checkpoints(store.checkpoint, str(tmp_path), 3, lines.append)
    assert started.set_aside_unfinished() == [str(tmp_path / "ckpt-3"), str(tmp_path / "ckpt-4")]
    aside = tmp_path / "damaged"
    assert lines == [
        f"The checkpoint {tmp_path / name} was not finished (the run stopped while writing "
        f"it); moved its files into {aside}."
        for name in ("ckpt-3", "ckpt-4")
    ]
    assert sorted(os.listdir(tmp_path)) == [
        "checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index",
        "ckpt-2.data-00000-of-00001", "ckpt-2.index", "damaged",
    ]  # fmt: skip
    assert os.listdir(aside / "ckpt-3_temp") and (aside / "ckpt-4.index").exists()
    assert started.restore(lambda path: store.checkpoint.restore(path)) == str(tmp_path / "ckpt-2")
    np.testing.assert_array_equal(variable.numpy(), np.full(1000, 2, np.float32))
    # The saves to come meet no leftovers; nothing else is unfinished.
    assert os.path.basename(started.save(3)) == "ckpt-3"
    assert started.set_aside_unfinished() == []
    # A folder no run resumes from (a cluster worker's own): deleted, not kept.
    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "_write_state", _die)
        with pytest.raises(_KilledError):
            started.save(4)
    assert started.set_aside_unfinished(keep=False) == [str(tmp_path / "ckpt-4")]
    assert lines[-1].endswith("was not finished (the run stopped while writing it); deleted it.")
    assert not tf.io.gfile.glob(str(tmp_path / "ckpt-4*"))


def _config(logdir):
    return tiny_train_config(logdir, checkpoint_every=2)


def test_a_run_resumes_past_a_damaged_checkpoint_to_the_same_weights(tmp_path):
    run = tmp_path / "run"
    _, whole = train(_config(run), out=lambda _: None, return_model=True)
    # As if the run had stopped after step 6's checkpoint, which a bad copy cut short: the
    # steps after ckpt-4 run again, to the weights it had.
    os.remove(run / "model.keras")
    _cut(str(run / "checkpoints" / "ckpt-6"))
    lines = []
    _, resumed = train(_config(run), out=lines.append, return_model=True)
    assert any(
        line.startswith(f"The checkpoint {run / 'checkpoints' / 'ckpt-6'} is damaged")
        for line in lines
    )
    assert f"Resumed from {run / 'checkpoints' / 'ckpt-4'} at step 4." in lines
    for a, b in zip(resumed.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
