"""What bit-fewshot and bit-embed --query do, as library calls: `evaluate_fewshot` and
`nearest_images`."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import bit_keras
from bit_keras import data
from bit_keras.features import (
    Embedder,
    Embeddings,
    evaluate_fewshot,
    nearest_images,
)
from bit_keras.features.fewshot import fewshot_accuracy
from bit_test_utils import OFFICIAL_CKPT


@pytest.fixture(scope="module")
def model():
    return bit_keras.model_from_checkpoint(str(OFFICIAL_CKPT))


def test_evaluate_fewshot_is_the_solver_on_the_models_features(model):
    source = data.digits_source()
    lines = []
    results = evaluate_fewshot(
        model, source, resolution=16, shots=(1, 5), seeds=2, batch_size=128, out=lines.append
    )
    embedder = Embedder(model)
    train = embedder.features_of(source, "train", resolution=16, batch_size=64)
    test = embedder.features_of(source, "test", resolution=16, batch_size=64)
    expected = fewshot_accuracy(*train, *test, shots=(1, 5), seeds=2)
    for k in (1, 5):
        np.testing.assert_allclose(results[k]["seeds"], expected[k]["seeds"], atol=1e-9)
    assert lines[0] == "Computing the pre_logits (2048 features) of digits's train split ..."
    for change, words in (({"labelled": False}, "unlabelled"), ({"multi_label": True}, "multi")):
        with pytest.raises(ValueError, match=f"needs one class per image; digits is {words}"):
            evaluate_fewshot(model, dataclasses.replace(source, **change), resolution=16)


def test_nearest_images_finds_the_query_itself_first(model, tmp_path):
    rng = np.random.default_rng(28)
    images = rng.integers(0, 256, (6, 20, 20, 3), dtype=np.uint8)
    dataset = tf.data.Dataset.from_tensor_slices((images, np.arange(6, dtype=np.int64)))
    embedder = Embedder(model, "P4")
    ((vectors, labels),) = embedder.embed(dataset, resolution=16, batch_size=8)
    file = Embeddings(
        vectors,
        labels,
        None,
        np.asarray(["test"] * 6),
        tuple(f"c{i}" for i in range(6)),
        {"model": str(OFFICIAL_CKPT), "features": "P4", "resolution": 16},
    )
    found = nearest_images(file, images[4], model, top_k=3)
    assert found[0].index == 4 and found[0].similarity > 0.9999
    assert found[0].description == "test #4 (label c4)"
    assert len(found) == 3 and found[0].similarity >= found[1].similarity >= found[2].similarity
    # The same query from a file, and a file that is no image.
    path = tmp_path / "query.png"
    path.write_bytes(tf.io.encode_png(images[4]).numpy())
    assert [n.index for n in nearest_images(file, path, model, top_k=3)] == [n.index for n in found]
    (tmp_path / "note.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"note\.png' is not a readable JPEG, PNG"):
        nearest_images(file, tmp_path / "note.png", model)
    other = Embeddings(vectors[:, :5], labels, None, file.split, file.class_names, file.info)
    with pytest.raises(ValueError, match="P4 have 1024 features; the file's embeddings have 5"):
        nearest_images(other, images[4], model)
