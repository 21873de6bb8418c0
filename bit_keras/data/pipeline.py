"""BiT's input pipelines on tf.data: few-shot draws, train augmentation, MixUp, evaluation.

The training order is a pure function of (seed, position): the k-th example of epoch e is
`index_shuffle(k)` under a key of (seed, e), and every random crop, flip and MixUp draw is
keyed by the example's (or batch's) position. A pipeline started at step s therefore yields
exactly the batches an uninterrupted one yields from step s on, without replaying the ones
before; this is what makes a resumed run the run it replaces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from bit_keras.data.image_check import undecodable_error
from bit_keras.data.image_io import decode_image
from bit_keras.data.record_files import RecordFiles
from bit_keras.data.service import served
from bit_keras.preprocessing import preprocess_input

# Examples held in the shuffle buffer of data read as a stream, or in a window of TFRecord
# files shuffled together (records, before decoding).
SHUFFLE_BUFFER = 10_000
# Examples looked up at once (one gather, or one read of files by index).
_LOOKUP_CHUNK = 128
# TensorFlow's own graph-level seed when no global seed is set (random_seed.DEFAULT_GRAPH_SEED).
_SHUFFLE_GRAPH_SEED = 87654321
# What each key derived from the seed is for (see `_key`).
_ORDER, _EXAMPLE, _MIXUP = 0, 1, 2


def _identity(record):
    return record


@dataclasses.dataclass(frozen=True)
class Examples:
    """A training split as `train_dataset` reads it: by index where the data allows it.

    Records are what is cheap to hold and to skip (an in-memory image, a file path, encoded
    bytes); `decode` turns one into a uint8 image (H, W, 3) after the order is fixed.

    Attributes:
        size: Number of examples.
        lookup: Index (int64 scalar tensor) -> `(record, label)`: random access. None for data
            that can only be read in order.
        stream: Returns a dataset of `(record, label)` in a fixed order, for data that is
            neither in memory nor in record files (`from_dataset`). A resumed stream is
            reshuffled per epoch from the seed and skipped within the current epoch (cost:
            reading part of one epoch's records, undecoded).
        files: Record files (TFDS' TFRecord or ArrayRecord files, `record_files.py`): each
            input pipeline reads its own files, and a resume reads at most one window of
            files (TFRecord) or only what it uses (ArrayRecord, by index).
        decode: Record -> image.
        undecodable: What a record that fails to decode does (records are file paths, with
            `lookup`): None, TensorFlow's error as it comes; `stop`, an error naming the file
            (`image_check.undecodable_image` reads it); `skip`, its place in the order goes
            to the next example that decodes (the same on every run and after a resume) and
            `on_skip` is told its path.
        on_skip: Called with the path of each file `skip` leaves out.
        encoded: Record -> the image's encoded bytes (a file's, a TFDS image feature's), where
            there are any: an Inception crop of a JPEG then decodes only its window
            (`inception_crop_encoded`), measured 1.23x faster than decoding it whole.
    """

    size: int
    lookup: Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]] | None = None
    stream: Callable[[], tf.data.Dataset] | None = None
    files: RecordFiles | None = None
    decode: Callable[[tf.Tensor], tf.Tensor] = _identity
    undecodable: str | None = None
    on_skip: Callable[[str], object] | None = None
    encoded: Callable[[tf.Tensor], tf.Tensor] | None = None

    def __post_init__(self):
        if self.size < 1:
            raise ValueError(f"A training split needs examples. Received: size={self.size}")
        if sum(x is not None for x in (self.lookup, self.stream, self.files)) != 1:
            raise ValueError("Examples needs exactly one of `lookup`, `stream` and `files`.")
        if self.undecodable not in (None, "stop", "skip"):
            raise ValueError(
                f"`undecodable` must be None, 'stop' or 'skip'. Received: {self.undecodable!r}"
            )
        if self.undecodable and self.lookup is None:
            raise ValueError("`undecodable` names files: it needs `lookup`.")

    @classmethod
    def from_arrays(cls, records, labels, decode=_identity, **options) -> Examples:
        """Random access into in-memory records (images or file names) and labels;
        `options` are further fields (`undecodable`, `on_skip`)."""
        records, labels = tf.constant(records), tf.constant(labels, tf.int64)
        return cls(
            len(labels),
            lookup=lambda i: (tf.gather(records, i), tf.gather(labels, i)),
            decode=decode,
            **options,
        )

    @classmethod
    def from_dataset(cls, dataset: tf.data.Dataset, decode=_identity) -> Examples:
        """A finite dataset of `(record, label)`, read in order."""
        size = int(dataset.cardinality())
        if size < 0:
            raise ValueError(
                "The training dataset's size is unknown (infinite, or after a filter): pass "
                "`Examples(size, stream=...)`."
            )
        return cls(size, stream=lambda: dataset, decode=decode)

    def subset(self, indices: np.ndarray) -> Examples:
        """The examples at `indices` (sorted, as `few_shot_indices` returns them)."""
        indices = np.asarray(indices, np.int64)
        lookup = self._lookup()
        if lookup is not None:
            chosen = tf.constant(indices)
            return dataclasses.replace(
                self, size=len(indices), lookup=lambda i: lookup(tf.gather(chosen, i)), files=None
            )
        stream, size = self.stream or self.files.in_order, self.size
        return dataclasses.replace(
            self,
            size=len(indices),
            stream=lambda: select(stream(), indices, size),
            files=None,
        )

    def shard(self, num_shards: int, index: int) -> Examples:
        """The examples input pipeline `index` of `num_shards` reads: its own files
        (`record_files.share_files`) or, for data in memory or in a stream, every
        `num_shards`-th example from `index` on, as `tf.data.Dataset.shard`."""
        if self.files is not None:
            files = self.files.share(num_shards, index)
            return dataclasses.replace(self, size=files.size, files=files)
        size = len(range(index, self.size, num_shards))
        if self.lookup is not None:
            lookup = self.lookup
            return dataclasses.replace(
                self, size=size, lookup=lambda i: lookup(index + num_shards * i)
            )
        stream = self.stream
        return dataclasses.replace(
            self, size=size, stream=lambda: stream().shard(num_shards, index)
        )

    def ordered(self, key: int, start: int = 0, *, decode: bool = True) -> tf.data.Dataset:
        """Endless `(image, label, position)` in the shuffled order keyed by `key`, from
        position `start` on (position p is example p % size of epoch p // size); with
        `decode=False`, `(record, label, position)`."""
        n, lookup = self.size, self._lookup()
        if lookup is not None:

            def chunks(epoch):  # positions a chunk at a time, within one epoch
                first = tf.maximum(epoch * n, start)
                return tf.data.Dataset.range(first, (epoch + 1) * n).batch(_LOOKUP_CHUNK)

            def at(positions):
                return (*lookup(_shuffled_index(positions, key, n)), positions)

            ds = tf.data.Dataset.range(start // n, np.iinfo(np.int64).max).flat_map(chunks)
            ds = ds.map(at).unbatch()
        elif self.files is not None:
            ds = self.files.ordered(key, start, SHUFFLE_BUFFER)
        else:
            records, first_epoch, offset = (
                self.stream(),
                start // n,
                tf.constant(start % n, tf.int64),
            )
            buffer = min(SHUFFLE_BUFFER, n)

            def epoch(e):
                seed = tf.random.stateless_uniform(
                    [], tf.stack([tf.constant(key, tf.int64), e]), None, None, tf.int64
                )
                if not tf.executing_eagerly():  # tracing: sets this function's graph only
                    # `shuffle` pairs its seed with the graph-level seed, which is the global
                    # seed (`keras.utils.set_random_seed`). Pinned, the order depends on
                    # (key, epoch) alone; unpinned, a global seed of 0 made TensorFlow
                    # compare the seed tensor to 0 in Python and fail.
                    tf.random.set_seed(_SHUFFLE_GRAPH_SEED)
                shuffled = records.shuffle(buffer, seed=seed, reshuffle_each_iteration=False)
                return shuffled.skip(tf.where(e == first_epoch, offset, tf.constant(0, tf.int64)))

            ds = tf.data.Dataset.range(first_epoch, np.iinfo(np.int64).max).flat_map(epoch)
            ds = tf.data.Dataset.zip(ds, tf.data.Dataset.range(start, np.iinfo(np.int64).max))
            ds = ds.map(lambda example, position: (*example, position))
        if not decode:
            return ds
        decode = self.decode
        ds = ds.map(
            lambda record, label, position: (decode(record), label, position),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        return self._undecodable_handled(ds, key, start) if self.undecodable else ds

    def _lookup(self):
        # Random access: in memory, or into record files read by index.
        if self.lookup is not None:
            return self.lookup
        if self.files is not None and self.files.fetch is not None:
            return self.files.lookup()
        return None

    def _undecodable_handled(self, ds: tf.data.Dataset, key: int, start: int) -> tf.data.Dataset:
        # Examples that fail to decode are dropped (`ignore_errors`); the position of the next
        # one that decodes shows the gap. Its file is named (`stop`: by an error; `skip`:
        # to `on_skip`) and, skipping, that next example fills the gap's places as well, so
        # the k-th element is still the one at position k, as a resumed pipeline has it.
        n, lookup, stop = self.size, self.lookup, self.undecodable == "stop"
        on_skip = self.on_skip or (lambda path: None)

        def name(paths):
            for path in paths.numpy():
                path = path.decode()
                if stop:
                    raise undecodable_error(path)
                on_skip(path)
            return 0

        def gap(last, element):
            return element[2], (*element, last)

        def fill(image, label, position, last):
            missing = tf.range(last + 1, position)

            def named():
                indices = tf.map_fn(lambda p: _shuffled_index(p, key, n), missing)
                paths = lookup(indices)[0]
                return tf.py_function(name, [paths], tf.int32)

            done = tf.cond(tf.size(missing) > 0, named, lambda: tf.constant(0))
            with tf.control_dependencies([done]):
                places = tf.data.Dataset.range(last + 1, position + 1)
            return places.map(lambda place: (image, label, place))

        ds = ds.ignore_errors().scan(tf.constant(start - 1, tf.int64), gap)
        return ds.flat_map(fill)


def _shuffled_index(position, key: int, n: int) -> tf.Tensor:
    """The index of the example at `position` of the order keyed by `key` (a scalar, or a
    vector of positions within one epoch)."""
    epoch = tf.reshape(position, [-1])[0] // n
    epoch_seed = tf.stack([tf.constant(key, tf.int64), epoch])
    return tf.random.experimental.index_shuffle(position % n, epoch_seed, n - 1)


def _key(seed: int, pipeline: int, purpose: int) -> int:
    """A 63-bit key for one use of the seed by one input pipeline."""
    state = np.random.SeedSequence([seed % 2**63, pipeline, purpose]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def few_shot_indices(labels: np.ndarray, examples_per_class: int, seed: int) -> np.ndarray:
    """Draws exactly `examples_per_class` training examples of every class, reproducibly.

    Args:
        labels: Labels of the training split in dataset order.
        examples_per_class: K, how many examples of each class to keep.
        seed: The same seed draws the same examples.

    Returns:
        Sorted indices into the training split, K for every class present.

    Raises:
        ValueError: a class has fewer than K examples, or K < 1.
    """
    if examples_per_class < 1:
        raise ValueError(f"`examples_per_class` must be positive. Received: {examples_per_class}")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        if len(idx) < examples_per_class:
            raise ValueError(
                f"Class {label} has {len(idx)} training examples, fewer than "
                f"examples_per_class={examples_per_class}."
            )
        chosen.append(rng.choice(idx, examples_per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def select(dataset: tf.data.Dataset, indices: np.ndarray, size: int) -> tf.data.Dataset:
    """Keeps the elements of `dataset` (of `size` elements) at `indices`."""
    keep = np.zeros(size, bool)
    keep[indices] = True
    keep = tf.constant(keep)
    return dataset.enumerate().filter(lambda i, _: keep[i]).map(lambda _, example: example)


# Inception-style crops (Szegedy et al., 2015, arXiv 1409.4842, as BiT's upstream training
# and big_vision's `inception_crop` take them): a box of 5% to 100% of the image's area with an
# aspect ratio in [3/4, 4/3], resized to the crop size.
INCEPTION_AREA_RANGE = (0.05, 1.0)
INCEPTION_ASPECT_RANGE = (3 / 4, 4 / 3)
# Upstream evaluation resizes the shorter side to 256/224 of the crop, then centre-crops
# (big_vision's bit_i1k.py: resize_small(256)|central_crop(224)).
EVAL_RESIZE_RATIO = 256 / 224


def targets(label, num_classes: int) -> tf.Tensor:
    """A label as a float32 target: one-hot for a class id, multi-hot for a list of them.

    A multi-label example holds its class ids padded with -1 (which one-hot to zeros).
    """
    hot = tf.one_hot(label, num_classes)
    return hot if hot.shape.rank == 1 else tf.reduce_max(hot, axis=0)


def inception_box(image_shape, seed) -> tuple[tf.Tensor, tf.Tensor]:
    """`(begin, size)` of a random Inception-style box in an image of `image_shape` (H, W, C).

    The box covers `INCEPTION_AREA_RANGE` of the area at an aspect ratio (width / height) in
    `INCEPTION_ASPECT_RANGE`, as far as whole pixels allow; `seed` (a shape [2] tensor) fixes
    it. TensorFlow gives up after 100 draws that do not fit and returns the whole image.
    """
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        image_shape,
        tf.zeros([0, 0, 4], tf.float32),
        seed=seed,
        min_object_covered=0.0,
        aspect_ratio_range=INCEPTION_ASPECT_RANGE,
        area_range=INCEPTION_AREA_RANGE,
        use_image_if_no_bounding_boxes=True,
    )
    return begin, size


def inception_crop(image, seed, crop: int) -> tf.Tensor:
    """A random Inception-style crop of `image` (`inception_box`), resized to `crop` x `crop`
    (bilinear, float32)."""
    begin, size = inception_box(tf.shape(image), seed)
    return tf.image.resize(tf.slice(image, begin, size), (crop, crop))


def inception_crop_encoded(encoded, seed, crop: int) -> tf.Tensor:
    """`inception_crop` of an encoded image: the same box from the same seed, but a JPEG
    decodes only that window (`tf.image.decode_and_crop_jpeg`; other formats whole).

    libjpeg's window reconstructs chroma at the window's edge from the window alone: about
    0.1% of the values differ from decoding whole, by at most 16 of 255, at the edges. 500x375
    JPEGs to 224 px, one thread in tf.data: 1,244 images/s against 1,012 decoding whole.
    """

    def window():
        height, width = tf.unstack(tf.image.extract_jpeg_shape(encoded)[:2])
        begin, size = inception_box(tf.stack([height, width, 3]), seed)
        box = tf.stack([begin[0], begin[1], size[0], size[1]])
        return tf.image.decode_and_crop_jpeg(encoded, box, channels=3)

    def whole():
        image = decode_image(encoded)
        begin, size = inception_box(tf.shape(image), seed)
        return tf.slice(image, begin, size)

    image = tf.cond(tf.io.is_jpeg(encoded), window, whole)
    return tf.image.resize(image, (crop, crop))


def resize_encoded(encoded, size: int) -> tf.Tensor:
    """An encoded image decoded and resized to `size` x `size` (bilinear, float32), as
    `tf.image.resize(decode_image(encoded), ...)`; a JPEG at least twice `size` on its shorter
    side is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, still at least `size`).

    Measured on one thread (`tools/benchmark_input.py`): 1.14-1.22x as many images/s for
    500x375 JPEGs to 160, 1.2x for 1500x1125 to 448, 1.5x for 3000x2250; below twice the size
    (BiT-HyperRule's 448 of ImageNet's 500x375 JPEGs), the same decode and the same pixels.
    The scaled decode averages the pixels that a bilinear resize without antialiasing skips,
    so where it applies the two differ where the image has fine detail: photographs of
    427x640 to 160 px by 2-8 of 255 on average, as much as the bilinear resize differs from
    an antialiased one, and nearer the antialiased one (tests/data/test_pipeline.py holds the
    tolerance). Evaluation still decodes whole.
    """

    # decode_jpeg's `ratio` is fixed in the graph: one branch per ratio. libjpeg scales a side
    # of n pixels by 1/r to ceil(n / r) pixels.
    def decoded(ratio):
        return lambda: tf.io.decode_jpeg(encoded, channels=3, ratio=ratio)

    def jpeg():
        shorter = tf.reduce_min(tf.image.extract_jpeg_shape(encoded)[:2])
        branch = tf.add_n([tf.cast(shorter >= r * size - (r - 1), tf.int32) for r in (2, 4, 8)])
        return tf.switch_case(branch, [decoded(1), decoded(2), decoded(4), decoded(8)])

    image = tf.cond(tf.io.is_jpeg(encoded), jpeg, lambda: decode_image(encoded))
    return tf.image.resize(image, (size, size))


def _train_example(
    image,
    label,
    seed,
    resize: int | None,
    crop: int,
    num_classes: int,
    flip: bool,
    encoded: bool = False,
):
    seeds = tf.random.experimental.stateless_split(seed, 2)
    if resize is None and encoded:
        image = inception_crop_encoded(image, seeds[0], crop)
    elif resize is None:
        image = inception_crop(image, seeds[0], crop)
    else:
        if encoded:
            image = resize_encoded(image, resize)
        else:
            image = tf.image.resize(image, (resize, resize))
        image = tf.image.stateless_random_crop(image, (crop, crop, 3), seeds[0])
    if flip:
        image = tf.image.stateless_random_flip_left_right(image, seeds[1])  # a coin per image
    return preprocess_input(image), targets(label, num_classes)


def _mixup(images, labels, seed, alpha: float):
    # lambda ~ Beta(alpha, alpha), one per batch, mixing each example with the batch reversed.
    seeds = tf.random.experimental.stateless_split(seed, 2)
    a = tf.random.stateless_gamma([], seeds[0], alpha)
    b = tf.random.stateless_gamma([], seeds[1], alpha)
    lam = a / (a + b)
    return (
        lam * images + (1 - lam) * tf.reverse(images, [0]),
        lam * labels + (1 - lam) * tf.reverse(labels, [0]),
    )


def train_dataset(
    examples: Examples | tf.data.Dataset,
    *,
    batch_size: int,
    resize: int | None,
    crop: int,
    num_classes: int,
    mixup_alpha: float,
    seed: int,
    start_step: int = 0,
    random_flip: bool = True,
    input_context: tf.distribute.InputContext | None = None,
    data_service: str | None = None,
) -> tf.data.Dataset:
    """Endless training batches: shuffle, resize and random crop (or an Inception crop),
    random flip, MixUp.

    Args:
        examples: The training split: `Examples`, or a finite `tf.data.Dataset` of
            `(image uint8, label int64)`; a multi-label example's label is its class ids
            padded with -1.
        batch_size: Batch size of this pipeline (per replica under tf.distribute).
        resize: Images are resized to `resize` x `resize`, then randomly cropped to `crop`
            x `crop` (BiT-HyperRule). None: an Inception-style crop resized to `crop`
            (`inception_crop`, BiT's upstream training).
        crop: The training crop's size.
        num_classes: For one-hot (or multi-hot) targets.
        mixup_alpha: MixUp's alpha; 0 for no MixUp.
        seed: Seeds the order and every random op: the same seed gives the same batches.
        start_step: Training steps already taken: the batches start where a pipeline started
            at step 0 would be after them (each step takes one batch per replica).
        random_flip: Flip each image left-right with probability 1/2 (BiT does).
        input_context: Shards the data between input pipelines.
        data_service: `grpc://HOST:PORT` of a tf.data service dispatcher: its workers make
            the batches (`service.py`: the same examples and augmentation, in the order the
            workers finish them, not exactly repeatable).

    Returns:
        Batches `(images float32 [-1, 1] (B, crop, crop, 3), one-hot labels (B, K))`, with a
        static batch size (the remainder is dropped, as TPUs need).
    """
    if resize is not None and crop > resize:
        raise ValueError(f"`crop` must not exceed `resize`. Received: crop={crop}, resize={resize}")
    if start_step < 0:
        raise ValueError(f"`start_step` must not be negative. Received: {start_step}")
    if isinstance(examples, tf.data.Dataset):
        examples = Examples.from_dataset(examples)
    pipeline, batches_per_step = 0, 1
    if input_context is not None:
        pipelines = input_context.num_input_pipelines
        batches_per_step = input_context.num_replicas_in_sync // pipelines
        if pipelines > 1:
            pipeline = input_context.input_pipeline_id
            examples = examples.shard(pipelines, pipeline)
    first_batch = start_step * batches_per_step
    example_key, mixup_key = _key(seed, pipeline, _EXAMPLE), _key(seed, pipeline, _MIXUP)
    if data_service is not None:
        _check_servable(examples)

    # Encoded images are decoded by the crop: an Inception crop decodes only its window
    # (`inception_crop_encoded`), a resize of a large JPEG at a reduced scale (`resize_encoded`).
    from_encoded = examples.encoded is not None and not examples.undecodable

    def augment(record, label, position):
        key = tf.stack([tf.constant(example_key, tf.int64), position])
        image = examples.encoded(record) if from_encoded else record
        example = _train_example(
            image, label, key, resize, crop, num_classes, random_flip, encoded=from_encoded
        )
        return (*example, position)

    def finish(images, labels, positions):
        if mixup_alpha <= 0:
            return images, labels
        # The batch's number, from its first example's position (not counted apart: one
        # source, which the tf.data service can share out).
        number = positions[0] // batch_size
        return _mixup(
            images, labels, tf.stack([tf.constant(mixup_key, tf.int64), number]), mixup_alpha
        )

    dataset = examples.ordered(
        _key(seed, pipeline, _ORDER), first_batch * batch_size, decode=not from_encoded
    )
    dataset = dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    dataset = dataset.map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if data_service is not None:
        dataset = served(dataset, data_service)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _check_servable(examples: Examples) -> None:
    # The service's workers run the pipeline's graph in their own processes: no Python.
    if examples.stream is not None:
        raise ValueError(
            "--data_service shares out the training data by epoch: it cannot serve a "
            "tf.data.Dataset read as one stream (`Examples.from_dataset`)."
        )
    if examples.files is not None and examples.files.fetch is not None:
        raise ValueError(
            "--data_service cannot read ArrayRecord files by index (a Python function, which "
            "the service's workers cannot run): prepare the data set as TFRecord files, or "
            "drop --data_service."
        )
    if examples.undecodable:
        raise ValueError(
            "--data_service needs --image_check=decode: under `header`, a file found bad "
            "during training is named by Python code, which the service's workers cannot run."
        )


def eval_dataset(
    dataset: tf.data.Dataset | Callable[[int, int], tf.data.Dataset],
    *,
    size: int,
    batch_size: int,
    crop: int,
    resize_shorter: int | None = None,
    input_context: tf.distribute.InputContext | None = None,
) -> tf.data.Dataset:
    """Evaluation batches of a fixed shape: images resized to `crop` (BiT-HyperRule), or their
    shorter side resized to `resize_shorter` and the centre cropped (upstream), padded with
    masked fillers.

    Each input pipeline evaluates its own contiguous part of the split (`even_part`), read
    by itself where `dataset` can start and stop anywhere (`DataSource.test`: a TFDS split
    then reads only the files that hold its part). Every pipeline yields the same number of
    full batches, `eval_steps(...)` for each of its replicas (collective ops under
    multi-worker training need that, TPUs need static shapes); filler examples have mask 0.

    Args:
        dataset: The split as `(image uint8, label)`: a finite dataset, or a function
            `(start, stop) -> dataset` of its examples `start` to `stop`.

    Returns:
        Batches `(images (B, crop, crop, 3), labels int64 (B,), mask float32 (B,))`; a
        multi-label data set's labels are (B, L) class ids padded with -1.
    """
    pipelines, pipeline_id, replicas = 1, 0, 1
    if input_context is not None:
        pipelines, pipeline_id = input_context.num_input_pipelines, input_context.input_pipeline_id
        replicas = input_context.num_replicas_in_sync // pipelines
    start, stop = even_part(size, pipelines, pipeline_id)
    if callable(dataset):
        dataset = dataset(start, stop)
    elif pipelines > 1:
        dataset = dataset.skip(start).take(stop - start)
    batches = eval_steps(size, batch_size, pipelines, replicas) * replicas
    padding = batches * batch_size - (stop - start)

    def prepare(image, label):
        return _eval_image(image, crop, resize_shorter), label, tf.constant(1.0)

    dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    label_spec = dataset.element_spec[1]
    filler = tf.data.Dataset.from_tensors(
        (tf.zeros((crop, crop, 3)), -tf.ones(label_spec.shape, label_spec.dtype), 0.0)
    ).repeat(padding)
    return dataset.concatenate(filler).batch(batch_size, drop_remainder=True).prefetch(2)


def _eval_image(image, crop: int, resize_shorter: int | None = None):
    if resize_shorter is None:
        return preprocess_input(tf.image.resize(image, (crop, crop)))
    if resize_shorter < crop:
        raise ValueError(
            f"`resize_shorter` must be at least `crop`. Received: resize_shorter="
            f"{resize_shorter}, crop={crop}"
        )
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = resize_shorter / tf.reduce_min(shape)
    size = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), resize_shorter)
    image = tf.image.resize(image, size)
    top, left = (size[0] - crop) // 2, (size[1] - crop) // 2
    return preprocess_input(image[top : top + crop, left : left + crop])


def test_dataset(
    dataset: tf.data.Dataset, *, batch_size: int, crop: int, num_classes: int
) -> tf.data.Dataset:
    """Test batches for Keras' `fit` (`validation_data`) and `evaluate`.

    The images are prepared as `eval_dataset` prepares them and the labels are one-hot, as
    `train_dataset` yields them, so one compiled loss and metric serve both.

    Args:
        dataset: A finite `tf.data.Dataset` of `(image uint8, label int64)`.
        batch_size: Examples per batch; the last batch may be smaller.
        crop: Images are resized to `crop` x `crop`.
        num_classes: For one-hot labels.

    Returns:
        Batches `(images float32 [-1, 1] (B, crop, crop, 3), one-hot labels (B, K))`.
    """

    def prepare(image, label):
        return _eval_image(image, crop), targets(label, num_classes)

    dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def inference_dataset(dataset: tf.data.Dataset, *, batch_size: int, crop: int) -> tf.data.Dataset:
    """Batches for a frozen model's features (`bit-embed`, `bit-fewshot`): images prepared as
    `eval_dataset` prepares them, labels as they are, the last batch smaller.

    Returns:
        Batches `(images float32 [-1, 1] (B, crop, crop, 3), labels)`.
    """
    dataset = dataset.map(
        lambda image, label: (_eval_image(image, crop), label),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def even_part(size: int, parts: int, index: int) -> tuple[int, int]:
    """`(start, stop)` of part `index` of `size` examples cut into `parts` contiguous parts
    whose sizes differ by at most one (`tfds.even_splits`)."""
    return size * index // parts, size * (index + 1) // parts


def eval_steps(size: int, batch_size: int, pipelines: int = 1, replicas: int = 1) -> int:
    """Evaluation steps: batches that each replica of each pipeline gets from `eval_dataset`.

    Args:
        size: Examples in the split.
        batch_size: Batch size per replica.
        pipelines: Input pipelines (workers).
        replicas: Replicas fed by each pipeline.
    """
    largest_shard = -(-size // pipelines)
    return -(-largest_shard // (batch_size * replicas))
