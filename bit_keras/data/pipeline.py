"""BiT's input pipelines on tf.data: few-shot draws, train augmentation, MixUp, evaluation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from bit_keras.preprocessing import preprocess_input

# Examples held in the shuffle buffer (decoded, before resizing).
SHUFFLE_BUFFER = 10_000


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


def _train_example(image, label, seed, resize: int, crop: int, num_classes: int, flip: bool):
    image = tf.image.resize(image, (resize, resize))
    seeds = tf.random.experimental.stateless_split(seed, 2)
    image = tf.image.stateless_random_crop(image, (crop, crop, 3), seeds[0])
    if flip:
        image = tf.image.stateless_random_flip_left_right(image, seeds[1])  # a coin per image
    return preprocess_input(image), tf.one_hot(label, num_classes)


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
    dataset: tf.data.Dataset,
    *,
    batch_size: int,
    resize: int,
    crop: int,
    num_classes: int,
    mixup_alpha: float,
    seed: int,
    random_flip: bool = True,
    input_context: tf.distribute.InputContext | None = None,
) -> tf.data.Dataset:
    """Endless training batches: shuffle, resize, random crop, random flip, MixUp.

    Args:
        dataset: `(image uint8, label int64)` examples.
        batch_size: Batch size of this pipeline (per replica under tf.distribute).
        resize: Images are resized to `resize` x `resize` ...
        crop: ... then randomly cropped to `crop` x `crop`.
        num_classes: For one-hot labels.
        mixup_alpha: MixUp's alpha; 0 for no MixUp.
        seed: Seeds shuffling and every random op: the same seed gives the same batches.
        random_flip: Flip each image left-right with probability 1/2 (BiT does).
        input_context: Shards the data between input pipelines.

    Returns:
        Batches `(images float32 [-1, 1] (B, crop, crop, 3), one-hot labels (B, K))`, with a
        static batch size (the remainder is dropped, as TPUs need).
    """
    if crop > resize:
        raise ValueError(f"`crop` must not exceed `resize`. Received: crop={crop}, resize={resize}")
    if input_context is not None and input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        seed += 1_000_003 * input_context.input_pipeline_id
    dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True).repeat()
    seeds = tf.data.Dataset.random(seed=seed).batch(2).map(lambda s: tf.cast(s, tf.int64))
    dataset = tf.data.Dataset.zip(dataset, seeds).map(
        lambda example, s: _train_example(*example, s, resize, crop, num_classes, random_flip),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if mixup_alpha > 0:
        batch_seeds = tf.data.Dataset.random(seed=seed + 1).batch(2)
        dataset = tf.data.Dataset.zip(dataset, batch_seeds).map(
            lambda batch, s: _mixup(*batch, tf.cast(s, tf.int64), mixup_alpha),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def eval_dataset(
    dataset: tf.data.Dataset,
    *,
    size: int,
    batch_size: int,
    crop: int,
    input_context: tf.distribute.InputContext | None = None,
) -> tf.data.Dataset:
    """Evaluation batches of a fixed shape: images resized to `crop`, padded with masked fillers.

    Every input pipeline yields the same number of full batches, `eval_steps(...)` for each of
    its replicas (collective ops under multi-worker training need that, TPUs need static
    shapes); filler examples have mask 0.

    Returns:
        Batches `(images (B, crop, crop, 3), labels int64 (B,), mask float32 (B,))`.
    """
    pipelines, pipeline_id, replicas = 1, 0, 1
    if input_context is not None:
        pipelines, pipeline_id = input_context.num_input_pipelines, input_context.input_pipeline_id
        replicas = input_context.num_replicas_in_sync // pipelines
    if pipelines > 1:
        dataset = dataset.shard(pipelines, pipeline_id)
    shard_size = len(range(pipeline_id, size, pipelines))
    batches = eval_steps(size, batch_size, pipelines, replicas) * replicas
    padding = batches * batch_size - shard_size

    def prepare(image, label):
        image = preprocess_input(tf.image.resize(image, (crop, crop)))
        return image, label, tf.constant(1.0)

    dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    filler = tf.data.Dataset.from_tensors(
        (tf.zeros((crop, crop, 3)), tf.constant(0, tf.int64), tf.constant(0.0))
    ).repeat(padding)
    return dataset.concatenate(filler).batch(batch_size, drop_remainder=True).prefetch(2)


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
