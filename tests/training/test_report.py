"""The run report: written at the end of a run from the run's files, its pictures real PNGs,
its confusion matrix the final model's test predictions; rebuilt by tools/report.py; a
report that fails costs the run one line, never the run."""

import json
import pathlib
import shutil
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from bit_keras import data
from bit_keras.training import report, train
from bit_test_utils import REPO, run_python, tiny_train_config

PICTURES = ("curves.png", "confusion.png", "per_class.png", "misclassified.png")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("run")
    lines = []
    metrics = train(tiny_train_config(logdir, steps=8, log_every=2, report=True), out=lines.append)
    return logdir, metrics, lines


def _model_predictions(logdir):
    # The saved model on the test split, prepared as evaluation prepares it (8x8 crops).
    model = keras.models.load_model(logdir / "model.keras")
    source = data.load_source("digits")
    images = np.stack([x for x, _ in source.test().as_numpy_iterator()])
    labels = np.array([y for _, y in source.test().as_numpy_iterator()])
    batch = next(
        iter(data.eval_dataset(source.test(), size=len(labels), batch_size=len(labels), crop=8))
    )
    assert batch[0].shape[0] == len(images)
    logits = model.predict(batch[0], verbose=0)
    return labels, np.argmax(logits, axis=-1)


def test_a_run_leaves_a_report_with_its_pictures(finished_run):
    logdir, metrics, lines = finished_run
    page = (logdir / "report.html").read_text()
    assert f"Wrote the report {logdir / 'report.html'}" in lines
    for name in PICTURES:
        assert f'src="report/{name}"' in page
        with Image.open(logdir / "report" / name) as image:
            image.verify()
        with Image.open(logdir / "report" / name) as image:
            assert image.format == "PNG"
            assert 300 <= image.width <= 3000 and 200 <= image.height <= 3000, image.size
            assert len(set(np.asarray(image.convert("L")).ravel().tolist())) > 10  # not blank
    assert f"{metrics['test_accuracy']:.4f}" in page


def test_the_confusion_matrix_counts_the_final_models_test_predictions(finished_run):
    logdir, metrics, _ = finished_run
    labels, predicted = _model_predictions(logdir)
    matrix = np.loadtxt(logdir / "report" / "confusion.csv", delimiter=",", dtype=int)
    expected = np.zeros((10, 10), int)
    np.add.at(expected, (labels, predicted), 1)
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.sum() == metrics["test_examples"] == 359
    assert np.trace(matrix) / matrix.sum() == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    kept = report.Predictions.load(str(logdir / "predictions.npz"))
    wrong = np.flatnonzero(kept.labels != kept.predicted)
    np.testing.assert_array_equal(kept.misclassified, wrong[: report.MISCLASSIFIED_SHOWN])
    assert kept.thumbnails.shape[1:] == (8, 8, 3) and kept.thumbnails.dtype == np.uint8


def test_the_curves_are_the_runs_scalars(finished_run):
    logdir, metrics, _ = finished_run
    scalars = report.read_scalars(str(logdir))
    assert sorted(scalars["train/loss"]) == [2, 4, 6, 8]
    for step, loss in metrics["loss_history"].items():
        assert scalars["train/loss"][int(step)] == pytest.approx(loss, rel=1e-6)
    assert scalars["test/accuracy"][8] == pytest.approx(metrics["test_accuracy"], abs=1e-6)


def test_tools_report_rebuilds_it(finished_run, tmp_path):
    logdir, _, _ = finished_run
    copy = tmp_path / "copy"
    shutil.copytree(logdir, copy, ignore=shutil.ignore_patterns("model.keras", "checkpoints"))
    shutil.rmtree(copy / "report")
    (copy / "report.html").unlink()
    result = run_python(["tools/report.py", str(copy)], cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == f"Wrote the report {copy / 'report.html'}"
    assert result.stderr == ""
    for name in (*PICTURES, "confusion.csv"):
        assert (copy / "report" / name).is_file()
    assert (copy / "report" / "confusion.csv").read_text() == (
        logdir / "report" / "confusion.csv"
    ).read_text()
    result = run_python(["tools/report.py", str(tmp_path / "nothing")], cwd=REPO)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("bit-report: error:")
    assert "holds no finished run" in result.stderr


def test_a_failing_report_costs_one_line_not_the_run(tmp_path, monkeypatch):
    def broken(logdir, out=print):
        raise RuntimeError("no room for pictures")

    monkeypatch.setattr(report, "write_report", broken)
    lines = []
    metrics = train(tiny_train_config(tmp_path, steps=2, report=True), out=lines.append)
    warnings = [line for line in lines if line.startswith("WARNING: the run's report")]
    assert len(warnings) == 1 and "RuntimeError: no room for pictures" in warnings[0]
    assert f"tools/report.py {tmp_path}" in warnings[0]
    assert (tmp_path / "model.keras").is_file() and np.isfinite(metrics["train_loss"])
    assert (tmp_path / "predictions.npz").is_file() and not (tmp_path / "report.html").exists()


def _logdir_with(tmp_path, examples, class_names):
    # A run folder of made-up predictions (for the layout of large and multi-label reports).
    (tmp_path / "config.json").write_text(
        json.dumps({"recipe": "Pre-training", "config": {}, "class_names": class_names})
    )
    examples.save(str(tmp_path / "predictions.npz"))
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        for step in (1, 2):
            tf.summary.scalar("train/loss", 3.0 - step, step=step)
    return str(tmp_path)


def _classified(labels, predicted, shown, thumbnails):
    # A classifier's evaluation outputs, as the loop keeps them.
    return report.Examples({"labels": labels, "predicted": predicted}, shown, thumbnails)


def test_many_classes_list_the_most_confused_pairs(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 150, 3000)
    predicted = np.where(rng.random(3000) < 0.7, labels, rng.integers(0, 150, 3000))
    predicted[:40] = 7
    labels[:40] = 3  # 40 images of class 3 taken for 7: the most frequent mistake
    names = [f"class{i}" for i in range(150)]
    empty = np.zeros((0, 1, 1, 3), np.uint8)
    logdir = _logdir_with(
        tmp_path, _classified(labels, predicted, np.array([], np.int64), empty), names
    )
    page = pathlib.Path(report.write_report(logdir, out=lambda _: None)).read_text()
    assert "Most-confused classes" in page and not (tmp_path / "report" / "confusion.png").exists()
    first = page.split("<th>images</th></tr>")[1].split("</tr>")[0]
    assert first == "<tr><td>class3</td><td>class7</td><td>40</td>"
    assert (tmp_path / "report" / "per_class.png").is_file()
    matrix = np.loadtxt(tmp_path / "report" / "confusion.csv", delimiter=",", dtype=int)
    assert matrix.shape == (150, 150) and matrix.sum() == 3000 and matrix[3, 7] >= 40


def test_multi_label_reports_precision_without_a_matrix(tmp_path):
    labels = np.array([[0, 2], [1, -1], [2, -1], [0, 1]])
    predicted = np.array([2, 0, 2, 1])
    thumbs = np.zeros((1, 4, 4, 3), np.uint8)
    logdir = _logdir_with(
        tmp_path, _classified(labels, predicted, np.array([1]), thumbs), ["a", "b", "c"]
    )
    page = pathlib.Path(report.write_report(logdir, out=lambda _: None)).read_text()
    assert "Not drawn: the data is multi-label" in page
    assert "Per-class precision@1" in page and "c: 1.000 (2/2)" in page
    assert not (tmp_path / "report" / "confusion.csv").exists()


def test_a_later_event_file_wins_for_a_step_logged_twice(tmp_path):
    for loss in (5.0, 1.0):  # a run, then its resume logging step 2 again
        with tf.summary.create_file_writer(str(tmp_path)).as_default():
            tf.summary.scalar("train/loss", loss, step=2)
        time.sleep(0.01)
    assert report.read_scalars(str(tmp_path))["train/loss"] == {2: 1.0}


def test_a_second_report_replaces_the_first(tmp_path):
    empty = np.zeros((0, 1, 1, 3), np.uint8)
    examples = _classified(np.array([0, 1]), np.array([0, 1]), np.array([], int), empty)
    logdir = _logdir_with(tmp_path, examples, ["x", "y"])
    report.write_report(logdir, out=lambda _: None)
    (tmp_path / "report" / "stale.png").write_bytes(b"")
    report.write_report(logdir, out=lambda _: None)
    assert not (tmp_path / "report" / "stale.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")) == []
    assert "None: every test image is right." in (tmp_path / "report.html").read_text()
