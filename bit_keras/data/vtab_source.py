"""A VTAB-1k task as a data source (`vtab:TASK`): its 1,000 training examples and its test
split, labelled as task_adaptation labels them (`vtab_tasks.py`).

The training split (`train800val200`) is read once into memory, its images still encoded
(1,000 of them: tens of MB), so that training reads it by index and resumes exactly. The test
split is read from TFDS in order, each pipeline its own part.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from bit_keras.data.pipeline import Examples
from bit_keras.data.sources import DataSource
from bit_keras.data.tfds_files import split_part
from bit_keras.data.vtab_tasks import (
    TEST_SPLIT,
    TRAIN_SPLIT,
    VtabTask,
    get_task,
    label_function,
    split_size,
)

PREFIX = "vtab:"


def vtab_source(
    name: str,
    data_dir: str | None = None,
    *,
    download: bool = True,
    out: Callable[[str], None] = print,
) -> DataSource:
    """A VTAB-1k task (`clevr-count`, see `vtab_tasks.TASK_NAMES`): train on its
    `train800val200`, test on its `test` split.

    Args:
        name: The task.
        data_dir: The TFDS data folder (TFDS' default when None).
        download: Download and prepare its TFDS data set if it is not prepared (the two
            tasks whose files TFDS cannot download need them in the manual folder).
        out: Where a line announcing a download goes.

    Raises:
        ValueError: an unknown task, or data that is not prepared (with the TFDS command, or
            where a manual download's files go).
    """
    import tensorflow_datasets as tfds

    task = get_task(name)
    builder = prepared_builder(task, data_dir, download=download, out=out)
    features = builder.info.features
    image_feature = features[task.image]
    classes = features[task.label].num_classes if isinstance(task.label, str) else None
    label = label_function(task, classes)
    num_classes = task.num_classes or classes
    skip = {task.image: tfds.decode.SkipDecoding()}

    def read(split: str, images: bool = True) -> tf.data.Dataset:
        ds = builder.as_dataset(split=split, shuffle_files=False, decoders=skip)
        prepare = (lambda image: decode(image)) if images else (lambda image: image)
        return ds.map(
            lambda ex: (prepare(ex[task.image]), label(ex)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,  # the examples in the data set's order, on every run
        )

    def decode(encoded: tf.Tensor) -> tf.Tensor:
        image = image_feature.decode_example(encoded)
        if task.gray:
            image = tf.tile(image, [1, 1, 3])
        return image * task.scale if task.scale != 1 else image

    counts = _split_counts(builder, task, read)
    splits = task.splits.resolve(counts)
    train_split, test_split = splits[TRAIN_SPLIT], splits[TEST_SPLIT]
    # The 1,000 training examples, encoded, with their labels: read once, in order.
    pairs = list(read(train_split, images=False).as_numpy_iterator())
    records = np.array([record for record, _ in pairs], dtype=object)
    labels = np.array([y for _, y in pairs], np.int64)
    if not len(labels):
        raise ValueError(f"VTAB task {task.name}: its split {train_split!r} is empty.")
    test_size = _size(builder, test_split, counts, read)

    def train(start=0, stop=None):
        ds = tf.data.Dataset.from_tensor_slices((records[start:stop], labels[start:stop]))
        return ds.map(lambda r, y: (decode(r), y), num_parallel_calls=tf.data.AUTOTUNE)

    def test(start=0, stop=None):
        return read(split_part(test_split, start, stop))

    shape = image_feature.shape
    if shape[0] is None or shape[1] is None:
        shape = decode(records[0]).shape
    return DataSource(
        f"{PREFIX}{task.name}",
        num_classes,
        (int(shape[0]), int(shape[1])),
        len(labels),
        test_size,
        lambda: labels,
        train,
        test,
        lambda: Examples.from_arrays(records, labels, decode=decode),
        _class_names(task, features, num_classes),
        origin=f"TFDS {builder.info.full_name}, train {train_split}, test {test_split}",
    )


def prepared_builder(task: VtabTask, data_dir: str | None, *, download: bool, out=print):
    """The task's TFDS builder, its data prepared (downloaded first where allowed)."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(task.tfds, data_dir=data_dir)
    if builder.is_prepared():
        return builder
    root = os.fspath(builder.data_dir_root)
    what = (
        f"VTAB task {task.name} needs TFDS dataset {task.tfds!r}, which is not prepared in {root!r}"
    )
    if task.manual:
        manual = os.path.join(root, "downloads", "manual")
        instructions = " ".join(builder.MANUAL_DOWNLOAD_INSTRUCTIONS.split())
        advice = (
            f"TFDS cannot download its files: put them in {manual} ({instructions}), then run "
            f"this again, or prepare it yourself: `tfds build {task.tfds_name} "
            f"--data_dir={root} --manual_dir={manual}`."
        )
        if not (os.path.isdir(manual) and os.listdir(manual)):
            raise ValueError(f"{what}. {advice}")
    else:
        advice = (
            f"Prepare it where there is network access (`tfds build {task.tfds_name} "
            f"--data_dir={root}`) and pass --data_dir={root}"
            + ("." if not download else ", or let this program download it.")
        )
    if not download:
        raise ValueError(f"{what}, and --nodownload forbids fetching it. {advice}")
    out(f"Downloading and preparing TFDS dataset {task.tfds!r} into {root} (once) ...")
    try:
        builder.download_and_prepare()
    except Exception as e:  # network, disk and TFDS errors alike
        first = str(e).splitlines()[0][:300] if str(e) else ""
        raise ValueError(
            f"{what}: preparing it failed ({type(e).__name__}: {first}). {advice}"
        ) from e
    return builder


def _class_names(task: VtabTask, features, num_classes: int) -> tuple[str, ...]:
    if task.class_names:
        return task.class_names
    if task.bins:  # dSprites' bins of positions or orientations: numbered
        return tuple(str(i) for i in range(num_classes))
    return tuple(features[task.label].names)


def _split_counts(builder, task: VtabTask, read) -> dict[str, int]:
    """Examples in each of the data set's own splits: its metadata, or (mock data, which has
    none) the examples read."""
    counts = {name: info.num_examples for name, info in builder.info.splits.items()}
    if counts:
        return counts
    names = ("train", "validation", "test")
    return {n: int(read(n, images=False).reduce(0, lambda c, _: c + 1)) for n in names}


def _size(builder, split: str, counts: dict[str, int], read) -> int:
    if builder.info.splits:
        return split_size(split, counts)
    return int(read(split, images=False).reduce(0, lambda c, _: c + 1))  # mock data
