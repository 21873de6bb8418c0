import os

import keras
import numpy as np
import pytest

from bit_keras.checkpoint import load_weights
from bit_keras.models.bit_resnet_v2 import BiTResNetV2
from bit_keras.pretrained.convert import convert_checkpoint
from bit_test_utils import FIXTURE_BLOCK_UNITS, FIXTURE_CLASSES, PARITY_ATOL


def test_to_keras_file(official_ckpt, reference_io, tmp_path):
    output = tmp_path / "bit.keras"
    convert_checkpoint(official_ckpt, output)
    model = keras.saving.load_model(output)
    np.testing.assert_allclose(
        model.predict(reference_io["x65x47"], verbose=0),
        reference_io["x65x47_logits"],
        atol=PARITY_ATOL,
    )
    assert os.listdir(tmp_path) == ["bit.keras"]  # no temporary file left behind


def test_to_weights_file(official_ckpt, official_model, tmp_path):
    output = tmp_path / "bit.weights.h5"
    convert_checkpoint(official_ckpt, output)
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, classes=FIXTURE_CLASSES)
    load_weights(model, output)
    for mine, theirs in zip(model.weights, official_model.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_keeps_existing_output(official_ckpt, tmp_path):
    output = tmp_path / "bit.keras"
    output.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite"):
        convert_checkpoint(official_ckpt, output)
    assert output.read_bytes() == b"precious"
    convert_checkpoint(official_ckpt, output, overwrite=True)
    assert keras.saving.load_model(output).count_params() == 8_028_746


def test_failed_conversion_writes_nothing(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    output = tmp_path / "bit.keras"
    output.write_bytes(b"precious")
    with pytest.raises(ValueError):
        convert_checkpoint(bad, output, overwrite=True)
    assert output.read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["bad.npz", "bit.keras"]


@pytest.mark.parametrize("name", ["bit.h5", "bit.npy", "bit"])
def test_output_suffix(official_ckpt, tmp_path, name):
    with pytest.raises(ValueError, match=r"\.keras, \.weights\.h5 or \.npz"):
        convert_checkpoint(official_ckpt, tmp_path / name)


def test_unknown_source(tmp_path):
    with pytest.raises(ValueError, match="neither a published BiT model"):
        convert_checkpoint("BiT-Q-R50x1", tmp_path / "x.keras")


def test_a_trained_keras_model_to_the_official_npz_and_back(
    official_ckpt, official_arrays, tmp_path
):
    convert_checkpoint(official_ckpt, tmp_path / "bit.keras")
    convert_checkpoint(tmp_path / "bit.keras", tmp_path / "bit.npz")
    written = np.load(tmp_path / "bit.npz")
    assert written.files == list(official_arrays)
    for key, array in official_arrays.items():
        np.testing.assert_array_equal(written[key], array)
    convert_checkpoint(tmp_path / "bit.keras", tmp_path / "body.npz", include_top=False)
    assert "resnet/head/conv2d/kernel" not in np.load(tmp_path / "body.npz").files


def test_weights_h5_needs_its_architecture(official_ckpt, official_arrays, tmp_path):
    convert_checkpoint(official_ckpt, tmp_path / "bit.weights.h5")
    with pytest.raises(ValueError, match="does not say its architecture"):
        convert_checkpoint(tmp_path / "bit.weights.h5", tmp_path / "bit.npz")
    convert_checkpoint(tmp_path / "bit.weights.h5", tmp_path / "bit.npz", model="R14x1")
    written = np.load(tmp_path / "bit.npz")
    for key, array in official_arrays.items():
        np.testing.assert_array_equal(written[key], array)
