"""Distillation by function matching: the loss, the same pixels for both models, a frozen
teacher, a short run and its exact resume, unlabelled data, and the flags."""

import json
import os
import signal

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from bit_keras.training import DistillConfig, distill
from bit_keras.training.distillation import recipe
from bit_keras.training.interrupts import TrainingInterrupted
from bit_keras.training.losses import kl_divergence
from bit_test_utils import run_python


def _config(logdir, teacher, **overrides):
    values = dict(
        teacher=str(teacher),
        model="R14x1",
        weights="none",
        dataset="digits",
        logdir=str(logdir),
        batch_size=8,
        steps=6,
        crop=16,
        base_lr=0.001,
        checkpoint_every=3,
        log_every=1,
        random_flip=False,
        report=False,
    )
    return DistillConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def six_steps(tmp_path_factory, official_ckpt):
    """A finished six-step run with its report, made once for this module: its logdir,
    metrics and lines."""
    logdir, lines = tmp_path_factory.mktemp("six_steps"), []
    return logdir, distill(_config(logdir, official_ckpt, report=True), out=lines.append), lines


def test_kl_divergence_is_big_visions():
    rng = np.random.default_rng(0)
    student, teacher = rng.normal(size=(2, 4, 7)).astype("float32")
    for t in (1.0, 2.5):
        p = tf.nn.softmax(teacher / t).numpy()
        log_q = tf.nn.log_softmax(student / t).numpy()
        expected = t**2 * np.sum(p * (np.log(p) - log_q), axis=-1)
        np.testing.assert_allclose(kl_divergence(student, teacher, t), expected, rtol=1e-5)
    np.testing.assert_allclose(kl_divergence(teacher, teacher), 0.0, atol=1e-6)
    teacher_var = tf.Variable(teacher)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(kl_divergence(student, teacher_var))
    assert tape.gradient(loss, teacher_var) is None


def test_a_student_that_is_the_teacher_has_zero_loss_on_the_same_augmented_pixels(
    official_ckpt, tmp_path
):
    # The student starts as a copy of the teacher; Inception crops and MixUp (alpha 1) make
    # every image of the batch new. Only if both models see the same pixels is the loss 0.
    config = _config(tmp_path, official_ckpt, weights=str(official_ckpt), steps=1, crop=32)
    metrics = distill(config, out=print)
    assert metrics["train_loss"] < 1e-6, metrics["train_loss"]
    # The same teacher on the batch's images in another order: far from 0.
    images = np.random.default_rng(1).uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    teacher = keras.saving.load_model(tmp_path / "model.keras")
    logits = teacher(images)
    assert float(tf.reduce_mean(kl_divergence(logits, logits[::-1]))) > 1e-3


def test_gradients_never_reach_the_teacher(official_ckpt, tmp_path):
    r = recipe(_config(tmp_path, official_ckpt), out=lambda line: None)
    parts = r.build(0.01)
    student, teacher = parts.model, parts.loss.teacher
    assert not teacher.trainable_weights and teacher.weights
    images = tf.random.uniform((4, 16, 16, 3), -1, 1, seed=0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([w.value for w in teacher.weights])
        loss = tf.reduce_sum(parts.loss(student, images, None))
    assert all(g is None for g in tape.gradient(loss, [w.value for w in teacher.weights]))
    student_grads = tape.gradient(loss, student.trainable_variables)
    assert all(g is not None for g in student_grads)
    # The optimizer knows the student alone; it decays the kernels, not GroupNorm or biases.
    optimizer = parts.optimizer
    optimizer.build(student.trainable_variables)
    decayed = [v for v in student.trainable_variables if optimizer._use_weight_decay(v)]
    assert decayed and all(v.path.endswith("kernel") for v in decayed)


def test_a_short_run_records_both_models_and_their_agreement(six_steps, official_ckpt):
    logdir, metrics, lines = six_steps
    record = json.loads((logdir / "config.json").read_text())
    assert record["recipe"] == "Distillation"
    for key in ("test_accuracy", "test_teacher_accuracy", "test_agreement"):
        assert 0.0 <= metrics[key] <= 1.0 and record["metrics"][key] == metrics[key]
    assert record["teacher"] == str(official_ckpt)
    assert record["teacher_parameters"] == 8_028_746
    assert any(line.startswith("Teacher: ") and "MiB of weights" in line for line in lines)
    assert "teacher accuracy" in lines[-4] and "agreement" in lines[-4]
    assert (logdir / "model.npz").is_file() and (logdir / "report.html").is_file()
    page = (logdir / "report.html").read_text()
    assert "test teacher accuracy" in page and "test agreement" in page


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_under_xla(tmp_path, official_ckpt, policy):
    metrics, student = distill(
        _config(tmp_path, official_ckpt, steps=2, mixed_precision=policy, jit_compile=True),
        out=lambda _: None,
        return_model=True,
    )
    assert np.isfinite(metrics["train_loss"]) and metrics["train_loss"] > 0
    assert 0.0 <= metrics["test_agreement"] <= 1.0
    conv = student.get_layer("block2_unit01").b_conv
    assert conv.compute_dtype == policy.removeprefix("mixed_") and conv.kernel.dtype == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_an_interrupted_run_resumes_exactly(six_steps, tmp_path, official_ckpt):
    whole_logdir, whole, _ = six_steps

    def stop_after_first_step(line):
        if line.startswith("step 1/"):
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted):
        distill(_config(tmp_path / "broken", official_ckpt), out=stop_after_first_step)
    lines = []
    resumed = distill(_config(tmp_path / "broken", official_ckpt), out=lines.append)
    assert any(line.startswith("Resumed from ") and "at step 1." in line for line in lines)
    assert resumed["loss_history"] == {s: v for s, v in whole["loss_history"].items() if int(s) > 1}
    a, b = (
        keras.saving.load_model(d / "model.keras").get_weights()
        for d in (whole_logdir, tmp_path / "broken")
    )
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_an_unlabelled_folder_is_measured_by_agreement(tmp_path, official_ckpt):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    lines = []
    metrics = distill(
        _config(tmp_path / "run", official_ckpt, dataset=f"folder:{folder}", report=True),
        out=lines.append,
    )
    assert "test_accuracy" not in metrics and 0.0 <= metrics["test_agreement"] <= 1.0
    assert any("(no labels: the metric is the agreement)" in line for line in lines)
    assert "have no labels" in (tmp_path / "run" / "report.html").read_text()


def test_flags_are_checked_before_tensorflow(tmp_path):
    result = run_python(
        ["tools/distill.py", "--model=R14x1", f"--logdir={tmp_path}", "--dataset=digits"]
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "bit-distill: error: `teacher` is required: the model whose function the student learns."
    )
    result = run_python(["tools/distill.py", "--teacher=/no/teacher.keras", f"--logdir={tmp_path}"])
    assert result.returncode == 1 and "'/no/teacher.keras' does not exist" in result.stderr
