"""timm's BiT layout (model.safetensors, the Hugging Face Hub's timm/resnetv2_*_bit), read
strictly; and the numbered `standardized_conv2d_N` keys of some published `.npz` files."""

import re

import numpy as np
import pytest

import bit_keras
from bit_keras import CheckpointError
from bit_keras.checkpoint import layout
from bit_keras.checkpoint.npz_file import read_npz
from bit_test_utils import FIXTURES, PARITY_ATOL, TIMM_FOLDER, TIMM_IO


def _tensors():
    from safetensors.numpy import load_file

    return load_file(TIMM_FOLDER / "model.safetensors")


def _save(tmp_path, tensors, name="model.safetensors"):
    from safetensors.numpy import save_file

    path = tmp_path / name
    save_file(tensors, str(path))
    return path


@pytest.mark.parametrize("source", ["folder", "file"])
def test_timms_fixture_gives_timms_outputs(source):
    path = TIMM_FOLDER if source == "folder" else TIMM_FOLDER / "model.safetensors"
    model = bit_keras.model_from_checkpoint(path)
    assert model.name == "bit_r14x1_head10_timm_hf" and model.output_shape == (None, 10)
    backbone = bit_keras.model_from_checkpoint(path, include_top=False, pooling="avg")
    with np.load(TIMM_IO) as reference:
        for name in ("x64", "x65x47"):
            logits = np.asarray(model(reference[name]))
            np.testing.assert_allclose(logits, reference[f"{name}_logits"], atol=PARITY_ATOL)
            np.testing.assert_allclose(
                backbone(reference[name]), reference[f"{name}_prelogits"], atol=PARITY_ATOL
            )
            gap = np.abs(logits - reference[f"{name}_logits"]).max()
            print(f"{name}: max |logits - timm's| = {gap:.2e}")


def test_the_key_mapping_is_one_to_one_and_kernels_are_transposed(official_arrays):
    tensors = _tensors()
    arrays = layout.from_timm(tensors)
    assert set(arrays) == set(official_arrays)  # every timm tensor has its official key
    for key, array in arrays.items():
        assert array.shape == official_arrays[key].shape, key
    assert tensors["stem.conv.weight"].shape == (64, 3, 7, 7)
    np.testing.assert_array_equal(
        arrays[layout.ROOT_KERNEL], tensors["stem.conv.weight"].transpose(2, 3, 1, 0)
    )
    back = layout.to_timm(arrays)
    assert set(back) == set(tensors)
    for key, tensor in tensors.items():
        np.testing.assert_array_equal(back[key], tensor)
    assert layout.official_key_of_timm("stages.2.blocks.0.downsample.conv.weight") == (
        "resnet/block3/unit01/a/proj/standardized_conv2d/kernel"
    )
    assert layout.official_key_of_timm("stages.0.blocks.0.conv2.bias") is None


def test_a_bad_state_dict_is_named_tensor_by_tensor_and_nothing_loads(tmp_path):
    tensors = _tensors()
    del tensors["stages.1.blocks.0.conv2.weight"]
    tensors["stages.3.blocks.0.norm1.weight"] = np.zeros(7, np.float32)
    path = _save(tmp_path, tensors)
    with pytest.raises(CheckpointError) as error:
        bit_keras.create_model("R14x1", weights=str(path), classes=10)
    message = str(error.value)
    assert "missing key 'resnet/block2/unit01/b/standardized_conv2d/kernel'" in message
    assert (
        "'resnet/block4/unit01/a/group_norm/gamma': expected shape (1024,), found (7,)" in message
    )
    tensors = _tensors()
    tensors["fc.weight"] = np.zeros((3, 3), np.float32)
    with pytest.raises(CheckpointError, match=r"not a timm BiT state dict: 1 tensor.*fc\.weight"):
        bit_keras.model_from_checkpoint(_save(tmp_path, tensors, "extra.safetensors"))


def test_a_truncated_safetensors_file_is_named(tmp_path):
    content = (TIMM_FOLDER / "model.safetensors").read_bytes()
    path = tmp_path / "model.safetensors"
    path.write_bytes(content[: len(content) * 2 // 3])
    with pytest.raises(CheckpointError, match=r"not a readable \.safetensors file.*truncated"):
        bit_keras.create_model("R14x1", weights=str(tmp_path), classes=10)


def test_pickles_are_never_loaded(tmp_path):
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    with pytest.raises(CheckpointError, match="pickled and never loaded"):
        bit_keras.model_from_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="never loads"):
        bit_keras.model_from_checkpoint(tmp_path / "pytorch_model.bin")


def _numbered(arrays):
    # As some published files name them: each convolution of a unit numbered in order.
    counter = iter(range(1, 10_000))
    return {
        re.sub(r"/standardized_conv2d/", f"/standardized_conv2d_{next(counter)}/", key)
        if key.endswith("standardized_conv2d/kernel") and "root_block" not in key
        else key: array
        for key, array in arrays.items()
    }


def test_numbered_conv_scopes_of_published_files_load(official_arrays, reference_io, tmp_path):
    numbered = _numbered(official_arrays)
    assert any("standardized_conv2d_1/" in key for key in numbered)
    path = tmp_path / "numbered.npz"
    np.savez(path, **numbered)
    model = bit_keras.model_from_checkpoint(path)
    np.testing.assert_allclose(
        model(reference_io["x64"]), reference_io["x64_logits"], atol=PARITY_ATOL
    )
    loaded = bit_keras.create_model("R14x1", weights=str(path), classes=10)
    for key, array in layout.official_arrays(loaded).items():
        np.testing.assert_array_equal(array, official_arrays[key])


def test_numbered_keys_stay_strict(official_arrays, tmp_path):
    clash = dict(official_arrays)
    key = "resnet/block1/unit01/b/standardized_conv2d/kernel"
    clash[key.replace("standardized_conv2d/", "standardized_conv2d_4/")] = clash[key]
    np.savez(tmp_path / "clash.npz", **clash)
    with pytest.raises(CheckpointError, match="name the same weight"):
        bit_keras.model_from_checkpoint(tmp_path / "clash.npz")
    odd = {k.replace("group_norm/", "group_norm_2/"): v for k, v in official_arrays.items()}
    np.savez(tmp_path / "odd.npz", **odd)
    with pytest.raises(CheckpointError, match=r"52 problem\(s\)(.|\n)*Nothing was loaded"):
        bit_keras.create_model("R14x1", weights=str(tmp_path / "odd.npz"), classes=10)
    assert set(read_npz(FIXTURES / "bit_r14x1_head10_official_layout.npz")) == set(official_arrays)


def test_writing_timms_layout_gives_back_timms_own_files(tmp_path):
    import json

    from bit_keras.checkpoint import save_timm_weights

    model = bit_keras.model_from_checkpoint(TIMM_FOLDER)
    written = save_timm_weights(model, tmp_path / "out", resolution=64)
    assert written == str(tmp_path / "out" / "model.safetensors")
    tensors, theirs = _tensors(), None
    from safetensors.numpy import load_file

    theirs = load_file(written)
    assert set(theirs) == set(tensors)  # timm's names
    for key, tensor in tensors.items():
        np.testing.assert_array_equal(theirs[key], tensor)  # and values, bit for bit
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    fixture = json.loads((TIMM_FOLDER / "config.json").read_text())
    for key in ("architecture", "num_classes", "num_features", "global_pool", "model_args"):
        assert config[key] == fixture[key], key
    for key in ("input_size", "mean", "std", "crop_pct", "first_conv", "classifier"):
        assert config["pretrained_cfg"][key] == fixture["pretrained_cfg"][key], key
    assert config["pretrained_cfg"]["pool_size"] == [2, 2]  # 64 px / 32 (the fixture kept 224's)
    again = bit_keras.model_from_checkpoint(tmp_path / "out")
    with np.load(TIMM_IO) as reference:
        np.testing.assert_array_equal(again(reference["x64"]), model(reference["x64"]))
    with pytest.raises(FileExistsError):
        save_timm_weights(model, tmp_path / "out")


def test_a_headless_model_and_the_published_names(official_ckpt, tmp_path):
    from safetensors.numpy import load_file

    from bit_keras.checkpoint import save_timm_weights
    from bit_keras.pretrained.convert import convert_checkpoint

    convert_checkpoint(official_ckpt, tmp_path / "timm", format="timm")
    arrays = layout.from_timm(load_file(tmp_path / "timm" / "model.safetensors"))
    for key, array in read_npz(official_ckpt).items():
        np.testing.assert_array_equal(arrays[key], array)
    body = bit_keras.model_from_checkpoint(official_ckpt, include_top=False)
    save_timm_weights(body, tmp_path / "body")
    assert not any(
        k.startswith("head.") for k in load_file(tmp_path / "body" / "model.safetensors")
    )
    assert '"num_classes": 0' in (tmp_path / "body" / "config.json").read_text()
    assert layout.timm_architecture((3, 4, 6, 3), 1) == "resnetv2_50x1_bit"
    assert layout.timm_architecture((3, 8, 36, 3), 4) == "resnetv2_152x4_bit"
    assert layout.timm_architecture((3, 4, 23, 3), 3) == "resnetv2_101x3_bit"
