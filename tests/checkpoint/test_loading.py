"""Parity with the official implementation, and every way a checkpoint can be wrong."""

import logging

import numpy as np
import pytest

import bit_keras
from bit_keras import CheckpointError
from bit_keras.checkpoint import layout, load_official_weights, load_weights, npz_file
from bit_keras.models.bit_resnet_v2 import BiTResNetV2
from bit_test_utils import FIXTURE_BLOCK_UNITS, FIXTURE_CLASSES, PARITY_ATOL

ROOT = layout.ROOT_KERNEL
UNIT_CONV = "resnet/block2/unit01/b/standardized_conv2d/kernel"


@pytest.mark.parametrize("key", ["x64", "x65x47"])
def test_logits_match_official(official_model, reference_io, key):
    logits = official_model.predict(reference_io[key], verbose=0)
    np.testing.assert_allclose(logits, reference_io[f"{key}_logits"], atol=PARITY_ATOL, rtol=0)


@pytest.mark.parametrize("key", ["x64", "x65x47"])
def test_prelogits_match_official(official_ckpt, reference_io, key):
    model = bit_keras.model_from_checkpoint(official_ckpt, include_top=False, pooling="avg")
    prelogits = model.predict(reference_io[key], verbose=0)
    np.testing.assert_allclose(
        prelogits, reference_io[f"{key}_prelogits"], atol=PARITY_ATOL, rtol=0
    )


def test_load_weights_reads_an_npz_into_a_built_model(official_ckpt, reference_io):
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, classes=FIXTURE_CLASSES)
    loaded = load_weights(model, official_ckpt)
    assert loaded.head_loaded
    np.testing.assert_allclose(
        model.predict(reference_io["x64"], verbose=0), reference_io["x64_logits"], atol=PARITY_ATOL
    )


def test_load_weights_names_a_file_it_cannot_read(tmp_path):
    path = tmp_path / "weights.txt"
    path.write_bytes(b"x")
    with pytest.raises(ValueError, match=r"\.npz"):
        load_weights(BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, classes=FIXTURE_CLASSES), path)


def test_other_class_count_gets_zero_head(official_ckpt, reference_io, caplog):
    with caplog.at_level(logging.INFO, logger="bit_keras"):
        model = bit_keras.model_from_checkpoint(official_ckpt, classes=3)
    assert "head has 10 classes and the model's 3" in caplog.text
    head = model.get_layer("head")
    assert head.kernel.shape == (2048, 3)
    assert not np.any(head.kernel.numpy()) and not np.any(head.bias.numpy())
    # The backbone is loaded all the same.
    features = bit_keras.model_from_checkpoint(official_ckpt, include_top=False, pooling="avg")
    model.get_layer("head").kernel.assign(np.eye(2048, 3, dtype="float32"))
    np.testing.assert_allclose(
        model.predict(reference_io["x64"], verbose=0),
        features.predict(reference_io["x64"], verbose=0)[:, :3],
        atol=1e-6,
    )


def test_headless_model_ignores_head(official_ckpt, caplog):
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, include_top=False)
    with caplog.at_level(logging.INFO, logger="bit_keras"):
        load_official_weights(model, official_ckpt)
    assert "no top" in caplog.text


def test_checkpoint_without_head(official_arrays, tmp_path, caplog):
    arrays = {k: v for k, v in official_arrays.items() if k not in layout.HEAD_KEYS}
    np.savez(tmp_path / "headless.npz", **arrays)
    with pytest.raises(ValueError, match="no head"):
        bit_keras.model_from_checkpoint(tmp_path / "headless.npz")
    with caplog.at_level(logging.INFO, logger="bit_keras"):
        model = bit_keras.model_from_checkpoint(tmp_path / "headless.npz", classes=4)
    assert "new zero-initialised 4-class head" in caplog.text
    assert not np.any(model.get_layer("head").kernel.numpy())


def _model():
    return BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, classes=FIXTURE_CLASSES)


def _broken(official_arrays, tmp_path, change):
    arrays = dict(official_arrays)
    change(arrays)
    np.savez(tmp_path / "broken.npz", **arrays)
    return tmp_path / "broken.npz"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda a: a.pop(UNIT_CONV),
            f"missing key '{UNIT_CONV}' \\(expected shape \\(3, 3, 128, 128\\)",
        ),
        (
            lambda a: a.update({"resnet/block5/extra": np.zeros(3, "float32")}),
            "unexpected key 'resnet/block5/extra' \\(shape \\(3,\\)\\)",
        ),
        (
            lambda a: a.update({UNIT_CONV: np.zeros((3, 3, 128, 64), "float32")}),
            f"'{UNIT_CONV}': expected shape \\(3, 3, 128, 128\\), found \\(3, 3, 128, 64\\)",
        ),
        (
            lambda a: a.update({ROOT: a[ROOT].astype("float64")}),
            f"'{ROOT}': expected dtype float32, found float64",
        ),
        (
            lambda a: a.update({layout.HEAD_BIAS: np.zeros(7, "float32")}),
            "'resnet/head/conv2d/bias': expected shape \\(10,\\), found \\(7,\\)",
        ),
        (lambda a: a.pop(layout.HEAD_BIAS), "only half a head"),
    ],
    ids=["missing", "unexpected", "shape", "dtype", "head-shape", "half-head"],
)
def test_strict_errors_name_key_expected_and_found(official_arrays, tmp_path, change, message):
    path = _broken(official_arrays, tmp_path, change)
    model = _model()
    before = [w.numpy() for w in model.weights]
    with pytest.raises(CheckpointError, match=message) as error:
        load_official_weights(model, path)
    assert "Nothing was loaded" in str(error.value)
    # All or nothing: not one variable was written.
    for variable, value in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)
    # Built from the file, no model is handed back at all.
    with pytest.raises(CheckpointError):
        bit_keras.model_from_checkpoint(path)


def test_all_problems_are_listed(official_arrays, tmp_path):
    def change(arrays):
        arrays.pop(UNIT_CONV)
        arrays[ROOT] = arrays[ROOT][..., :32]

    with pytest.raises(CheckpointError, match="2 problem") as error:
        load_official_weights(_model(), _broken(official_arrays, tmp_path, change))
    assert UNIT_CONV in str(error.value) and ROOT in str(error.value)


def test_non_strict_loads_what_fits(official_arrays, tmp_path, caplog):
    path = _broken(official_arrays, tmp_path, lambda a: a.pop(UNIT_CONV))
    model = _model()
    with caplog.at_level(logging.WARNING, logger="bit_keras"):
        load_official_weights(model, path, strict=False)
    assert UNIT_CONV in caplog.text
    np.testing.assert_array_equal(
        model.get_layer("root_conv").kernel.numpy(), official_arrays[ROOT]
    )


def test_object_array_is_refused_without_unpickling(official_arrays, tmp_path):
    arrays = dict(official_arrays)
    arrays[ROOT] = np.array([{"evil": 1}], dtype=object)
    np.savez(tmp_path / "pickled.npz", **arrays)
    with pytest.raises(CheckpointError, match=f"Array '{ROOT}'.*Python objects"):
        load_official_weights(_model(), tmp_path / "pickled.npz")


def test_truncated_file(official_ckpt, tmp_path):
    data = official_ckpt.read_bytes()
    path = tmp_path / "truncated.npz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_official_weights(_model(), path)


def test_corrupt_member(official_ckpt, tmp_path):
    # Flip bytes inside the data of the first array: the zip directory is intact, the CRC not.
    data = bytearray(official_ckpt.read_bytes())
    data[2000:2016] = bytes(16)
    path = tmp_path / "corrupt.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_official_weights(_model(), path)


@pytest.mark.parametrize(
    "content", [b"not a checkpoint at all", b"PK\x03\x04garbage"], ids=["text", "bad-zip"]
)
def test_not_an_npz_file(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"not a readable \.npz") as caught:
        load_official_weights(_model(), path)
    assert "allow_pickle" not in str(caught.value)  # numpy's advice, wrong for a checkpoint


def test_npy_file(tmp_path):
    np.save(tmp_path / "array.npy", np.zeros(3, "float32"))
    with pytest.raises(CheckpointError, match=r"single \.npy array"):
        npz_file.read_npz(tmp_path / "array.npy")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.npz"):
        load_official_weights(_model(), tmp_path / "nothing.npz")
