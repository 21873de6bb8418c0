"""The run report: `LOGDIR/report.html` with pictures, written at the end of every run.

What people look at before they trust a model: learning curves (loss, learning rate and the
evaluation metric against the step, from the run's TensorBoard events), a confusion matrix
(up to `MAX_MATRIX_CLASSES` classes; beyond that the most-confused pairs), per-class
accuracy, and a grid of misclassified test images with their true and predicted labels.

The report is built from the run's files alone: `config.json` (class names, metric),
TensorBoard's event files and `predictions.npz` (`Examples`: the per-example outputs of the
run's final evaluation, gathered from every replica by the loop in that one pass, and
thumbnails of the images it picked to show). It draws what the evaluation returned: curves
always; a classifier's confusion matrix, per-class accuracy and misclassified images where
the outputs hold `labels` and `predicted` class ids. `tools/report.py LOGDIR` rebuilds it.
Everything is written to temporary names and renamed; the pictures are PNG files in
`LOGDIR/report/`, beside a CSV of the confusion matrix's counts.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from bit_keras._runtime import files
from bit_keras._runtime.atomic_write import save_atomically, save_directory_atomically
from bit_keras.training.logdir import (
    CONFIG_FILE,
    PREDICTIONS_FILE,
    REPORT_DIR,
    REPORT_FILE,
    check_finished_run,
)

# A matrix of more classes is unreadable as a picture: the most-confused pairs instead.
MAX_MATRIX_CLASSES = 100
CONFUSED_PAIRS = 20
MISCLASSIFIED_SHOWN = 25
THUMBNAIL = 96  # pixels, the longer side of a misclassified image kept for the grid
CURVE_TAGS = ("train/loss", "train/learning_rate")
_SHOWN, _THUMBNAILS = "__shown__", "__thumbnails__"  # beside the evaluation's own names


@dataclasses.dataclass(frozen=True)
class Predictions:
    """The final model on the test split.

    Attributes:
        labels: (N,) class ids; or (N, L) padded with -1 for multi-label data.
        predicted: (N,) top-1 class ids.
        misclassified: Indices (into the N) of the first misclassified images.
        thumbnails: (M, h, w, 3) uint8 images of `misclassified`, as the model saw them.
    """

    labels: np.ndarray
    predicted: np.ndarray
    misclassified: np.ndarray
    thumbnails: np.ndarray

    @property
    def multi_label(self) -> bool:
        return self.labels.ndim == 2

    @property
    def correct(self) -> np.ndarray:
        labels = self.labels if self.multi_label else self.labels[:, None]
        return (labels == self.predicted[:, None]).any(axis=1)

    @classmethod
    def load(cls, path: str) -> Predictions:
        """A classifier's predictions from a run's `predictions.npz`."""
        predictions = Examples.load(path).predictions()
        if predictions is None:
            raise ValueError(f"{path} holds no class predictions (`labels`, `predicted`).")
        return predictions


@dataclasses.dataclass(frozen=True)
class Examples:
    """The final evaluation's per-example outputs, as `predictions.npz` keeps them.

    Attributes:
        arrays: Name to (N, ...) arrays, one row per test example (a classifier's `labels`
            and `predicted`).
        shown: Indices (into the N) of the examples the evaluation picked to show.
        thumbnails: (M, h, w, 3) uint8 images of `shown`, as the model saw them.
    """

    arrays: dict[str, np.ndarray]
    shown: np.ndarray
    thumbnails: np.ndarray

    def save(self, path: str) -> None:
        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez_compressed(
                    f, **self.arrays, **{_SHOWN: self.shown, _THUMBNAILS: self.thumbnails}
                )

        save_atomically(path, write)

    @classmethod
    def load(cls, path: str) -> Examples:
        with files.open_file(path, "rb") as f, np.load(io.BytesIO(f.read())) as npz:
            arrays = {key: npz[key] for key in npz.files}
        return cls(arrays, arrays.pop(_SHOWN), arrays.pop(_THUMBNAILS))

    def predictions(self) -> Predictions | None:
        """A classifier's view (`labels`, `predicted`), or None where there is none."""
        if "labels" not in self.arrays or "predicted" not in self.arrays:
            return None
        return Predictions(
            self.arrays["labels"].astype(np.int64),
            self.arrays["predicted"].astype(np.int64),
            self.shown,
            self.thumbnails,
        )


def thumbnail(image: np.ndarray) -> np.ndarray:
    """The model's input ([-1, 1]) as uint8, no larger than THUMBNAIL pixels."""
    scale = min(1.0, THUMBNAIL / max(image.shape[:2]))
    if scale < 1:
        size = [max(1, round(d * scale)) for d in image.shape[:2]]
        image = tf.image.resize(image, size, method="area").numpy()
    return np.clip(np.round((image + 1) * 127.5), 0, 255).astype(np.uint8)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (K, K): row = true class, column = predicted class."""
    return np.bincount(
        labels * num_classes + predicted, minlength=num_classes * num_classes
    ).reshape(num_classes, num_classes)


def most_confused(matrix: np.ndarray, count: int = CONFUSED_PAIRS) -> list[tuple[int, int, int]]:
    """The `count` largest off-diagonal cells: (true, predicted, images), largest first."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:count]
    pairs = [(int(i // len(off)), int(i % len(off)), int(off.flat[i])) for i in order]
    return [pair for pair in pairs if pair[2] > 0]


def read_scalars(logdir: str) -> dict[str, dict[int, float]]:
    """Every scalar of the run's TensorBoard events: tag -> {step: value}.

    A resumed run logs again the steps after its last checkpoint; the later event file's
    value is kept.
    """
    runs = []  # (first wall time, [(tag, step, value), ...]) of each event file
    events = [
        os.path.join(logdir, name)
        for name in files.listdir(logdir)
        if name.startswith("events.out.tfevents.")
    ]
    for path in events:
        first, values = float("inf"), []
        try:
            for event in tf.compat.v1.train.summary_iterator(path):
                first = min(first, event.wall_time)
                for value in event.summary.value:
                    number = (
                        float(tf.make_ndarray(value.tensor))
                        if value.HasField("tensor")
                        else value.simple_value
                    )
                    values.append((value.tag, int(event.step), number))
        except tf.errors.DataLossError:
            pass  # a file cut short by a crash: what was read counts
        runs.append((first, path, values))
    scalars: dict[str, dict[int, float]] = {}
    for _, _, values in sorted(runs):
        for tag, step, number in values:
            scalars.setdefault(tag, {})[step] = number
    return scalars


def write_report(logdir: str, out: Callable[[str], object] = print) -> str:
    """Builds `LOGDIR/report.html` and its pictures from the run's files; returns its path.

    Raises:
        ValueError: the folder holds no finished run (no `config.json` or no predictions).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)

    check_finished_run(logdir)
    record_path = os.path.join(logdir, CONFIG_FILE)
    predictions_path = os.path.join(logdir, PREDICTIONS_FILE)
    with files.open_file(record_path) as f:
        record = json.load(f)
    examples = Examples.load(predictions_path)
    predictions = examples.predictions()
    names = list(record.get("class_names") or [])
    if predictions is not None:
        num_classes = max(
            len(names),
            int(predictions.labels.max(initial=-1)) + 1,
            int(predictions.predicted.max(initial=-1)) + 1,
        )
        names += [str(i) for i in range(len(names), num_classes)]
    scalars = read_scalars(logdir)

    sections = []

    def draw(folder):
        sections.append(_curves(scalars, folder))
        if predictions is None:
            return  # not a classifier's evaluation: its rates are in the table and curves
        if not (predictions.labels >= 0).any():
            sections.append(
                "<h2>Confusion matrix</h2><p>Not drawn: the test images have no labels (an "
                "unlabelled data set); the curves above hold what was measured.</p>"
            )
            return
        if predictions.multi_label:
            sections.append(
                "<h2>Confusion matrix</h2><p>Not drawn: the data is multi-label (an image has "
                "several classes); precision@1 per class is below.</p>"
            )
        else:
            matrix = confusion_matrix(predictions.labels, predictions.predicted, num_classes)
            np.savetxt(os.path.join(folder, "confusion.csv"), matrix, fmt="%d", delimiter=",")
            sections.append(_confusion(matrix, names, folder))
        sections.append(_per_class(predictions, names, folder))
        sections.append(_misclassified(predictions, names, folder))

    save_directory_atomically(os.path.join(logdir, REPORT_DIR), draw, overwrite=True)
    page = _page(record, sections)
    path = os.path.join(logdir, REPORT_FILE)

    def write(tmp):
        with open(tmp, "w") as f:
            f.write(page)

    save_atomically(path, write)
    out(f"Wrote the report {path}")
    return path


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(figure, folder: str, name: str) -> str:
    figure.savefig(os.path.join(folder, name))
    return f"{REPORT_DIR}/{name}"


def _curves(scalars: dict[str, dict[int, float]], folder: str) -> str:
    metric_tags = sorted(tag for tag in scalars if tag.startswith("test/"))
    panels = [tag for tag in (*CURVE_TAGS, *metric_tags) if tag in scalars]
    if not panels:
        return "<h2>Learning curves</h2><p>No TensorBoard scalars were found.</p>"
    figure = _figure(4.2 * len(panels), 3.4)
    for axes, tag in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
        steps = sorted(scalars[tag])
        values = [scalars[tag][s] for s in steps]
        axes.plot(steps, values, marker="o" if len(steps) < 30 else None, markersize=3)
        axes.set_title(tag)
        axes.set_xlabel("step")
        if tag.startswith("test/") and min(values) >= 0 and max(values) <= 1:
            axes.set_ylim(0, 1.02)
        axes.grid(alpha=0.3)
        if tag == "train/loss" and min(values) > 0 and max(values) / min(values) > 20:
            axes.set_yscale("log")
    src = _save(figure, folder, "curves.png")
    return f'<h2>Learning curves</h2><img src="{src}" alt="learning curves">'


def _confusion(matrix: np.ndarray, names: list[str], folder: str) -> str:
    k = len(matrix)
    if k > MAX_MATRIX_CLASSES:
        rows = "".join(
            f"<tr><td>{html.escape(names[t])}</td><td>{html.escape(names[p])}</td><td>{n}</td></tr>"
            for t, p, n in most_confused(matrix)
        )
        return (
            f"<h2>Most-confused classes</h2><p>{k} classes: too many for a matrix; the "
            f"{CONFUSED_PAIRS} most frequent mistakes (the full counts are in "
            f'<a href="{REPORT_DIR}/confusion.csv">confusion.csv</a>).</p>'
            f"<table><tr><th>true</th><th>predicted</th><th>images</th></tr>{rows}</table>"
        )
    side = min(12.0, 3.0 + 0.28 * k)
    figure = _figure(side + 1.2, side)
    axes = figure.subplots()
    shown = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(shown, ax=axes, shrink=0.8, label="images")
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if k <= 40:
        axes.set_xticks(range(k), [n[:14] for n in names], rotation=90, fontsize=8)
        axes.set_yticks(range(k), [n[:14] for n in names], fontsize=8)
    if k <= 20:
        threshold = matrix.max() / 2
        for t in range(k):
            for p in range(k):
                if matrix[t, p]:
                    color = "white" if matrix[t, p] > threshold else "black"
                    axes.text(
                        p, t, str(matrix[t, p]), ha="center", va="center", color=color, fontsize=8
                    )
    src = _save(figure, folder, "confusion.png")
    pairs = "".join(
        f"<li>{html.escape(names[t])} taken for {html.escape(names[p])}: {n}</li>"
        for t, p, n in most_confused(matrix, 5)
    )
    return (
        f'<h2>Confusion matrix</h2><img src="{src}" alt="confusion matrix">'
        f'<p>Counts: <a href="{REPORT_DIR}/confusion.csv">confusion.csv</a> (rows true, columns '
        f"predicted).</p>" + (f"<p>Most frequent mistakes:</p><ul>{pairs}</ul>" if pairs else "")
    )


def _per_class(predictions: Predictions, names: list[str], folder: str) -> str:
    k = len(names)
    correct = predictions.correct.astype(float)
    if predictions.multi_label:  # precision@1 of the images each class is predicted for
        key, words = predictions.predicted, "precision@1 (of the images it is predicted for)"
    else:
        key, words = predictions.labels, "accuracy (of its test images)"
    counts = np.bincount(key, minlength=k)
    hits = np.bincount(key, weights=correct, minlength=k)
    present = np.flatnonzero(counts)
    rates = hits[present] / counts[present]
    if len(present) <= MAX_MATRIX_CLASSES:
        figure = _figure(7.0, max(2.5, 0.22 * len(present) + 1.0))
        axes = figure.subplots()
        axes.barh(range(len(present)), rates, color="tab:blue")
        if len(present) <= 40:  # each bar's counts at its end
            for row, c in enumerate(present):
                axes.text(
                    min(rates[row], 0.82) + 0.01,
                    row,
                    f"{rates[row]:.2f} ({int(hits[c])}/{int(counts[c])})",
                    va="center",
                    fontsize=7,
                    color="white" if rates[row] > 0.82 else "black",  # inside the bar: white
                )
        axes.set_yticks(range(len(present)), [names[c][:20] for c in present], fontsize=8)
        axes.invert_yaxis()
        axes.set_xlim(0, 1)
        axes.set_xlabel(words)
        axes.grid(axis="x", alpha=0.3)
    else:
        figure = _figure(7.0, 3.5)
        axes = figure.subplots()
        axes.hist(rates, bins=20, range=(0, 1), color="tab:blue")
        axes.set_xlabel(words)
        axes.set_ylabel("classes")
    src = _save(figure, folder, "per_class.png")
    worst = np.argsort(rates, kind="stable")[:10]
    listed = "".join(
        f"<li>{html.escape(names[present[i]])}: {rates[i]:.3f} "
        f"({int(hits[present[i]])}/{int(counts[present[i]])})</li>"
        for i in worst
    )
    return (
        f'<h2>Per-class {words.split(" (")[0]}</h2><img src="{src}" alt="per-class">'
        f"<p>Lowest:</p><ul>{listed}</ul>"
    )


def _misclassified(predictions: Predictions, names: list[str], folder: str) -> str:
    count = len(predictions.misclassified)
    if not count:
        return "<h2>Misclassified test images</h2><p>None: every test image is right.</p>"
    columns = min(5, count)
    rows = -(-count // columns)
    figure = _figure(2.1 * columns, 2.4 * rows)
    grid = figure.subplots(rows, columns, squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, index, image in zip(
        grid.flat, predictions.misclassified, predictions.thumbnails, strict=False
    ):
        truth = predictions.labels[index]
        true_names = ", ".join(names[t][:14] for t in np.atleast_1d(truth) if t >= 0)
        axes.imshow(image, interpolation="nearest")
        axes.set_title(
            f"true: {true_names}\npredicted: {names[predictions.predicted[index]][:14]}",
            fontsize=8,
        )
    src = _save(figure, folder, "misclassified.png")
    wrong = int((~predictions.correct).sum())
    return (
        f"<h2>Misclassified test images</h2><p>The first {count} of {wrong}, as the model saw "
        f'them (after resizing).</p><img src="{src}" alt="misclassified test images">'
    )


def _page(record: dict, sections: list[str]) -> str:
    config = record.get("config") or {}
    metrics = record.get("metrics") or {}
    rows = [
        ("recipe", record.get("recipe", "")),
        ("model", config.get("model", "")),
        ("weights", config.get("weights", "")),
        ("data set", config.get("dataset", "")),
        ("steps", metrics.get("step", "")),
        ("test examples", metrics.get("test_examples", "")),
    ]
    rows += [
        (key.replace("_", " "), f"{value:.4f}")
        for key, value in metrics.items()
        if key.startswith("test_") and isinstance(value, float)
    ]
    rows.append(("final training loss", f"{metrics.get('train_loss', float('nan')):.4f}"))
    table = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    title = f"{config.get('model', 'BiT')} on {config.get('dataset', '')}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
img{{max-width:100%}}table{{border-collapse:collapse}}th,td{{padding:2px 10px;text-align:left;
border-bottom:1px solid #ddd}}</style></head><body>
<h1>{html.escape(title)}</h1><table>{table}</table>
{"".join(sections)}
<p><small>Written by bit_keras from this folder's config.json, TensorBoard events and
predictions.npz; <code>python tools/report.py LOGDIR</code> writes it again.</small></p>
</body></html>
"""
