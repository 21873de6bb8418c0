"""Splits stored in record files, as TFDS writes them: each input pipeline reads its own
files, in an order that a resume enters without replaying the epoch.

Files are shared out whole: pipeline i of P reads files i, i + P, i + 2P, ... of the split
(tf.data's `AutoShardPolicy.FILE`, the Model Garden's and big_vision's per-host files), so P
pipelines together read the data set once per epoch, not P times.

TFRecord files are read in order only. One pipeline's epoch e takes its files in an order
seeded by (key, e), a window of `files_per_window` files at a time, and the records of a window
are shuffled together (held in memory, undecoded) by a permutation seeded by (key, e, window).
A position therefore names a window and a place in it: a pipeline started anywhere reads the one
window it starts in, and no record before it. The price is the window in memory, as a shuffle
buffer of the same size would hold it.

ArrayRecord files are read by index (`array_record`): their examples are ordered one by one,
as in-memory data is (`pipeline.Examples.lookup`), and fetched a chunk at a time.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

_INT64_MAX = np.iinfo(np.int64).max
# Purposes of the keys derived from an order's key (`_subkey`).
_FILE_ORDER, _WINDOW_ORDER = 0, 1


@dataclasses.dataclass(frozen=True)
class FileSlice:
    """Records `skip` to `skip + take` of one file (a TFDS file instruction)."""

    path: str
    skip: int
    take: int


@dataclasses.dataclass(frozen=True)
class RecordFiles:
    """A split's record files and how to read them.

    Attributes:
        files: The files (or parts of files) in the split's order.
        read: `(path, skip, take)` -> the file's records from `skip`, `take` of them (in
            order; TFRecord).
        labels: A vector of records -> their labels.
        fetch: Where the files are read by index (ArrayRecord): files -> a function from a
            vector of indices into those files' records (in order) to the records. None for
            files read in order.
        what: The split, in words, for errors (`TFDS dataset 'x', split 'train'`).
        remedy: What to do about a missing file, in words.

    The files a pipeline reads (`ordered`, `in_order`, `lookup`: its share, an evaluation
    part) are checked to exist when it is built, one request each on gs:// made side by side;
    no pipeline checks another's.
    """

    files: tuple[FileSlice, ...]
    read: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.data.Dataset]
    labels: Callable[[tf.Tensor], tf.Tensor]
    fetch: Callable[[tuple[FileSlice, ...]], Callable[[tf.Tensor], tf.Tensor]] | None = None
    what: str = "the data set"
    remedy: str = "Copy every file of the data set's folder."

    @property
    def size(self) -> int:
        return sum(f.take for f in self.files)

    def share(self, pipelines: int, index: int) -> RecordFiles:
        """The files pipeline `index` of `pipelines` reads (`share_files`)."""
        return dataclasses.replace(self, files=share_files(self.files, pipelines, index, self.what))

    def lookup(self) -> Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
        """Indices -> `(records, labels)`, for files read by index."""
        self._check_present()
        fetch = self.fetch(self.files)

        def lookup(indices):
            records = fetch(indices)
            return records, self.labels(records)

        return lookup

    def ordered(self, key: int, start: int, examples_per_window: int) -> tf.data.Dataset:
        """`windowed_order` of the files, windows of about `examples_per_window` records."""
        self._check_present()
        return windowed_order(
            self.files,
            self.read,
            self.labels,
            files_per_window=files_per_window(self.files, examples_per_window),
            key=key,
            start=start,
            what=self.what,
        )

    def in_order(self) -> tf.data.Dataset:
        """`(record, label)` of the files, as stored."""
        self._check_present()
        return in_order(self.files, self.read, self.labels, self.what)

    def _check_present(self) -> None:
        paths = [f.path for f in self.files]
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            found = list(pool.map(tf.io.gfile.exists, paths))
        missing = [path for path, there in zip(paths, found, strict=True) if not there]
        if missing:
            raise ValueError(
                f"{self.what} is missing {len(missing)} of its {len(paths)} files: "
                f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}. {self.remedy}"
            )


def share_files(
    files: Sequence[FileSlice], pipelines: int, index: int, what: str
) -> tuple[FileSlice, ...]:
    """The files pipeline `index` of `pipelines` reads: every `pipelines`-th from `index` on.

    Raises:
        ValueError: fewer files than pipelines (a pipeline would read nothing), naming both.
    """
    if len(files) < pipelines:
        split = what[:1].upper() + what[1:]
        raise ValueError(
            f"{split} is stored in {len(files)} file(s), fewer than the {pipelines} input "
            "pipelines (one per worker) that each read their own files. Prepare it in at "
            f"least {pipelines} files (`tfds build ... --num_shards={pipelines}` or more), or "
            "run fewer workers."
        )
    return tuple(files[index::pipelines])


def files_per_window(files: Sequence[FileSlice], examples: int) -> int:
    """Files whose records are shuffled together so that a window holds about `examples`."""
    mean = sum(f.take for f in files) / len(files)
    return int(min(len(files), max(1, round(examples / mean))))


def _subkey(key: int, purpose: int) -> int:
    state = np.random.SeedSequence([key % 2**63, purpose]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def windowed_order(
    files: Sequence[FileSlice],
    read: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.data.Dataset],
    labels: Callable[[tf.Tensor], tf.Tensor],
    *,
    files_per_window: int,
    key: int,
    start: int = 0,
    what: str = "the data set",
) -> tf.data.Dataset:
    """Endless `(record, label, position)` of `files`, read a window of files at a time.

    Args:
        files: The files of one pipeline.
        read: `(path, skip, take)` -> the file's records from `skip`, `take` of them.
        labels: A vector of records -> their labels.
        files_per_window: Files whose records are shuffled together.
        key: Seeds the order: the same key, the same order.
        start: The first position (position p is the (p % size)-th record of epoch
            p // size); only the window that holds it is read before it.
        what: The split, in words, for the error about a damaged file.

    Returns:
        A dataset in the order keyed by `key`, from position `start` on.
    """
    files = [f for f in files if f.take > 0]
    if not files:
        raise ValueError("The split's files hold no records.")
    paths = tf.constant([f.path for f in files])
    skips = tf.constant([f.skip for f in files], tf.int64)
    takes = tf.constant([f.take for f in files], tf.int64)
    size, count = sum(f.take for f in files), len(files)
    windows = -(-count // files_per_window)
    file_key = tf.constant(_subkey(key, _FILE_ORDER), tf.int64)
    window_key = tf.constant(_subkey(key, _WINDOW_ORDER), tf.int64)

    def epoch_windows(epoch):
        # The epoch's windows: their files, first position and size.
        order = tf.random.experimental.index_shuffle(
            tf.range(count, dtype=tf.int64), tf.stack([file_key, epoch]), count - 1
        )
        window = tf.range(count, dtype=tf.int64) // files_per_window
        sizes = tf.math.segment_sum(tf.gather(takes, order), window)
        ends = epoch * size + tf.cumsum(sizes)
        starts = ends - sizes
        numbers = tf.range(windows, dtype=tf.int64)

        def files_of(w, first, n):
            return epoch, w, order[w * files_per_window :][:files_per_window], first, n

        return tf.data.Dataset.from_tensor_slices((numbers, starts, sizes)).map(files_of)

    read_file = _whole_files(read, what)

    def read_window(epoch, number, chosen, first, n):
        window_files = tf.data.Dataset.from_tensor_slices(
            (tf.gather(paths, chosen), tf.gather(skips, chosen), tf.gather(takes, chosen))
        )
        held = (
            window_files.map(read_file, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .unbatch()
            .batch(_INT64_MAX)
            .get_single_element()
        )
        seed = tf.stack([window_key, epoch * windows + number])
        order = tf.random.experimental.index_shuffle(tf.range(n), seed, n - 1)
        skip = tf.maximum(start - first, 0)  # positions before `start`: not kept
        return tf.gather(held, order[skip:]), first + tf.range(skip, n)

    ds = tf.data.Dataset.range(start // size, _INT64_MAX).flat_map(epoch_windows)
    ds = ds.filter(lambda epoch, number, chosen, first, n: first + n > start)
    # The next window is read while this one is used: two windows in memory.
    ds = ds.map(read_window).prefetch(1)
    return ds.flat_map(
        lambda records, positions: tf.data.Dataset.from_tensor_slices(
            (records, labels(records), positions)
        )
    )


def _whole_files(read, what: str):
    """`read` as `(path, skip, take)` -> the records as one vector, checked against the
    metadata: a file cut short or damaged ends early, and TensorFlow's own error names
    neither the file nor the data set (`damaged_file` reads ours)."""

    def read_file(path, skip, take):
        held = read(path, skip, take).ignore_errors().batch(_INT64_MAX)
        none = tf.data.Dataset.from_tensors(tf.zeros([0], tf.string))  # a file that reads none
        return _checked(held.concatenate(none).take(1).get_single_element(), path, take, what)

    return read_file


# Starts the message of an error raised in a tf.data pipeline for a damaged record file, so
# that the training loop can tell it from other errors and say it in one line.
_DAMAGED_MARKER = "bit_keras-damaged-record-file: "


def _checked(records: tf.Tensor, path: tf.Tensor, take: tf.Tensor, what: str) -> tf.Tensor:
    """`records`, read from `path`, if they are the `take` its metadata promises; else an
    error naming the file (`damaged_file`)."""

    split = what.rstrip(",")

    @tf.autograph.experimental.do_not_convert
    def fail(path, count, take):
        raise ValueError(
            f"{_DAMAGED_MARKER}Record file {path.numpy().decode()} of {split} is missing, cut "
            f"short or damaged: {int(count)} of its {int(take)} records read"
        )

    count = tf.size(records, tf.int64)
    ok = tf.cond(
        tf.equal(count, take),
        lambda: tf.constant(True),
        lambda: tf.py_function(fail, [path, count, take], tf.bool),
    )
    with tf.control_dependencies([ok]):
        return tf.identity(records)


def damaged_file(error: BaseException) -> str | None:
    """The message of a pipeline's error for a damaged record file (`_checked`), as
    TensorFlow passes it on (`tf.errors.OpError`); None for any other error."""
    text = str(error)
    if _DAMAGED_MARKER not in text:
        return None
    return text.split(_DAMAGED_MARKER, 1)[1].split(" records read", 1)[0] + " records read"


def in_order(
    files: Sequence[FileSlice],
    read: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.data.Dataset],
    labels: Callable[[tf.Tensor], tf.Tensor],
    what: str = "the data set",
) -> tf.data.Dataset:
    """`(record, label)` of `files`, file after file, as stored."""
    ds = tf.data.Dataset.from_tensor_slices(
        (
            tf.constant([f.path for f in files], tf.string),
            tf.constant([f.skip for f in files], tf.int64),
            tf.constant([f.take for f in files], tf.int64),
        )
    )
    ds = ds.map(_whole_files(read, what)).unbatch()  # one file in memory at a time
    return ds.map(lambda record: (record, labels(record[None])[0]))
