import os
import pathlib
import tarfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from bit_keras.export import ExportCheckError, export_hub_saved_model
from bit_keras.export import hub_saved_model as hub_export
from bit_keras.export.serving import model_outputs, output_model
from bit_keras.layers import cached_standardization, is_standardization_cached

hub = pytest.importorskip("tensorflow_hub")  # the `hub` extra, which the test command installs
tf_keras = pytest.importorskip("tf_keras")


@pytest.fixture(scope="module")
def exports(tiny_source, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hub")
    return {
        signature: export_hub_saved_model(
            tiny_source, str(folder / signature), signature=signature, log=lambda _: None
        )
        for signature in ("feature_vector", "classification")
    }


def _expected(source, images, signature):
    return model_outputs(output_model(source.model, signature), tf.constant(images)).numpy()


@pytest.mark.parametrize("signature", ["feature_vector", "classification"])
def test_hub_keras_layer_matches_the_keras_model(exports, tiny_source, images, signature):
    layer = hub.KerasLayer(exports[signature].path, trainable=False)
    model = tf_keras.Sequential([tf_keras.Input(shape=images.shape[1:]), layer])
    expected = _expected(tiny_source, images, signature)
    assert expected.shape == (len(images), 512 if signature == "feature_vector" else 5)
    np.testing.assert_allclose(model(images), expected, atol=1e-5)


def _fine_tune(path, trainable, images, steps=5):
    layer = hub.KerasLayer(path, trainable=trainable)
    model = tf_keras.Sequential(
        [tf_keras.Input(shape=images.shape[1:]), layer, tf_keras.layers.Dense(3)]
    )
    labels = np.arange(len(images)) % 3
    loss_fn = tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf_keras.optimizers.SGD(0.05, momentum=0.9)
    before = [v.numpy().copy() for v in layer.variables]
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        losses.append(float(loss))
    changed = [
        not np.array_equal(b, v.numpy()) for b, v in zip(before, layer.variables, strict=True)
    ]
    return losses, changed, layer


def test_fine_tuning_through_hub_keras_layer(exports, images):
    losses, changed, layer = _fine_tune(exports["feature_vector"].path, True, images)
    assert len(layer.trainable_weights) == len(layer.variables) > 10
    assert all(changed), "every backbone variable should move"
    assert losses[-1] < losses[0], losses


def test_frozen_hub_keras_layer_leaves_the_backbone_unchanged(exports, images):
    _, changed, layer = _fine_tune(exports["feature_vector"].path, False, images)
    assert not layer.trainable_weights
    assert not any(changed)


def test_hub_load_and_serving_signature_agree(exports, tiny_source, images):
    path = exports["classification"].path
    expected = _expected(tiny_source, images, "classification")
    np.testing.assert_allclose(hub.load(path)(images, training=False), expected, atol=1e-5)
    serving = tf.saved_model.load(path).signatures["serving_default"]
    assert list(serving.structured_outputs) == ["logits"]
    np.testing.assert_allclose(serving(images=tf.constant(images))["logits"], expected, atol=1e-5)


def test_keras3_tfsm_layer_loads_it(exports, tiny_source, images):
    path = exports["feature_vector"].path
    expected = _expected(tiny_source, images, "feature_vector")
    default = keras.layers.TFSMLayer(path)  # the `serve` endpoint
    np.testing.assert_allclose(default(images), expected, atol=1e-5)
    signature = keras.layers.TFSMLayer(path, call_endpoint="serving_default")
    np.testing.assert_allclose(signature(images)["feature_vector"], expected, atol=1e-5)


def test_bytes_signature_classifies_a_png_as_the_float_path(exports, tiny_source, tmp_path):
    from bit_keras.data import image_io

    picture = (np.random.default_rng(1).uniform(0, 255, (48, 40, 3))).astype(np.uint8)
    png = tf.io.encode_png(picture).numpy()
    (tmp_path / "x.png").write_bytes(png)
    floats = image_io.load_image(tmp_path / "x.png", 32)[None] / 255.0
    loaded = tf.saved_model.load(exports["classification"].path)
    from_bytes = loaded.signatures["serving_bytes"](image_bytes=tf.constant([png, png]))["logits"]
    from_floats = loaded.signatures["serving_default"](images=tf.constant(floats))["logits"]
    np.testing.assert_allclose(from_bytes[0], from_floats[0], atol=1e-5)
    np.testing.assert_allclose(from_bytes[1], from_floats[0], atol=1e-5)
    assert int(np.argmax(from_bytes[0])) == int(
        np.argmax(_expected(tiny_source, floats, "classification"))
    )


# What the exported model says (TensorFlow's words; each names the shape or type it takes).
_SHAPE_ERROR = (
    r"(not compatible with expected shape \[\?,\?,\?,3\]"
    r"|Can not cast TensorSpec.* to TensorSpec\(shape=\(None, None, None, 3\))"
)
_DTYPE_ERROR = r"(expected to be a float tensor but is a uint8 tensor|dtype=tf.uint8)"


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((1, 32, 32, 4), np.float32), _SHAPE_ERROR),
        (np.zeros((32, 32, 3), np.float32), _SHAPE_ERROR),
        (np.zeros((1, 32, 32, 3), np.uint8), _DTYPE_ERROR),
    ],
    ids=["channels", "rank", "dtype"],
)
def test_bad_input_is_a_clear_error(exports, bad, message):
    loaded = tf.saved_model.load(exports["classification"].path)
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError), match=message):
        loaded.signatures["serving_default"](images=tf.constant(bad))
    with pytest.raises(
        ValueError, match=r"TensorSpec\(shape=\(None, None, None, 3\), dtype=tf.float32"
    ):
        loaded(tf.constant(bad), training=False)


def test_bundle_and_model_card(exports):
    export = exports["classification"]
    with tarfile.open(export.bundle) as tar:
        names = set(tar.getnames())
    assert {"saved_model.pb", "variables/variables.index", "assets/labels.txt"} <= names
    card = pathlib.Path(export.card).read_text()
    for needed in (
        "hub.KerasLayer",
        "trainable=True",
        "keras.layers.TFSMLayer",
        "32 x",
        "[0, 1]",
        "@inproceedings{kolesnikov2020bit",
        "Apache-2.0",
        "serving_bytes",
    ):
        assert needed in card, needed
    labels = (pathlib.Path(export.path) / "assets" / "labels.txt").read_text().split()
    assert labels == [f"class_{i}" for i in range(5)]


def test_an_existing_target_is_kept_unless_overwrite(tiny_source, tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        export_hub_saved_model(tiny_source, str(target), log=lambda _: None)
    assert (target / "keep.txt").read_text() == "mine"
    export_hub_saved_model(tiny_source, str(target), overwrite=True, bundle=False, log=print)
    assert (target / "saved_model.pb").is_file() and not (target / "keep.txt").exists()
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_an_interrupted_or_failed_export_leaves_nothing(tiny_source, tmp_path, monkeypatch):
    def interrupt(message):
        if message.startswith("Checking"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_hub_saved_model(tiny_source, str(tmp_path / "a"), log=interrupt)

    def wrong(*args):
        raise ExportCheckError("restored outputs differ")

    monkeypatch.setattr(hub_export, "check_saved_model", wrong)
    with pytest.raises(ExportCheckError):
        export_hub_saved_model(tiny_source, str(tmp_path / "b"), log=lambda _: None)
    assert os.listdir(tmp_path) == []


def test_refuses_to_export_inside_cached_standardization(tiny_source, tmp_path):
    with cached_standardization(tiny_source.model):
        assert is_standardization_cached(tiny_source.model)
        with pytest.raises(ValueError, match="'tiny_bit' outside cached_standardization"):
            export_hub_saved_model(tiny_source, str(tmp_path / "model"), log=lambda _: None)
    assert not is_standardization_cached(tiny_source.model)
    assert os.listdir(tmp_path) == []
