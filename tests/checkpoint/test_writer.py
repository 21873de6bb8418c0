"""Writing the official `.npz` layout: round trip, the published keys and shapes, refusals."""

import os
import zipfile

import keras
import numpy as np
import pytest

import bit_keras
from bit_keras import CheckpointError
from bit_keras.checkpoint import infer_architecture, layout, save_official_weights
from bit_keras.checkpoint.npz_file import read_npz, write_npz
from bit_keras.models import ARCHITECTURES
from bit_keras.models.bit_resnet_v2 import BiTResNetV2
from bit_test_utils import FIXTURE_BLOCK_UNITS, PARITY_ATOL


def test_round_trip_of_the_official_fixture_is_exact(official_model, official_arrays, tmp_path):
    path = tmp_path / "written.npz"
    shapes = save_official_weights(official_model, path)
    written = read_npz(path)
    assert list(written) == list(official_arrays)  # the published keys, in their order
    assert shapes == {key: array.shape for key, array in official_arrays.items()}
    for key, array in official_arrays.items():
        assert written[key].dtype == np.float32
        np.testing.assert_array_equal(written[key], array)  # difference 0
    # Stored as the published files are: uncompressed members named KEY.npy.
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    assert [m.filename for m in members] == [f"{key}.npy" for key in official_arrays]
    assert {m.compress_type for m in members} == {zipfile.ZIP_STORED}
    assert os.listdir(tmp_path) == ["written.npz"]


def test_a_written_file_gives_the_official_outputs(official_model, reference_io, tmp_path):
    save_official_weights(official_model, tmp_path / "bit.npz")
    model = bit_keras.model_from_checkpoint(tmp_path / "bit.npz")
    for name in ("x64", "x65x47"):
        np.testing.assert_allclose(
            model(reference_io[name]), reference_io[f"{name}_logits"], atol=PARITY_ATOL
        )
        np.testing.assert_array_equal(model(reference_io[name]), official_model(reference_io[name]))


def test_a_headless_model_writes_a_headless_file(tmp_path):
    keras.utils.set_random_seed(1)
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, include_top=False, input_shape=(32, 32, 3))
    save_official_weights(model, tmp_path / "body.npz")
    written = read_npz(tmp_path / "body.npz")
    assert not set(layout.HEAD_KEYS) & set(written)
    assert infer_architecture({k: a.shape for k, a in written.items()}).classes is None
    with_head = bit_keras.create_model("R14x1", weights=str(tmp_path / "body.npz"), classes=4)
    arrays = layout.official_arrays(with_head)
    assert not arrays[layout.HEAD_KERNEL].any()
    np.testing.assert_array_equal(arrays[layout.ROOT_KERNEL], written[layout.ROOT_KERNEL])


@pytest.mark.parametrize(("block_units", "width"), [((2, 1, 12, 1), 1), ((1, 2, 1, 1), 2)])
def test_key_set_and_shapes_are_those_the_loader_expects(block_units, width, tmp_path):
    model = BiTResNetV2(block_units, width, classes=7, input_shape=(32, 32, 3))
    save_official_weights(model, tmp_path / "m.npz")
    written = read_npz(tmp_path / "m.npz")
    arch = infer_architecture({k: a.shape for k, a in written.items()})
    assert (arch.block_units, arch.width_factor, arch.classes) == (block_units, width, 7)
    fresh = BiTResNetV2(block_units, width, classes=7)
    expected = {
        key: layout.checkpoint_shape(key, tuple(v.shape))
        for key, v in layout.official_variables(fresh).items()
    }
    assert {key: a.shape for key, a in written.items()} == expected


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_published_architecture_writes_the_published_keys_and_shapes(name, tmp_path):
    arch = ARCHITECTURES[name]
    model = BiTResNetV2(arch.block_units, arch.width_factor, classes=1000)
    path = tmp_path / f"{name}.npz"
    shapes = save_official_weights(model, path)
    expected = {
        key: layout.checkpoint_shape(key, tuple(v.shape))
        for key, v in layout.official_variables(model).items()
    }
    assert shapes == expected
    with np.load(path, mmap_mode="r") as written:  # headers only: shapes, not the values
        assert {key: written[key].shape for key in written.files} == expected
    found = infer_architecture(shapes)
    assert (found.block_units, found.width_factor, found.classes) == (
        arch.block_units,
        arch.width_factor,
        1000,
    )
    assert sum(int(np.prod(s)) for s in shapes.values()) == model.count_params()
    del model
    keras.backend.clear_session()


def test_refuses_what_has_no_place_in_the_layout_and_writes_nothing(tmp_path):
    body = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, classes=3, input_shape=(32, 32, 3))
    extra = keras.layers.Dense(2, name="extra")(body.output)
    model = keras.Model(body.input, extra)
    path = tmp_path / "m.npz"
    path.write_bytes(b"precious")
    with pytest.raises(CheckpointError, match="extra") as error:
        save_official_weights(model, path)
    assert "no place for" in str(error.value)
    assert path.read_bytes() == b"precious"
    with pytest.raises(CheckpointError, match="non-finite"):
        write_npz(path, {"resnet/x": np.array([1.0, np.nan], np.float32)})
    with pytest.raises(CheckpointError, match="float32"):
        write_npz(path, {"resnet/x": np.zeros(3, np.float64)})
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        write_npz(tmp_path / "m.npy", {"resnet/x": np.zeros(3, np.float32)})
    assert path.read_bytes() == b"precious" and sorted(os.listdir(tmp_path)) == ["m.npz"]
    with pytest.raises(ValueError, match="not a BiT ResNet-v2 built by bit_keras"):
        save_official_weights(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]), path)
