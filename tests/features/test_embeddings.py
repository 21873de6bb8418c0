"""Embeddings of a data set: the model's own pre-logits, the file's contents, shards and resume,
and the checks of --output."""

import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

import bit_keras
from bit_keras import data
from bit_keras.features import (
    Embedder,
    EmbeddingInterrupted,
    EmbeddingJob,
    embedding_model,
    read_embeddings,
    write_embeddings,
)
from bit_keras.features.embedding_shards import check_output, parts_folder
from bit_keras.features.embeddings_file import nearest

RESOLUTION = 16


@pytest.fixture(scope="module")
def bit():
    keras.utils.set_random_seed(3)
    return bit_keras.create_model("R14x1", weights=None, input_shape=(None, None, 3), classes=10)


@pytest.fixture(scope="module")
def digits():
    return data.digits_source()


def _job(**overrides):
    values = dict(model="R14x1", dataset="digits", resolution=RESOLUTION, batch_size=64)
    return EmbeddingJob(**{**values, **overrides})


def _test_images(source):
    images = np.stack([x for x, _ in source.test().as_numpy_iterator()]).astype("float32")
    return bit_keras.preprocess_input(
        keras.ops.convert_to_numpy(keras.ops.image.resize(images, (RESOLUTION, RESOLUTION)))
    )


def test_embeddings_are_the_models_pre_logits(bit, digits):
    embedder = Embedder(bit)
    embeddings, labels = embedder.features_of(digits, "test", resolution=RESOLUTION, batch_size=50)
    pre_logits = keras.Model(bit.input, bit.get_layer("avg_pool").output)
    expected = pre_logits.predict(_test_images(digits), verbose=0)
    assert embeddings.shape == (digits.test_size, 2048) == expected.shape
    np.testing.assert_allclose(embeddings, expected, atol=1e-4)
    np.testing.assert_array_equal(labels, [y for _, y in digits.test().as_numpy_iterator()])
    # The head applied to them gives the model's logits.
    head = bit.get_layer("head")
    np.testing.assert_allclose(
        head(embeddings), bit.predict(_test_images(digits), verbose=0), atol=1e-4
    )


def test_pooled_feature_maps(bit, digits):
    images = _test_images(digits)[:8]
    maps = bit_keras.feature_maps(bit)(images)
    for level, width in (("P2", 256), ("P3", 512), ("P4", 1024)):
        pooled = embedding_model(bit, level)(images)
        assert pooled.shape == (8, width)
        np.testing.assert_allclose(pooled, np.mean(maps[level], axis=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(
        embedding_model(bit, "P5")(images), embedding_model(bit, "pre_logits")(images), atol=0
    )
    with pytest.raises(ValueError, match="`features` must be one of"):
        embedding_model(bit, "P6")


def test_the_file_holds_labels_splits_and_how_it_was_made(bit, digits, tmp_path):
    output = str(tmp_path / "digits.npz")
    job = _job(dtype="float16", shard_size=500)
    lines = []
    written = write_embeddings(output, job, Embedder(bit), digits, out=lines.append)
    found = read_embeddings(output)
    n = digits.train_size + digits.test_size
    assert found.embeddings.shape == (n, 2048) and found.embeddings.dtype == np.float16
    np.testing.assert_array_equal(found.embeddings, written.embeddings)
    labels = [y for _, y in digits.train().as_numpy_iterator()] + [
        y for _, y in digits.test().as_numpy_iterator()
    ]
    np.testing.assert_array_equal(found.labels, labels)
    assert list(found.split) == ["train"] * digits.train_size + ["test"] * digits.test_size
    assert found.paths is None
    assert found.class_names == tuple(str(d) for d in range(10))
    assert found.info["features"] == "pre_logits" and found.info["resolution"] == RESOLUTION
    assert found.info["num_classes"] == 10
    assert not os.path.exists(parts_folder(output))  # the shards are gone
    assert sum(line.startswith("Wrote shard") for line in lines) == 4
    assert lines[-1] == f"Wrote {n:,} embeddings of 2048 features (float16) to {output}"
    assert found.describe(0) == f"train #0 (label {labels[0]})"


def _image_folder(path, count=12):
    path.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, (20 + i, 24, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path / f"{i:02d}.png")
    return path


def test_an_unlabelled_folder_has_paths_and_no_labels(bit, tmp_path):
    folder = _image_folder(tmp_path / "photos")
    source = data.load_source(f"folder:{folder}", unlabelled=True, out=lambda line: None)
    assert not source.labelled and source.num_classes == 0
    output = str(tmp_path / "photos.npz")
    write_embeddings(output, _job(dataset=f"folder:{folder}"), Embedder(bit), source, out=print)
    found = read_embeddings(output)
    assert found.labels is None
    assert sorted(found.paths) == sorted(str(p) for p in folder.iterdir())
    # Each file's embedding is the one of that file: the query finds itself.
    index = list(found.paths).index(str(folder / "07.png"))
    indices, similarity = nearest(found.embeddings, found.embeddings[index], 3)
    assert indices[0] == index and similarity[0] == pytest.approx(1.0, abs=1e-6)
    assert found.describe(index) == str(folder / "07.png")
    # Without `unlabelled`, training's rule holds: class sub-folders are needed.
    with pytest.raises(ValueError, match="needs one sub-folder per class"):
        data.load_source(f"folder:{folder}", out=lambda line: None)


class _StopAfter:
    """An `out` that raises KeyboardInterrupt (as Ctrl-C would) after a shard is written."""

    def __init__(self, shards):
        self.shards, self.lines = shards, []

    def __call__(self, line):
        self.lines.append(line)
        if line.startswith(f"Wrote shard {self.shards}/"):
            raise KeyboardInterrupt


def test_an_interrupted_run_resumes_after_its_last_shard(bit, digits, tmp_path):
    job = _job(shard_size=400, batch_size=96)
    whole = write_embeddings(str(tmp_path / "whole.npz"), job, Embedder(bit), digits, out=print)

    output = str(tmp_path / "resumed.npz")
    stop = _StopAfter(2)
    with pytest.raises(EmbeddingInterrupted) as interrupted:
        write_embeddings(output, job, Embedder(bit), digits, out=stop)
    assert "2 of 5 shard(s) (800 images) are kept" in str(interrupted.value)
    assert "run the same command again to resume" in str(interrupted.value)
    assert not os.path.exists(output)
    assert sorted(os.listdir(parts_folder(output))) == [
        "job.json",
        "shard-00000-of-00005.npz",
        "shard-00001-of-00005.npz",
    ]
    lines = []
    write_embeddings(output, job, Embedder(bit), digits, out=lines.append)
    assert lines[0] == f"Resuming: 2 of 5 shard(s) (800 images) in {parts_folder(output)} are kept."
    assert next(line for line in lines if line.startswith("Wrote shard")).startswith(
        "Wrote shard 3/5"
    )
    resumed = read_embeddings(output)
    np.testing.assert_array_equal(resumed.embeddings, whole.embeddings)
    np.testing.assert_array_equal(resumed.labels, whole.labels)


def test_the_source_starts_anywhere_without_reading_what_comes_before(tmp_path):
    digits = data.digits_source()
    whole = [x for x, _ in digits.train().as_numpy_iterator()]
    np.testing.assert_array_equal(next(iter(digits.train(500)))[0], whole[500])
    folder = _image_folder(tmp_path / "photos")
    source = data.load_source(f"folder:{folder}", unlabelled=True, out=lambda line: None)
    first = source.train_files[3]
    np.testing.assert_array_equal(
        next(iter(source.train(3)))[0], np.asarray(Image.open(first).convert("RGB"))
    )


def test_output_is_checked_before_any_work(tmp_path):
    job = _job()
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        check_output(str(tmp_path / "e.csv"), job)
    with pytest.raises(ValueError, match="does not exist"):
        check_output(str(tmp_path / "no" / "e.npz"), job)
    (tmp_path / "e.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="exists; pass --overwrite"):
        check_output(str(tmp_path / "e.npz"), job)
    check_output(str(tmp_path / "e.npz"), job, overwrite=True)
    parts = tmp_path / "f.npz.parts"
    parts.mkdir()
    (parts / "job.json").write_text(json.dumps({**job.__dict__, "features": "P3"}))
    with pytest.raises(ValueError, match="features: 'P3' then, 'pre_logits' now"):
        check_output(str(tmp_path / "f.npz"), job)
    check_output(str(tmp_path / "f.npz"), _job(features="P3"))  # the same job: a resume


def test_read_embeddings_names_a_wrong_file(tmp_path):
    with pytest.raises(ValueError, match="No embeddings file"):
        read_embeddings(tmp_path / "none.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="lacks embeddings, split, info"):
        read_embeddings(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        read_embeddings(tmp_path / "junk.npz")


def test_nearest_orders_by_cosine_similarity():
    rows = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [-1.0, 0.0]])
    indices, similarity = nearest(rows, np.array([2.0, 0.0]), 3)
    np.testing.assert_array_equal(indices, [0, 2, 1])
    np.testing.assert_allclose(similarity, [1.0, np.sqrt(0.5), 0.0], atol=1e-6)
    with pytest.raises(ValueError, match="The query has 3 features"):
        nearest(rows, np.zeros(3), 1)
