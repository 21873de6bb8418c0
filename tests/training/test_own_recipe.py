"""A fourth recipe, defined here and nowhere in bit_keras/training: a regression head (the
digit's value as a number) with its own config, loss, optimizer and metrics, run by the one
loop with checkpoints, an interrupt, exact resume and the report. Also: the test split is
read once at the end of a run (the report's predictions come from that one pass)."""

import dataclasses
import functools
import json
import os
import signal

import keras
import numpy as np
import pytest
import tensorflow as tf

import bit_keras
from bit_keras.training import (
    Evaluation,
    Measured,
    Parts,
    Recipe,
    RunConfig,
    run_recipe,
    shared,
)
from bit_keras.training.interrupts import TrainingInterrupted
from bit_test_utils import tiny_train_config

# ---- the recipe: its config and build, 57 lines --------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class RegressionConfig(RunConfig):
    """Regress the digit's value (0-9) with Adam; weight decay on the kernels alone."""

    base_lr: float = 1e-3
    weight_decay: float = 1e-4


def regression_recipe(config: RegressionConfig, out=print) -> Recipe:
    source = shared.load_data(config, out)
    crop, steps = config.crop, config.steps

    def squared_error(model, images, targets):
        value = tf.cast(tf.argmax(targets, axis=-1), tf.float32)  # one-hot digits: no MixUp
        return tf.square(tf.cast(model(images, training=True), tf.float32)[:, 0] - value)

    def evaluate(model, images, labels, mask):
        predicted = tf.cast(model(images, training=False), tf.float32)[:, 0]
        error = tf.abs(predicted - tf.cast(labels, tf.float32))
        return Measured(
            sums={
                "mean_absolute_error": tf.reduce_sum(error * mask),
                "within_half": tf.reduce_sum(tf.cast(error < 0.5, tf.float32) * mask),
            },
            examples={"value": tf.cast(labels, tf.float32), "predicted_value": predicted},
        )

    def build(learning_rate) -> Parts:
        model = bit_keras.create_model(
            config.model, weights=None, classes=1, input_shape=(crop, crop, 3)
        )
        adamw = keras.optimizers.AdamW(learning_rate, weight_decay=config.weight_decay)
        decayed = {id(v) for v in shared.kernels(model)}  # the optimizer sees the model
        adamw.exclude_from_weight_decay([v for v in model.weights if id(v) not in decayed])
        return Parts(
            model=model,
            optimizer=adamw,
            loss=squared_error,
            evaluation=Evaluation(
                batch=evaluate, headline="mean_absolute_error", words="test mean absolute error"
            ),
        )

    return Recipe(
        kind="Regression",
        settings=f"{source.train_size} images, crop {crop}, {steps} steps, Adam",
        total_steps=steps,
        learning_rate=keras.optimizers.schedules.CosineDecay(config.base_lr, steps),
        build=build,
        train_dataset=shared.training_data(
            source.train_examples, config, resize=crop + 4, crop=crop, num_classes=10
        ),
        eval_dataset=shared.evaluation_data(source, crop),
        eval_size=source.test_size,
        advice="Try a lower base_lr",
        record={"resolved": {"target": "the digit's value"}},
    )


# ---- the recipe ends --------------------------------------------------------------------


def _config(logdir, **overrides):
    values = dict(
        model="R14x1",
        weights="none",
        logdir=str(logdir),
        batch_size=8,
        steps=9,
        crop=8,
        random_flip=False,
        checkpoint_every=3,
        log_every=1,
    )
    return RegressionConfig(**{**values, **overrides})


def _run(config, out=lambda _: None, **kwargs):
    return run_recipe(config, lambda: regression_recipe(config, out), out=out, **kwargs)


def test_a_recipe_of_ones_own_trains_stops_resumes_exactly_and_reports(tmp_path, monkeypatch):
    from bit_keras.training import loop

    # A progress line at every step, so that the interrupt lands at step 4.
    monkeypatch.setattr(loop, "Progress", functools.partial(loop.Progress, every_seconds=0))
    whole, whole_model = _run(_config(tmp_path / "whole"), return_model=True)
    assert set(whole) >= {"test_mean_absolute_error", "test_within_half"}
    assert 0 < whole["test_mean_absolute_error"] < 9 and 0 <= whole["test_within_half"] <= 1

    def stop_after_step_4(line):
        if line.startswith("step 4/"):
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted) as caught:
        _run(_config(tmp_path / "split"), out=stop_after_step_4)
    assert caught.value.step == 4 and (tmp_path / "split" / "checkpoints").is_dir()
    lines = []
    resumed, resumed_model = _run(_config(tmp_path / "split"), lines.append, return_model=True)
    assert any(line.startswith("Resumed from ") and "at step 4." in line for line in lines)
    assert resumed["loss_history"] == {s: whole["loss_history"][s] for s in range(5, 10)}
    for a, b in zip(whole_model.get_weights(), resumed_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert resumed["test_mean_absolute_error"] == whole["test_mean_absolute_error"]
    # Its own words and metrics, the headline first; the run record; the report.
    (final,) = [line for line in lines if line.startswith("Test mean absolute error ")]
    assert f" on {resumed['test_examples']} examples; within half " in final
    record = json.loads((tmp_path / "split" / "config.json").read_text())
    assert record["recipe"] == "Regression" and record["resolved"]["target"] == "the digit's value"
    kept = np.load(tmp_path / "split" / "predictions.npz")
    assert kept["value"].shape == kept["predicted_value"].shape == (whole["test_examples"],)
    errors = np.abs(kept["value"] - kept["predicted_value"]).mean()
    assert errors == pytest.approx(resumed["test_mean_absolute_error"], rel=1e-5)
    page = (tmp_path / "split" / "report.html").read_text()
    assert 'src="report/curves.png"' in page and "Confusion matrix" not in page
    assert f"{resumed['test_within_half']:.4f}" in page


def test_the_test_split_is_read_once_at_the_end_of_a_run(tmp_path, monkeypatch):
    # A fine-tuning run with its report: the final evaluation's one pass over the test split
    # gives the metric and the report's predictions.
    reads = []

    def counted(evaluation_data):
        def make(source, crop, *args):
            eval_dataset = evaluation_data(source, crop, *args)

            def counting(context, batch_size):
                def count(images, labels, mask):
                    mask = tf.py_function(lambda m: (reads.append(1), m)[1], [mask], tf.float32)
                    return images, labels, tf.ensure_shape(mask, [])

                return eval_dataset(context, batch_size).unbatch().map(count).batch(batch_size)

            return counting

        return make

    monkeypatch.setattr(shared, "evaluation_data", counted(shared.evaluation_data))
    lines = []
    metrics = bit_keras.training.train(tiny_train_config(tmp_path, report=True), out=lines.append)
    test_size = metrics["test_examples"]
    padded = -(-test_size // 8) * 8  # whole batches, the last one filled with masked fillers
    assert len(reads) == padded
    assert (tmp_path / "report.html").is_file()
    kept = np.load(tmp_path / "predictions.npz")
    accuracy = np.mean(kept["labels"] == kept["predicted"])
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-9)
