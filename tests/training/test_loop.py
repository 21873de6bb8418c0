"""The training loop end to end on the built-in digits, at toy sizes."""

import json
import os
import shutil

import keras
import numpy as np
import pytest

from bit_keras.training import hyperrule, train
from bit_keras.training.loop import CONFIG_FILE, MODEL_FILE
from bit_test_utils import tiny_train_config


def _config(logdir, **overrides):
    return tiny_train_config(logdir, **overrides)


# Runs that several tests start from, made once for this module: a test changes a copy.
SIX_STEPS = dict(eval_every=3)


@pytest.fixture(scope="module")
def six_steps(tmp_path_factory):
    """A finished run of six steps: its logdir, metrics and lines."""
    logdir, lines = tmp_path_factory.mktemp("six_steps"), []
    return logdir, train(_config(logdir, **SIX_STEPS), out=lines.append), lines


@pytest.fixture(scope="module")
def two_steps(tmp_path_factory):
    """A finished run of two steps: its logdir and metrics."""
    logdir = tmp_path_factory.mktemp("two_steps")
    return logdir, train(_config(logdir, steps=2), out=lambda _: None)


def _copy(logdir, tmp_path):
    return shutil.copytree(logdir, tmp_path / "run")


def test_trains_checkpoints_logs_and_saves(six_steps):
    logdir, metrics, lines = six_steps
    assert metrics["step"] == 6 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert metrics["test_examples"] == 359
    text = "\n".join(lines)
    assert "6 steps (warm-up 1, x0.1 after [2, 4, 5])" in text
    assert "step 6/6 (100%)" in text and "img/s" in text and "ETA" in text
    assert "step 3: test accuracy" in text
    assert f"Saved the model to {logdir / MODEL_FILE}" in text
    files = set(os.listdir(logdir))
    assert {MODEL_FILE, CONFIG_FILE, "checkpoints"} <= files
    assert any(f.startswith("events.out.tfevents") for f in files)
    assert not [f for f in files if f.startswith(".tmp-")]
    record = json.loads((logdir / CONFIG_FILE).read_text())
    assert record["resolved"]["crop"] == 8 and record["resolved"]["mixup_alpha"] == 0.0
    assert record["resolved"]["learning_rate"] == pytest.approx(0.2 * 8 / 512)
    assert record["metrics"]["test_accuracy"] == metrics["test_accuracy"]
    assert record["class_names"] == [str(d) for d in range(10)]  # read by the exporters
    model = keras.saving.load_model(logdir / MODEL_FILE)
    assert model.output_shape == (None, 10)
    checkpoints = sorted(os.listdir(logdir / "checkpoints"))
    assert "ckpt-3.index" in checkpoints and "ckpt-6.index" in checkpoints


def test_restart_after_the_end_does_not_train_again(six_steps, tmp_path):
    run = _copy(six_steps[0], tmp_path)
    written = (run / CONFIG_FILE).read_text()
    lines = []
    metrics = train(_config(run, **SIX_STEPS), out=lines.append)
    assert metrics["step"] == 6
    assert (run / CONFIG_FILE).read_text() == written  # its metrics are not overwritten
    assert any("Resumed from" in line and "at step 6" in line for line in lines)
    assert not any(line.startswith("step ") and "/6" in line for line in lines)


def test_resume_continues_step_and_learning_rate(six_steps, tmp_path):
    # A run whose last checkpoint is at step 3 (of 6) goes on from step 3.
    first = _copy(six_steps[0], tmp_path)
    os.remove(first / "checkpoints" / "ckpt-6.index")
    for name in os.listdir(first / "checkpoints"):
        if name.startswith("ckpt-6"):
            os.remove(first / "checkpoints" / name)
    (first / "checkpoints" / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-3"\nall_model_checkpoint_paths: "ckpt-3"\n'
    )
    lines = []
    train(_config(first, **SIX_STEPS), out=lines.append)
    steps = [line for line in lines if line.startswith("step ")]
    assert any("Resumed from" in line and "at step 3" in line for line in lines)
    lr = hyperrule.learning_rate(3, 0.2 * 8 / 512, hyperrule.Schedule(6, 1, (2, 4, 5)))
    assert steps[0].startswith("step 4/6") and f"lr {lr:.6g} " in steps[0]


def test_few_shot_run(tmp_path):
    lines = []
    train(_config(tmp_path, examples_per_class=2, steps=2), out=lines.append)
    assert lines[0] == "Weights: none (random initialisation)."
    assert lines[1].startswith("No checkpoint in ")
    assert "20 train / 359 test examples" in lines[2]


def test_fine_tuning_from_a_hub_repository(tmp_path, offline_hub):
    # --weights=hf-hub:...: the body of timm's fixture, a new head for the digits.
    from bit_keras.checkpoint import official_arrays, read_official_arrays
    from bit_keras.training import finetuning
    from bit_test_utils import lay_out_hub_cache, timm_fixture_files

    lay_out_hub_cache(offline_hub, "someone/bit-r14x1", timm_fixture_files())
    lines = []
    config = _config(tmp_path, weights="hf-hub:someone/bit-r14x1")
    model = finetuning.recipe(config, out=lines.append).build(0.01).model
    assert lines[0].startswith("Weights: the body of hf-hub:someone/bit-r14x1 (")
    assert lines[0].endswith(
        "; a new zero-initialised 10-class head (the file has a 10-class "
        "head, not loaded: BiT transfers with a new head)."
    )
    source = read_official_arrays("hf-hub:someone/bit-r14x1", like=None)
    for key, array in official_arrays(model).items():
        if "head" not in key:
            np.testing.assert_array_equal(array, source[key], err_msg=key)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"model": "R13x1"}, "Unknown architecture"),
        ({"model": "R14x1", "weights": "default"}, "without published weights"),
        ({"model": "R14x1", "weights": "hf-hub:timm"}, "does not name a Hugging Face Hub"),
        ({"model": "hf-hub:timm/resnetv2_50x1_bit.goog_in21k"}, "--model=R50x1 --weights="),
        ({"dataset": "no_such_dataset_xyz"}, "Unknown dataset"),
        ({"batch_size": 6, "batch_split": 4}, "divisible"),
        ({"examples_per_class": 1000}, "fewer than"),
    ],
)
def test_bad_runs_write_nothing(tmp_path, overrides, message):
    logdir = tmp_path / "run"
    with pytest.raises(ValueError, match=message):
        train(_config(logdir, **overrides), out=lambda _: None)
    assert not logdir.exists()


def test_batch_split_matches_whole_batch(two_steps, tmp_path):
    # Accumulating two half-batch gradients gives the same update as the whole batch.
    a = two_steps[1]
    b = train(_config(tmp_path / "b", steps=2, batch_split=2), out=lambda _: None)
    wa = keras.saving.load_model(a["model_path"]).get_weights()
    wb = keras.saving.load_model(b["model_path"]).get_weights()
    for x, y in zip(wa, wb, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_runs_and_restores_the_policy(tmp_path, policy):
    metrics, model = train(
        _config(tmp_path, steps=2, mixed_precision=policy), out=lambda _: None, return_model=True
    )
    assert np.isfinite(metrics["train_loss"])
    assert model.get_layer("block2_unit01").compute_dtype == policy.removeprefix("mixed_")
    assert model.get_layer("head").kernel.dtype == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_default_checkpoint_interval_is_a_tenth_of_the_run(tmp_path):
    from bit_keras.training.loop import checkpoint_interval

    config = _config(tmp_path, checkpoint_every=None)
    assert [checkpoint_interval(config, total) for total in (5, 30, 10_000)] == [1, 3, 1000]
    assert checkpoint_interval(_config(tmp_path, checkpoint_every=7), 30) == 7


def test_a_signal_in_the_library_saves_the_step_and_raises(tmp_path):
    import signal

    from bit_keras.training.interrupts import TrainingInterrupted

    def out(line):
        if line.startswith("step 1/"):
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(TrainingInterrupted) as caught:
        train(_config(tmp_path, steps=6, checkpoint_every=None, log_every=1), out=out)
    interrupted = caught.value
    assert interrupted.exit_status == 143 and 1 <= interrupted.step < 6
    assert interrupted.checkpoint == str(tmp_path / "checkpoints" / f"ckpt-{interrupted.step}")
    assert os.path.exists(interrupted.checkpoint + ".index")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_logdir_mistakes_fail_before_anything_is_written(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("notes")
    with pytest.raises(ValueError, match="is a file, not a folder: pass a new --logdir"):
        train(_config(a_file), out=lambda _: None)

    other = tmp_path / "other_run"
    other.mkdir()
    record = {"config": {"model": "R26x1", "dataset": "digits"}}
    (other / CONFIG_FILE).write_text(json.dumps(record))
    with pytest.raises(ValueError, match="holds a run of R26x1 on digits, not R14x1 on digits"):
        train(_config(other), out=lambda _: None)
    assert os.listdir(other) == [CONFIG_FILE]


def test_a_checkpoint_of_another_model_is_one_clear_error(two_steps, tmp_path):
    run = _copy(two_steps[0], tmp_path)
    (run / CONFIG_FILE).unlink()  # as after an interrupted run: checkpoints only
    with pytest.raises(ValueError, match=r"does not fit this model \(another run's\?\)"):
        train(_config(run, steps=2, model="R14x2"), out=lambda _: None)


def test_overwrite_deletes_only_the_run_and_starts_over(two_steps, tmp_path):
    run = _copy(two_steps[0], tmp_path)
    (run / "notes.txt").write_text("mine")  # not the run's: kept
    with pytest.raises(ValueError, match="--overwrite to delete that run"):
        train(_config(run, steps=2, model="R26x1"), out=lambda _: None)
    lines = []
    metrics = train(_config(run, steps=2, model="R26x1", overwrite=True), out=lines.append)
    assert lines[0] == f"--overwrite: deleted the run in {run}; starting over."
    assert f"No checkpoint in {run / 'checkpoints'}: training from the start." in lines
    assert metrics["step"] == 2 and (run / "notes.txt").read_text() == "mine"
    record = json.loads((run / CONFIG_FILE).read_text())
    assert record["config"]["model"] == "R26x1"
    # --overwrite does not excuse a logdir that cannot be written (below a file here).
    with pytest.raises(ValueError, match="cannot be written"):
        train(_config(run / "notes.txt" / "run", overwrite=True), out=lambda _: None)
    assert sorted(os.listdir(run / "checkpoints")) == sorted(
        ["checkpoint", "ckpt-2.index", "ckpt-2.data-00000-of-00001"]
    )


def test_another_keras_backend_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(ValueError, match=r"needs KERAS_BACKEND=tensorflow; .* here is 'jax'"):
        train(_config(tmp_path / "run"), out=lambda _: None)
    assert not (tmp_path / "run").exists()


def test_a_resumed_run_ends_with_the_uninterrupted_runs_weights(tmp_path, monkeypatch):
    # Stopped after step 4 of 9, then resumed: the same batches, the same updates, bit for
    # bit on one CPU. 20 examples in batches of 8 (few-shot), so the stop falls inside the
    # second epoch; MixUp and flips on, so every random draw is covered.
    import functools

    from bit_keras.training import loop

    monkeypatch.setattr(loop, "Progress", functools.partial(loop.Progress, every_seconds=0))
    options = dict(
        steps=9, checkpoint_every=100, log_every=1, mixup_alpha=0.2, examples_per_class=2
    )
    whole, whole_model = train(
        _config(tmp_path / "whole", **options), out=lambda _: None, return_model=True
    )
    import signal

    from bit_keras.training.interrupts import TrainingInterrupted

    def stop_after_step_4(line):
        if line.startswith("step 4/"):
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted) as caught:
        train(_config(tmp_path / "split", **options), out=stop_after_step_4)
    assert caught.value.step == 4
    resumed, resumed_model = train(
        _config(tmp_path / "split", **options), out=lambda _: None, return_model=True
    )
    assert resumed["loss_history"] == {s: whole["loss_history"][s] for s in range(5, 10)}
    for a, b in zip(whole_model.get_weights(), resumed_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
