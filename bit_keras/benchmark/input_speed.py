"""What the training input costs at scale: a resume's wait at 10% and at 90% of an epoch for
each way a split is stored, the bytes each of 4 input pipelines reads of a TFDS data set, and
the pre-training pipeline's images/s against its floor on 1 and 2 threads, and fine-tuning's
resize of JPEGs decoded whole against one decoded at a reduced scale where that applies.

The data set is made here, not downloaded: crops of the six colour photographs scikit-learn
(`load_sample_images`) and scikit-image (`skimage.data`) ship, resized to ImageNet's typical
500x375 by default, flipped, JPEG quality 90-95; a few distinct images repeated, with labels
that mean nothing. TFDS itself writes it in both of its formats, in `files` files. "Before" is
how bit_keras read a TFDS split until it read the files itself: one stream, shuffled by a
buffer, skipped to the position on a resume and split between pipelines by `Dataset.shard`.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import tempfile
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from bit_keras._runtime.files import size as file_size
from bit_keras.data.image_io import decode_image
from bit_keras.data.pipeline import (
    Examples,
    inception_crop_encoded,
    resize_encoded,
    train_dataset,
)
from bit_keras.data.sources import load_source
from bit_keras.preprocessing import preprocess_input

BATCH = 64
CROP = 32  # the training crop: small, as the figures are about reading, not the model's input
PIPELINES = 4
# Examples of the data set the bytes are measured on, and epochs of a share measured.
BYTES_EXAMPLES, BYTES_EPOCHS = 10_000, 10
_NAME = "bit_keras_synthetic_jpegs"


@dataclasses.dataclass(frozen=True)
class ResumeFigure:
    """Seconds from building a pipeline started at a position to its first batch."""

    storage: str
    at_10_percent: float
    at_90_percent: float

    @property
    def ratio(self) -> float:
        return self.at_90_percent / self.at_10_percent


@dataclasses.dataclass(frozen=True)
class BytesFigure:
    """Bytes each of `PIPELINES` pipelines read in one epoch of its share, against the
    split's files."""

    storage: str
    per_pipeline: tuple[float, ...]
    total: int
    largest_file: int

    @property
    def worst_share(self) -> float:
        return max(self.per_pipeline) / self.total


def photographs() -> list[np.ndarray]:
    """The colour photographs two packages ship, uint8 RGB: scikit-learn's two (a temple,
    a flower; 427x640) and scikit-image's astronaut (512x512), cat (300x451), coffee cup
    (400x600) and rocket (427x640)."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    ours = [getattr(skimage.data, name)() for name in ("astronaut", "chelsea", "coffee", "rocket")]
    return [*load_sample_images().images, *ours]


def photo_jpegs(count: int, height: int, width: int, seed: int = 0) -> list[bytes]:
    """`count` JPEGs of `height` x `width` cut from the `photographs`: a random box of
    30-100% of a photo's side at the target's aspect ratio, resized, flipped at random,
    quality 90-95."""
    photos = photographs()
    rng = np.random.default_rng(seed)
    encoded = []
    for i in range(count):
        photo = photos[i % len(photos)]
        side = rng.uniform(0.3, 1.0)
        h = int(min(photo.shape[0], photo.shape[1] * height / width) * side)
        w = int(h * width / height)
        top = rng.integers(0, photo.shape[0] - h + 1)
        left = rng.integers(0, photo.shape[1] - w + 1)
        image = tf.image.resize(photo[top : top + h, left : left + w], (height, width))
        if rng.random() < 0.5:
            image = image[:, ::-1]
        image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
        encoded.append(tf.io.encode_jpeg(image, quality=int(rng.integers(90, 96))).numpy())
    return encoded


def _builder_class(examples: int, height: int, width: int):
    import tensorflow_datasets as tfds

    class SyntheticPhotos(tfds.core.GeneratorBasedBuilder, skip_registration=True):
        """Crops of scikit-learn's sample photographs (not a real data set), 10 made-up
        classes."""

        VERSION = tfds.core.Version("1.0.0")
        name = _NAME

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self,
                features=tfds.features.FeaturesDict(
                    {
                        "image": tfds.features.Image(
                            shape=(height, width, 3), encoding_format="jpeg"
                        ),
                        "label": tfds.features.ClassLabel(num_classes=10),
                    }
                ),
                supervised_keys=("image", "label"),
            )

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(examples)}

        def _generate_examples(self, count):
            distinct = photo_jpegs(16, height, width)
            for i in range(count):
                yield i, {"image": distinct[i % 16], "label": i % 10}

    return SyntheticPhotos


def prepare(
    folder: str, examples: int, files: int, file_format: str, height: int, width: int
) -> str:
    """Writes the synthetic data set with TFDS into `folder`; returns its data dir."""
    import tensorflow_datasets as tfds

    builder = _builder_class(examples, height, width)(data_dir=folder, file_format=file_format)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(num_shards=files))
    return folder


def _stream_before(examples: Examples) -> Examples:
    """The same split as bit_keras read TFDS before: one stream of its files in order."""
    files = examples.files
    return Examples(examples.size, stream=files.in_order, decode=examples.decode)


def _pretraining_batches(examples: Examples, crop: int, start_step: int = 0) -> tf.data.Dataset:
    """Pre-training's input: Inception crops to `crop`, flips, batches of `BATCH`."""
    return train_dataset(
        examples,
        batch_size=BATCH,
        resize=None,
        crop=crop,
        num_classes=10,
        mixup_alpha=0.0,
        seed=0,
        start_step=start_step,
    )


def _first_batch_seconds(examples: Examples, position: int) -> float:
    began = time.perf_counter()
    ds = _pretraining_batches(examples, CROP, position // BATCH)
    iterator = iter(ds)
    next(iterator)
    seconds = time.perf_counter() - began
    # Stopped now: a pipeline left to read ahead in the background would be counted in the
    # measurements after it (the bytes read, the time).
    del iterator, ds
    gc.collect()
    return seconds


def resume_figure(storage: str, examples: Callable[[], Examples], repeats: int) -> ResumeFigure:
    """The median wait for the first batch of a pipeline started at 10% and at 90% of an
    epoch of `examples()`."""
    size = examples().size
    _first_batch_seconds(examples(), 0)  # tracing and caches: not part of a resume
    waits = {}
    for fraction in (0.1, 0.9):
        times = [_first_batch_seconds(examples(), int(size * fraction)) for _ in range(repeats)]
        waits[fraction] = float(np.median(times))
    return ResumeFigure(storage, waits[0.1], waits[0.9])


@dataclasses.dataclass(frozen=True)
class ThroughputFigure:
    """Images/s of the pre-training input pipeline (TFDS TFRecord, Inception crops of
    `THROUGHPUT_CROP`), of the same pipeline decoding each JPEG whole (before), and of its
    floor, the same decode, crop, resize and flip of the same JPEGs held in memory in a bare
    tf.data map, on `threads` threads; and of that floor scaling its images to [-1, 1] as the
    pipeline does (`preprocess_input`): the same output."""

    threads: int
    pipeline: float
    floor: float
    decoded_whole: float  # the pipeline as before: each JPEG decoded whole, then cropped
    floor_scaled: float

    @property
    def ratio(self) -> float:
        return self.pipeline / self.floor

    @property
    def ratio_scaled(self) -> float:
        return self.pipeline / self.floor_scaled


# Batches timed: 20,480 images, about two windows of files (a window is read once per about
# 10,000 images: fewer would count the reading of one window against too few images).
THROUGHPUT_CROP, THROUGHPUT_BATCHES = 224, 320


def _on_threads(ds: tf.data.Dataset, threads: int) -> tf.data.Dataset:
    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    options.threading.max_intra_op_parallelism = 1
    return ds.with_options(options)


def _images_per_second(ds: tf.data.Dataset, batches: int, batch: int = BATCH) -> float:
    iterator = iter(ds)
    for _ in range(10):  # warm-up: tracing, the first window, autotuning
        next(iterator)
    began = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    seconds = time.perf_counter() - began
    del iterator
    gc.collect()
    return batches * batch / seconds


def throughput_figure(
    examples: Examples, jpegs: list[bytes], threads: int, batches: int = THROUGHPUT_BATCHES
) -> ThroughputFigure:
    """The pipeline's images/s against its floor on `threads` threads, `batches` timed."""

    def pipeline(examples):
        ds = _pretraining_batches(examples, THROUGHPUT_CROP)
        return _images_per_second(_on_threads(ds, threads), batches)

    def floor(scaled: bool) -> float:
        def bare(index, jpeg):
            seed = tf.stack([tf.constant(0, tf.int64), index])
            seeds = tf.random.experimental.stateless_split(seed, 2)
            image = inception_crop_encoded(jpeg, seeds[0], THROUGHPUT_CROP)
            image = tf.image.stateless_random_flip_left_right(image, seeds[1])
            return preprocess_input(image) if scaled else image

        ds = tf.data.Dataset.from_tensor_slices(jpegs).repeat().enumerate()
        ds = ds.map(bare, num_parallel_calls=threads).batch(BATCH)
        return _images_per_second(_on_threads(ds, threads), batches)

    return ThroughputFigure(
        threads,
        pipeline(examples),
        floor(scaled=False),
        pipeline(dataclasses.replace(examples, encoded=None)),
        floor(scaled=True),
    )


@dataclasses.dataclass(frozen=True)
class ResizeFigure:
    """Fine-tuning's resize of JPEGs of `height` x `width` to `size` on one thread: images/s
    decoding whole, then resizing (before) and with `resize_encoded` (a reduced-scale decode
    where the JPEG is at least twice `size`), and the mean absolute difference of the two
    results (of 255)."""

    height: int
    width: int
    size: int
    whole: float
    scaled: float
    mean_difference: float

    @property
    def ratio(self) -> float:
        return self.scaled / self.whole


# (height, width, size) of the resize benchmark: ImageNet-like JPEGs at BiT-HyperRule's 448
# and at 160, and larger ones (photographs' crops upsampled: less fine detail than a camera's).
RESIZE_CASES = ((375, 500, 448), (375, 500, 160), (1125, 1500, 448), (2250, 3000, 448))


def resize_figure(height: int, width: int, size: int, images: int = 2000) -> ResizeFigure:
    """Times both resize paths over `images` resizes of 8 distinct JPEGs on one thread."""
    jpegs = photo_jpegs(8, height, width)

    def whole(jpeg):
        return tf.image.resize(decode_image(jpeg), (size, size))

    def rate(resize) -> float:
        ds = tf.data.Dataset.from_tensor_slices(jpegs).repeat().map(resize).batch(8)
        return _images_per_second(_on_threads(ds, 1), images // 8, batch=8)

    difference = np.mean(
        [np.abs(whole(j).numpy() - resize_encoded(j, size).numpy()).mean() for j in jpegs]
    )
    return ResizeFigure(
        height, width, size, rate(whole), rate(lambda j: resize_encoded(j, size)), difference
    )


def _bytes_read() -> int:
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


def _epoch_bytes(ds: tf.data.Dataset, size: int, epochs: int) -> float:
    # Bytes an epoch reads in a long run: the mean of epochs 2 to 1 + `epochs`. Reading ahead
    # (one window) moves bytes between epochs; over `epochs` it is at most 1 / `epochs` of
    # one.
    iterator = iter(ds)
    for _ in range(size):
        next(iterator)
    before = _bytes_read()
    for _ in range(size * epochs):
        next(iterator)
    read = _bytes_read() - before
    del iterator
    gc.collect()
    return read / epochs


def bytes_figure(
    storage: str, examples: Examples, files: Examples, epochs: int = BYTES_EPOCHS
) -> BytesFigure:
    """Bytes this process reads in an epoch of each of `PIPELINES` pipelines' share of
    `examples` (records only, not decoded); `files` names the split's files. A stream's
    pipelines each read it all and keep every `PIPELINES`-th record (`Dataset.shard`)."""
    sizes = [file_size(p) for p in sorted({f.path for f in files.files.files})]
    undecoded = dataclasses.replace(examples, decode=lambda record: record)
    epochs = min(epochs, 3) if examples.stream else epochs  # a stream reads all, every epoch
    per_pipeline = []
    for index in range(PIPELINES):
        share = undecoded.shard(PIPELINES, index)
        ds = share.ordered(key=index, start=0)
        per_pipeline.append(_epoch_bytes(ds, share.size, epochs))
    return BytesFigure(storage, tuple(per_pipeline), sum(sizes), max(sizes))


def run(
    examples: int = 100_000,
    files: int = 64,
    repeats: int = 3,
    height: int = 375,
    width: int = 500,
    out: Callable[[str], object] = print,
    throughput_batches: int = THROUGHPUT_BATCHES,
    bytes_epochs: int = BYTES_EPOCHS,
    resize_cases=RESIZE_CASES,
    resize_images: int = 2000,
) -> tuple[list[ResumeFigure], list[BytesFigure], list[ThroughputFigure], list[ResizeFigure]]:
    """Writes the synthetic data set in both formats, measures, prints, returns the figures."""
    if examples < 10 * BATCH or files < PIPELINES or repeats < 1 or min(height, width) < CROP:
        raise ValueError(
            f"Need examples >= {10 * BATCH}, files >= {PIPELINES}, repeats >= 1 and images "
            f"of at least {CROP} px. Received: examples={examples}, files={files}, "
            f"repeats={repeats}, height={height}, width={width}"
        )
    resumes, reads, speeds = [], [], []
    with tempfile.TemporaryDirectory(prefix="bit_keras_input_") as folder:

        def written(count: int, file_format: str):
            out(
                f"Writing {count:,} JPEGs of {width}x{height} with TFDS into {files} "
                f"{file_format} files ..."
            )
            data_dir = os.path.join(folder, f"{count}_{file_format}")
            prepare(data_dir, count, files, file_format, height, width)
            return load_source(_NAME, data_dir, download=False).train_examples

        def ways(tfrecord, by_index):
            def array_windows():  # the same ArrayRecord files read in order, in windows
                made = by_index()
                return dataclasses.replace(made, files=dataclasses.replace(made.files, fetch=None))

            return (
                ("TFDS TFRecord, before (one stream)", lambda: _stream_before(tfrecord())),
                ("TFDS TFRecord (windows of files)", tfrecord),
                ("TFDS ArrayRecord (by index)", by_index),
                ("TFDS ArrayRecord (windows of files)", array_windows),
            )

        # Bytes first, on a smaller data set of the same layout (each share read for
        # 1 + `bytes_epochs` epochs), before any other pipeline of this process has run.
        small = min(examples, BYTES_EXAMPLES)
        tfrecord, by_index = written(small, "tfrecord"), written(small, "array_record")
        for storage, make in ways(tfrecord, by_index):
            figure = bytes_figure(storage, make(), tfrecord(), bytes_epochs)
            reads.append(figure)
            shares = ", ".join(f"{b / figure.total:.1%}" for b in figure.per_pipeline)
            limit = (figure.total / PIPELINES + figure.largest_file) / figure.total
            out(
                f"bytes, {storage}: an epoch of each of {PIPELINES} pipelines reads {shares} "
                f"of the {figure.total / 2**20:,.0f} MiB of files ({small:,} examples; a "
                f"quarter plus one file: {limit:.1%})"
            )
        if examples > small:  # else the same data set serves
            tfrecord, by_index = written(examples, "tfrecord"), written(examples, "array_record")
        for storage, make in ways(tfrecord, by_index):
            figure = resume_figure(storage, make, repeats)
            resumes.append(figure)
            out(
                f"resume, {storage}: first batch {figure.at_10_percent:.2f} s at 10% of an "
                f"epoch, {figure.at_90_percent:.2f} s at 90% ({figure.ratio:.2f}x)"
            )
        jpegs = photo_jpegs(16, height, width)  # the data set's 16 distinct images
        for threads in (1, 2):
            speed = throughput_figure(tfrecord(), jpegs, threads, throughput_batches)
            speeds.append(speed)
            out(
                f"throughput on {threads} thread(s): the pipeline (TFDS TFRecord, Inception "
                f"crops to {THROUGHPUT_CROP}) {speed.pipeline:.0f} images/s, its floor (the "
                f"same decode, crop, resize and flip in a bare map) {speed.floor:.0f}: "
                f"{speed.ratio:.2f}x; the floor scaling to [-1, 1] as well (the same output) "
                f"{speed.floor_scaled:.0f}: {speed.ratio_scaled:.2f}x; before, decoding each "
                f"JPEG whole: {speed.decoded_whole:.0f} images/s"
            )
        in_memory = _in_memory(tfrecord())
        figure = resume_figure("in memory, by index", lambda: in_memory, repeats)
        resumes.append(figure)
        out(
            f"resume, in memory by index (digits; folder: and csv: by file name): first batch "
            f"{figure.at_10_percent:.2f} s at 10%, {figure.at_90_percent:.2f} s at 90% "
            f"({figure.ratio:.2f}x)"
        )
    resizes = []
    for height, width, size in resize_cases:
        figure = resize_figure(height, width, size, resize_images)
        resizes.append(figure)
        out(
            f"resize of {width}x{height} JPEGs to {size} (fine-tuning), 1 thread: decoded "
            f"whole {figure.whole:.0f} images/s, at a reduced scale where it applies "
            f"{figure.scaled:.0f} ({figure.ratio:.2f}x); mean difference "
            f"{figure.mean_difference:.2f} of 255"
        )
    return resumes, reads, speeds, resizes


def _in_memory(examples: Examples) -> Examples:
    """The split's encoded images and labels in memory, read by index."""
    records, labels = [], []
    for record, label in examples.files.in_order():
        records.append(record.numpy())
        labels.append(int(label))
    return Examples.from_arrays(np.array(records, dtype=object), labels, decode=examples.decode)
