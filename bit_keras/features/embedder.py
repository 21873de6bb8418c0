"""Embeddings of a whole data set, at the model's inference speed, resumable (`bit-embed`).

The images are read, resized to the resolution and scaled as BiT's evaluation prepares them
(`data.inference_dataset`), in parallel with the model, which runs inside
`cached_standardization` (the standardized kernels computed once, not per batch). Results
go to shards of `shard_size` images in `OUTPUT.parts/`, each written atomically; a run that
is interrupted keeps its shards and the same command resumes after the last one. The finished
file (`embeddings_file.py`) is assembled from the shards and renamed into place.
"""

from __future__ import annotations

import datetime
import os
import shutil
import time
from collections.abc import Callable, Iterator

import keras
import numpy as np
import tensorflow as tf

from bit_keras._runtime import files
from bit_keras._runtime.atomic_write import save_atomically
from bit_keras._runtime.stop_requests import StopRequests
from bit_keras.data.pipeline import inference_dataset
from bit_keras.data.sources import DataSource
from bit_keras.features.embedding_shards import (
    EmbeddingJob,
    job_record,
    prepare_parts,
    shard_path,
)
from bit_keras.features.embeddings_file import Embeddings, save_embeddings
from bit_keras.features.pooled import PRE_LOGITS, embedding_model
from bit_keras.layers.kernel_cache import cached_standardization


class EmbeddingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during `write_embeddings`; the message says what was kept."""


def split_size(source: DataSource, split: str) -> int:
    """Examples of `split` (`all`, `train` or `test`) of `source`."""
    return sum(size for _, size, _, _ in _parts(source, split))


def _parts(source: DataSource, split: str):
    parts = {
        "train": ("train", source.train_size, source.train, source.train_files),
        "test": ("test", source.test_size, source.test, source.test_files),
    }
    return [parts["train"], parts["test"]] if split == "all" else [parts[split]]


class Embedder:
    """Embeds the images of a data set with a BiT, batch by batch.

    Args:
        model: A BiT ResNet-v2 (with or without its head), built.
        features: `pre_logits`, or `P2`..`P5` pooled.
        jit_compile: Compile the forward pass with XLA.
    """

    def __init__(self, model: keras.Model, features: str = PRE_LOGITS, jit_compile: bool = False):
        self.model = embedding_model(model, features)
        self.features, self.jit_compile = features, jit_compile

    @property
    def width(self) -> int:
        """Features per embedding."""
        return int(self.model.output_shape[-1])

    def batches(
        self,
        source: DataSource,
        split: str,
        *,
        resolution: int,
        batch_size: int,
        start: int = 0,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """`(embeddings float32 (B, D), labels)` of `split` from its `start`-th example on."""
        datasets = []
        for _, size, build, _ in _parts(source, split):
            if start < size:
                datasets.append(build(start))
            start = max(0, start - size)
        if not datasets:
            return
        dataset = datasets[0]
        for more in datasets[1:]:
            dataset = dataset.concatenate(more)
        yield from self.embed(dataset, resolution=resolution, batch_size=batch_size)

    def embed(
        self, dataset: tf.data.Dataset, *, resolution: int, batch_size: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """`(embeddings float32 (B, D), labels)` of a dataset of `(image uint8, label)`."""
        batches = inference_dataset(dataset, batch_size=batch_size, crop=resolution)
        with cached_standardization(self.model):
            # Traced inside the context: the cached kernels are the graph's constants.
            forward = tf.function(
                lambda x: self.model(x, training=False), jit_compile=self.jit_compile
            )
            for images, labels in batches:
                yield forward(images).numpy().astype(np.float32), labels.numpy()

    def features_of(
        self, source: DataSource, split: str, *, resolution: int, batch_size: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """All embeddings and labels of `split`, in memory (`bit-fewshot`)."""
        embeddings, labels = [], []
        for batch, batch_labels in self.batches(
            source, split, resolution=resolution, batch_size=batch_size
        ):
            embeddings.append(batch)
            labels.append(batch_labels)
        if not embeddings:
            return np.zeros((0, self.width), np.float32), np.zeros((0,), np.int64)
        return np.concatenate(embeddings), np.concatenate(labels)


def write_embeddings(
    output: str,
    job: EmbeddingJob,
    embedder: Embedder,
    source: DataSource,
    *,
    out: Callable[[str], object] = print,
    every_seconds: float = 5.0,
) -> Embeddings:
    """Embeds `job.split` of `source` and writes `output` (`embeddings_file.py`).

    Shards already in `prepare_parts(output, job)`'s folder are kept; the run continues after
    them. `output` is written atomically once every shard is, then the shards are removed.

    Returns:
        What was written.

    Raises:
        EmbeddingInterrupted: on Ctrl-C / SIGTERM (as KeyboardInterrupt), after keeping the
            finished shards; the message says how far it got and how to resume.
        files.WriteError: a shard or `output` could not be written (a full disk): the
            finished shards are kept, and the message says so.
    """
    parts = prepare_parts(output, job)
    total = split_size(source, job.split)
    count = max(1, -(-total // job.shard_size))
    done = _finished_shards(parts, count)
    start = min(done * job.shard_size, total)
    if done:
        out(f"Resuming: {done} of {count} shard(s) ({start:,} images) in {parts} are kept.")
    progress = _Progress(total, start, out, every_seconds)
    held: list[tuple[np.ndarray, np.ndarray]] = []

    def kept(done):
        images = min(done * job.shard_size, total)
        return f"{done} of {count} shard(s) ({images:,} images) are kept in {parts}"

    def rows_of(index):  # every shard is full but the last
        return min(job.shard_size, total - index * job.shard_size)

    def write_shard(index):
        embeddings = np.concatenate([e for e, _ in held])
        labels = np.concatenate([y for _, y in held])
        rows = rows_of(index)

        def save(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, embeddings=embeddings[:rows].astype(job.dtype), labels=labels[:rows])

        save_atomically(shard_path(parts, index, count), save)
        out(f"Wrote shard {index + 1}/{count} ({rows:,} images) to {parts}")
        held[:] = [(embeddings[rows:], labels[rows:])]

    batches = embedder.batches(
        source, job.split, resolution=job.resolution, batch_size=job.batch_size, start=start
    )
    # A signal stops the run between batches (a second one at once).
    stopping = StopRequests(out, "stopping after this batch; the finished shards are kept")
    try:
        with stopping:
            for embeddings, labels in batches:
                if stopping.signum is not None:
                    raise KeyboardInterrupt
                held.append((embeddings, labels))
                progress.update(len(embeddings))
                while done < count and sum(len(e) for e, _ in held) >= rows_of(done):
                    write_shard(done)
                    done += 1
        if done < count:  # an empty split: one empty shard
            held.append((np.zeros((0, embedder.width), np.float32), np.zeros((0,), np.int64)))
            write_shard(done)
            done += 1
    except KeyboardInterrupt as e:
        done = _finished_shards(parts, count)  # also one saved just before the interrupt
        raise EmbeddingInterrupted(
            f"Interrupted after {progress.done:,} of {total:,} images; {kept(done)}: "
            "run the same command again to resume."
        ) from e
    except files.WriteError as e:  # a full disk: the shards written are kept
        raise e.advised(
            f"{kept(done)}. Free space there, then run the same command again to resume."
        ) from e
    finally:
        batches.close()
    result = _assemble(parts, count, source, job)
    try:
        save_atomically(output, lambda tmp: save_embeddings(tmp, result))
    except files.WriteError as e:
        raise e.advised(
            f"{kept(count)}. Free space there, then run the same command again to write it."
        ) from e
    shutil.rmtree(parts, ignore_errors=True)
    out(
        f"Wrote {len(result.embeddings):,} embeddings of {result.embeddings.shape[1]} features "
        f"({job.dtype}) to {output}"
    )
    return result


def _finished_shards(parts: str, count: int) -> int:
    done = 0
    while done < count and os.path.isfile(shard_path(parts, done, count)):
        done += 1
    return done


def _assemble(parts: str, count: int, source: DataSource, job: EmbeddingJob) -> Embeddings:
    embeddings, labels = [], []
    for index in range(count):
        with np.load(shard_path(parts, index, count), allow_pickle=False) as shard:
            embeddings.append(shard["embeddings"])
            labels.append(shard["labels"])
    split_parts = _parts(source, job.split)
    files = [files for _, _, _, files in split_parts]
    paths = (
        None
        if any(f is None for f in files)
        else np.concatenate([np.asarray(f, str) for f in files])
    )
    info = {**job_record(job), "num_classes": source.num_classes}
    return Embeddings(
        np.concatenate(embeddings),
        np.concatenate(labels) if source.labelled else None,
        paths,
        np.concatenate([np.full(size, name) for name, size, _, _ in split_parts]),
        source.class_names,
        info,
    )


class _Progress:
    """`embedded 1,024/10,000 images (10%), 19.8 images/s, ETA 0:07:32` lines, at most one
    per `every_seconds`; the first batch (tracing) is left out of the speed."""

    def __init__(self, total: int, start: int, out, every_seconds: float):
        self.total, self.done, self.out, self.every_seconds = total, start, out, every_seconds
        self._first = None
        self._last_print = time.monotonic()
        self.images_per_second = 0.0

    def update(self, images: int) -> None:
        self.done += images
        now = time.monotonic()
        if self._first is None:
            self._first = (now, self.done)
        elif now > self._first[0]:
            self.images_per_second = (self.done - self._first[1]) / (now - self._first[0])
        if now - self._last_print < self.every_seconds and self.done < self.total:
            return
        self._last_print = now
        eta = "?"
        if self.images_per_second:
            eta = str(
                datetime.timedelta(seconds=round((self.total - self.done) / self.images_per_second))
            )
        percent = 100 * self.done // max(self.total, 1)
        self.out(
            f"embedded {self.done:,}/{self.total:,} images ({percent}%), "
            f"{self.images_per_second:.1f} images/s, ETA {eta}"
        )
