"""A prepared TFDS split's record files, read without TFDS' `as_dataset`: by the builder's
metadata (files, records in each), TFRecord in order and ArrayRecord by index as well
(`record_files.py` orders them), with a missing or damaged file named."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from bit_keras.data.record_files import FileSlice, RecordFiles

# ArrayRecord records read at once, in order.
_CHUNK = 128


def record_files(builder, split: str, label_key: str, what: str) -> RecordFiles | None:
    """A prepared TFDS split's record files (TFRecord or ArrayRecord), from the builder's
    metadata (no pass over the data); None where it has none (mock data)."""
    import tensorflow_datasets as tfds

    try:
        instructions = builder.info.splits[split].file_instructions
    except (KeyError, ValueError):
        return None
    files = tuple(FileSlice(os.fspath(i.filename), i.skip, i.take) for i in instructions)
    what = f"{what}, split {split!r},"
    remedy = f"Prepare it again (`tfds build {builder.name}`) or copy every file of its folder."
    spec = {label_key: tf.io.FixedLenFeature([], tf.int64)}

    def labels(records):
        return tf.io.parse_example(records, spec)[label_key]

    if builder.info.file_format == tfds.core.FileFormat.ARRAY_RECORD:
        read, fetch = _array_record_reader()
        return RecordFiles(files, read, labels, fetch=fetch, what=what, remedy=remedy)
    return RecordFiles(files, _read_tfrecord, labels, what=what, remedy=remedy)


def _read_tfrecord(path, skip, take) -> tf.data.Dataset:
    return tf.data.TFRecordDataset(path).skip(skip).take(take)


def _array_record_reader():
    """`(read, fetch)` of ArrayRecord files (`RecordFiles`): one file's records in order, a
    chunk at a time, and records by index into several files."""
    from array_record.python.array_record_data_source import ArrayRecordDataSource

    opened = {}  # in the process that reads (tf.data's py_function), on first use

    def records(key, indices):
        if key not in opened:
            opened[key] = ArrayRecordDataSource(list(key))
        return np.array(opened[key].__getitems__(indices.numpy().tolist()), dtype=object)

    def read(path, skip, take):
        def chunk(indices):
            got = tf.py_function(
                lambda p, i: records((p.numpy().decode(),), i), [path, indices], tf.string
            )
            return tf.ensure_shape(got, indices.shape)

        return tf.data.Dataset.range(skip, skip + take).batch(_CHUNK).map(chunk).unbatch()

    def fetch(files):
        key = tuple(f"{f.path}[{f.skip}:{f.skip + f.take}]" for f in files)

        def by_index(indices):
            got = tf.py_function(lambda i: records(key, i), [indices], tf.string)
            return tf.ensure_shape(got, indices.shape)

        return by_index

    return read, fetch


def split_part(split: str, start: int, stop: int | None = None) -> str:
    """A TFDS split name (`train`, `train[:900]`) from its `start`-th example on, to its
    `stop`-th (its end when None)."""
    if not start and stop is None:
        return split
    name, _, rest = split.partition("[")
    first, _, end = rest.rstrip("]").partition(":") if rest else ("", "", "")
    begin = int(first or 0)
    if stop is not None:
        end = str(begin + stop) if not end else str(min(int(end), begin + stop))
    return f"{name}[{begin + start}:{end}]"
