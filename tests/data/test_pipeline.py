import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from bit_keras import data
from bit_keras.data import pipeline as data_pipeline
from bit_keras.data.image_io import read_image


def _labels():
    return np.repeat(np.arange(5), [7, 9, 5, 12, 8])


@pytest.mark.parametrize("k", [1, 3, 5])
def test_few_shot_draws_exactly_k_per_class(k):
    labels = _labels()
    idx = data.few_shot_indices(labels, k, seed=3)
    counts = np.bincount(labels[idx], minlength=5)
    assert counts.tolist() == [k] * 5
    assert len(set(idx.tolist())) == len(idx) == 5 * k


def test_few_shot_same_seed_same_draw():
    labels = _labels()
    a = data.few_shot_indices(labels, 3, seed=7)
    np.testing.assert_array_equal(a, data.few_shot_indices(labels, 3, seed=7))
    assert not np.array_equal(a, data.few_shot_indices(labels, 3, seed=8))


def test_few_shot_needs_enough_examples():
    with pytest.raises(ValueError, match="Class 2 has 5"):
        data.few_shot_indices(_labels(), 6, seed=0)


def test_select_keeps_those_examples():
    ds = tf.data.Dataset.from_tensor_slices((np.arange(10) * 10, np.arange(10)))
    kept = [int(y) for _, y in data_pipeline.select(ds, np.array([1, 4, 9]), 10)]
    assert kept == [1, 4, 9]


def _source(n=12):
    images = np.stack([np.full((8, 8, 3), i * 20, np.uint8) for i in range(n)])
    labels = np.arange(n, dtype=np.int64) % 3
    return tf.data.Dataset.from_tensor_slices((images, labels))


def test_train_batches_shapes_range_and_determinism():
    kwargs = dict(batch_size=4, resize=10, crop=8, num_classes=3, mixup_alpha=0.0, seed=5)
    a = [b for b in data.train_dataset(_source(), **kwargs).take(5)]
    b = [b for b in data.train_dataset(_source(), **kwargs).take(5)]
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert xa.shape == (4, 8, 8, 3) and ya.shape == (4, 3)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        assert float(tf.reduce_min(xa)) >= -1.0 and float(tf.reduce_max(xa)) <= 1.0
        np.testing.assert_array_equal(tf.reduce_sum(ya, 1), 1.0)


@pytest.mark.parametrize("access", ["lookup", "stream"])
@pytest.mark.parametrize("pipelines", [1, 2])
def test_a_pipeline_started_at_step_s_yields_the_uninterrupted_batches(access, pipelines):
    images = np.stack([np.full((8, 8, 3), i * 9, np.uint8) for i in range(13)])
    labels = np.arange(13, dtype=np.int64) % 3
    examples = (
        data.Examples.from_arrays(images, labels)
        if access == "lookup"
        else data.Examples.from_dataset(tf.data.Dataset.from_tensor_slices((images, labels)))
    )
    kwargs = dict(batch_size=3, resize=10, crop=8, num_classes=3, mixup_alpha=0.3, seed=11)
    for pipeline in range(pipelines):
        context = tf.distribute.InputContext(pipelines, pipeline, pipelines)
        whole = list(data.train_dataset(examples, input_context=context, **kwargs).take(20))
        for start in (1, 4, 9):  # inside the first, second and a later epoch
            resumed = data.train_dataset(
                examples, start_step=start, input_context=context, **kwargs
            )
            for (x, y), (x0, y0) in zip(resumed.take(20 - start), whole[start:], strict=True):
                np.testing.assert_array_equal(x, x0)
                np.testing.assert_array_equal(y, y0)
    # Each epoch holds every example once, in a new order.
    by_index = (
        data.Examples.from_arrays(images, np.arange(13))
        if access == "lookup"
        else data.Examples.from_dataset(tf.data.Dataset.from_tensor_slices((images, np.arange(13))))
    )
    one_epoch = data.train_dataset(
        by_index, batch_size=13, resize=8, crop=8, num_classes=13, mixup_alpha=0.0, seed=2
    )
    first, second = (np.argmax(y, 1).tolist() for _, y in one_epoch.take(2))
    assert sorted(first) == sorted(second) == list(range(13)) and first != second


def test_stream_order_is_independent_of_the_global_seed():
    # bit-train sets the global seed (keras.utils.set_random_seed) to --seed, 0 by default.
    # With 0, TFDS (stream) data once failed to build; with others, the order followed it.
    import keras

    images = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((1, 4, 4, 3), np.uint8)
    records = tf.data.Dataset.from_tensor_slices((images, np.arange(10)))

    def order(global_seed):
        keras.utils.set_random_seed(global_seed)
        batches = data.train_dataset(
            data.Examples.from_dataset(records),
            batch_size=5,
            resize=4,
            crop=4,
            num_classes=10,
            mixup_alpha=0.0,
            seed=3,
            random_flip=False,
        )
        return [int(np.argmax(y)) for _, labels in batches.take(4) for y in labels]

    first = order(0)
    assert sorted(first[:10]) == list(range(10)) and first[:10] != first[10:]
    assert order(5) == first and order(123) == first


def test_random_flip_is_per_image():
    # A left-bright image: flipped copies are right-bright. About half of them must flip
    # (the official TF2 pipeline flipped every image).
    image = np.zeros((8, 8, 3), np.uint8)
    image[:, :4] = 255
    ds = tf.data.Dataset.from_tensors((image, np.int64(0))).repeat(200)
    batch = next(
        iter(
            data.train_dataset(
                ds, batch_size=200, resize=8, crop=8, num_classes=1, mixup_alpha=0.0, seed=0
            )
        )
    )[0].numpy()
    flipped = batch[:, :, 0, 0].mean(axis=1) < 0
    assert 60 < flipped.sum() < 140
    unflipped = next(
        iter(
            data.train_dataset(
                ds,
                batch_size=200,
                resize=8,
                crop=8,
                num_classes=1,
                mixup_alpha=0.0,
                seed=0,
                random_flip=False,
            )
        )
    )[0].numpy()
    assert np.all(unflipped[:, :, 0, 0] > 0)


def test_mixup_mixes_images_and_labels_alike():
    ds = data.train_dataset(
        _source(), batch_size=6, resize=8, crop=8, num_classes=3, mixup_alpha=0.4, seed=1
    )
    images, labels = (t.numpy() for t in next(iter(ds)))
    np.testing.assert_allclose(labels.sum(1), 1.0, rtol=1e-6)
    assert np.any((labels > 0) & (labels < 1))  # soft labels
    # Each source image is one grey level; a mixed image is lam * a + (1 - lam) * b of two
    # examples, with the same lam as its label.
    lam = labels.max(1)[0] if labels[0].max() < 1 else None
    values = -1 + np.arange(12) * 20 / 127.5
    if lam is not None:
        mixed = images[0, 0, 0, 0]
        pairs = lam * values[:, None] + (1 - lam) * values[None, :]
        assert np.isclose(pairs, mixed, atol=1e-4).any()


def test_crop_larger_than_resize():
    with pytest.raises(ValueError, match="crop"):
        data.train_dataset(
            _source(), batch_size=2, resize=8, crop=9, num_classes=3, mixup_alpha=0.0, seed=0
        )


@pytest.mark.parametrize(("size", "batch", "pipelines"), [(12, 5, 1), (12, 4, 1), (13, 2, 3)])
def test_eval_pads_with_masked_fillers(size, batch, pipelines):
    labels_seen = []
    for pid in range(pipelines):
        context = tf.distribute.InputContext(pipelines, pid, pipelines)
        batches = list(
            data.eval_dataset(
                _source(size), size=size, batch_size=batch, crop=8, input_context=context
            )
        )
        assert len(batches) == data_pipeline.eval_steps(size, batch, pipelines)
        for images, labels, mask in batches:
            assert images.shape == (batch, 8, 8, 3)
            labels_seen += labels.numpy()[mask.numpy() == 1].tolist()
    assert sorted(labels_seen) == sorted((np.arange(size) % 3).tolist())


def test_inception_boxes_cover_5_to_100_percent_at_the_aspect_range():
    areas, aspects = [], []
    for i in range(300):
        begin, size = data_pipeline.inception_box((120, 160, 3), tf.constant([7, i], tf.int64))
        (top, left, _), (height, width, depth) = begin.numpy(), size.numpy()
        assert depth == -1 and top + height <= 120 and left + width <= 160  # -1: all channels
        areas.append(height * width / (120 * 160))
        aspects.append(width / height)
    areas, aspects = np.array(areas), np.array(aspects)
    assert areas.min() >= 0.05 - 0.01 and areas.max() <= 1.0
    assert areas.min() < 0.15 and areas.max() > 0.8  # the whole range is drawn
    assert aspects.min() >= 0.75 - 0.02 and aspects.max() <= 4 / 3 + 0.02
    again = data_pipeline.inception_box((120, 160, 3), tf.constant([7, 3], tf.int64))
    first = data_pipeline.inception_box((120, 160, 3), tf.constant([7, 3], tf.int64))
    np.testing.assert_array_equal(again[1], first[1])  # the seed fixes the box


def test_inception_crop_batches_have_the_crop_size_and_resume_exactly():
    images = np.random.default_rng(0).integers(0, 255, (9, 30, 20, 3), dtype=np.uint8)
    examples = data.Examples.from_arrays(images, np.arange(9) % 3)
    kwargs = dict(batch_size=4, resize=None, crop=12, num_classes=3, mixup_alpha=0.0, seed=2)
    whole = list(data.train_dataset(examples, **kwargs).take(5))
    for x, y in whole:
        assert x.shape == (4, 12, 12, 3) and y.shape == (4, 3)
        assert float(tf.reduce_min(x)) >= -1.0 and float(tf.reduce_max(x)) <= 1.0
    resumed = list(data.train_dataset(examples, start_step=3, **kwargs).take(2))
    for (x, _), (x0, _) in zip(resumed, whole[3:], strict=True):
        np.testing.assert_array_equal(x, x0)
    # Inception crops differ from resize-and-crop on the same data.
    resized = next(iter(data.train_dataset(examples, **{**kwargs, "resize": 14})))[0]
    assert not np.allclose(resized, whole[0][0])


def test_upstream_evaluation_resizes_the_shorter_side_and_centre_crops():
    # A 40x80 image whose columns count up: resized to 20x40, the centre 20x20 is kept.
    image = np.tile(np.linspace(0, 255, 80, dtype=np.float32)[None, :, None], (40, 1, 3))
    ds = tf.data.Dataset.from_tensors((image.astype(np.uint8), tf.constant(1, tf.int64)))
    x, label, mask = next(
        iter(data.eval_dataset(ds, size=1, batch_size=1, crop=20, resize_shorter=20))
    )
    assert x.shape == (1, 20, 20, 3) and int(label[0]) == 1 and float(mask[0]) == 1.0
    full = tf.image.resize(image.astype(np.uint8), (20, 40))[:, 10:30] / 127.5 - 1
    np.testing.assert_allclose(x[0], full, atol=1e-6)
    whole = next(iter(data.eval_dataset(ds, size=1, batch_size=1, crop=20)))[0]
    assert float(tf.reduce_max(whole)) > float(tf.reduce_max(x)) + 0.3  # the whole width


def test_multi_label_targets_and_evaluation_fillers():
    np.testing.assert_array_equal(data_pipeline.targets(tf.constant(2, tf.int64), 4), [0, 0, 1, 0])
    multi = data_pipeline.targets(tf.constant([3, 0, -1], tf.int64), 4)
    np.testing.assert_array_equal(multi, [1, 0, 0, 1])
    labels = np.array([[0, 2], [1, -1], [2, -1]], np.int64)
    images = np.zeros((3, 8, 8, 3), np.uint8)
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    batches = list(data.eval_dataset(ds, size=3, batch_size=2, crop=8))
    assert len(batches) == 2
    _, last_labels, last_mask = batches[-1]
    np.testing.assert_array_equal(last_labels, [[2, -1], [-1, -1]])  # a masked filler
    np.testing.assert_array_equal(last_mask, [1.0, 0.0])


def test_the_window_decode_crops_the_same_box_within_the_jpeg_decoders_tolerance():
    from bit_keras.benchmark.input_speed import photo_jpegs

    for i, jpeg in enumerate(photo_jpegs(6, 375, 500)):
        for s in range(5):
            seed = tf.constant([i, s], tf.int64)
            whole = data_pipeline.inception_crop(tf.io.decode_jpeg(jpeg, channels=3), seed, 64)
            window = data_pipeline.inception_crop_encoded(tf.constant(jpeg), seed, 64)
            difference = np.abs(whole.numpy() - window.numpy())
            # The same box (another would differ everywhere); chroma at its edge differs.
            assert difference.mean() < 0.1 and difference.max() <= 16, (i, s)
    png = tf.io.encode_png(np.arange(48 * 40 * 3, dtype=np.uint8).reshape(48, 40, 3) % 251)
    seed = tf.constant([1, 2], tf.int64)
    np.testing.assert_array_equal(
        data_pipeline.inception_crop(tf.io.decode_png(png, channels=3), seed, 16),
        data_pipeline.inception_crop_encoded(png, seed, 16),
    )


def test_jpeg_files_take_the_window_decode_and_resume_exactly(tmp_path):
    from bit_keras.benchmark.input_speed import photo_jpegs

    paths = []
    for i, jpeg in enumerate(photo_jpegs(12, 60, 80)):
        paths.append(str(tmp_path / f"{i}.jpg"))
        tf.io.write_file(paths[-1], jpeg)
    examples = data.Examples.from_arrays(
        paths,
        np.arange(12) % 2,
        decode=lambda p: tf.io.decode_jpeg(tf.io.read_file(p), 3),
        encoded=tf.io.read_file,
    )
    kwargs = dict(batch_size=4, resize=None, crop=16, num_classes=2, mixup_alpha=0.0, seed=3)
    whole = [x.numpy() for x, _ in data.train_dataset(examples, **kwargs).take(7)]
    resumed = [x.numpy() for x, _ in data.train_dataset(examples, start_step=4, **kwargs).take(3)]
    for a, b in zip(whole[4:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)
    decoded = dataclasses.replace(examples, encoded=None)  # the same crops, decoded whole
    slow = [x.numpy() for x, _ in data.train_dataset(decoded, **kwargs).take(7)]
    assert max(np.abs(a - b).mean() for a, b in zip(whole, slow, strict=True)) < 0.01


def test_a_large_jpeg_is_resized_from_a_reduced_scale_decode_within_the_stated_tolerance():
    from bit_keras.benchmark.input_speed import photographs

    scaled_ones = 0
    for photo in photographs():  # six real photographs, 300x451 to 512x512
        jpeg = tf.io.encode_jpeg(photo, quality=92)
        whole = tf.io.decode_jpeg(jpeg, channels=3)
        shorter = min(photo.shape[:2])
        for size in (160, 200, (shorter + 3) // 2):  # the last: just under twice
            bilinear = tf.image.resize(whole, (size, size)).numpy()
            scaled = data_pipeline.resize_encoded(jpeg, size).numpy()
            if shorter < 2 * size - 1:  # under twice the size: the same decode and pixels
                np.testing.assert_array_equal(scaled, bilinear)
                continue
            scaled_ones += 1  # decoded at 1/2 scale
            antialiased = tf.image.resize(whole, (size, size), antialias=True).numpy()
            # The stated tolerance: a mean of at most 8.5 of 255, no more than the bilinear
            # resize's own distance from an antialiased one (+1), and nearer the antialiased.
            difference = np.abs(scaled - bilinear).mean()
            assert difference <= min(8.5, np.abs(bilinear - antialiased).mean() + 1), size
            assert np.abs(scaled - antialiased).mean() < np.abs(bilinear - antialiased).mean()
    assert scaled_ones == 10  # all but the 300x451 cat, at 160 and 200
    png = tf.io.encode_png(np.arange(48 * 40 * 3, dtype=np.uint8).reshape(48, 40, 3) % 251)
    np.testing.assert_array_equal(
        data_pipeline.resize_encoded(png, 16), tf.image.resize(tf.io.decode_png(png), (16, 16))
    )


def test_fine_tuning_batches_of_jpeg_files_are_those_of_decoded_images_below_twice_the_size(
    tmp_path,
):
    from bit_keras.benchmark.input_speed import photo_jpegs

    paths = []
    for i, jpeg in enumerate(photo_jpegs(8, 60, 80)):
        paths.append(str(tmp_path / f"{i}.jpg"))
        tf.io.write_file(paths[-1], jpeg)
    examples = data.Examples.from_arrays(
        paths, np.arange(8) % 2, decode=read_image, encoded=tf.io.read_file
    )
    kwargs = dict(batch_size=4, crop=24, num_classes=2, mixup_alpha=0.1, seed=3)
    for resize, exact in ((32, True), (30, False)):  # 60 >= 2 * 30 - 1: at 1/2 scale
        fast = [x.numpy() for x, _ in data.train_dataset(examples, resize=resize, **kwargs).take(4)]
        decoded = dataclasses.replace(examples, encoded=None)
        slow = [x.numpy() for x, _ in data.train_dataset(decoded, resize=resize, **kwargs).take(4)]
        for a, b in zip(fast, slow, strict=True):
            assert (a == b).all() if exact else 0 < np.abs(a - b).mean() < 0.1
