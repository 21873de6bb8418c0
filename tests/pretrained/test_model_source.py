import json
import os
import shutil

import numpy as np
import pytest

from bit_keras.pretrained.model_source import check_model_spec, load_model_source
from bit_test_utils import PARITY_ATOL, TIMM_FOLDER, TIMM_IO, lay_out_hub_cache, timm_fixture_files


def test_published_name_takes_the_registry_resolution():
    spec = check_model_spec("BiT-M-R50x1-ILSVRC2012")
    assert (spec.kind, spec.resolution, spec.resolution_from) == ("published", 448, "the registry")
    assert check_model_spec("BiT-S-R50x1", 160).resolution == 160


def test_official_file_name_takes_the_registry_resolution(official_ckpt, tmp_path):
    named = tmp_path / "BiT-M-R152x4-ILSVRC2012.npz"
    shutil.copy(official_ckpt, named)
    assert check_model_spec(str(named)).resolution == 480


def test_other_files_need_a_resolution(official_ckpt):
    with pytest.raises(ValueError, match="pass --resolution"):
        check_model_spec(str(official_ckpt))
    spec = check_model_spec(str(official_ckpt), 64)
    assert (spec.kind, spec.resolution_from) == ("npz", "--resolution")


def test_a_run_records_its_resolution_and_class_names(official_ckpt, tmp_path):
    import bit_keras

    model = bit_keras.model_from_checkpoint(official_ckpt)
    model.save(tmp_path / "model.keras")
    with pytest.raises(ValueError, match="pass --resolution"):
        check_model_spec(str(tmp_path / "model.keras"))
    record = {
        "config": {"model": "R14x1", "dataset": "folder:/data/pets"},
        "resolved": {"crop": 48},
        "class_names": [f"pet{i}" for i in range(10)],
    }
    (tmp_path / "config.json").write_text(json.dumps(record))
    spec = check_model_spec(str(tmp_path / "model.keras"))
    assert (spec.kind, spec.resolution, spec.resolution_from) == (
        "keras",
        48,
        "the run's config.json",
    )
    source = load_model_source(spec)
    assert source.class_names == tuple(f"pet{i}" for i in range(10))
    assert "fine-tuned from R14x1 on folder:/data/pets" in source.description
    x = np.random.default_rng(0).uniform(-1, 1, (1, 48, 48, 3)).astype("float32")
    np.testing.assert_allclose(source.model(x), model(x), atol=1e-6)


def test_checkpoint_source_has_imagenet_or_index_labels(official_ckpt):
    source = load_model_source(check_model_spec(str(official_ckpt), 64))
    assert source.class_names == tuple(str(i) for i in range(10))  # a 10-class head
    assert source.name == "bit_r14x1_head10_official_layout"


def test_timms_layout_takes_its_configs_resolution(offline_hub, tmp_path):
    # A folder, its model.safetensors, and an hf-hub: repository of the same files.
    lay_out_hub_cache(offline_hub, "someone/bit-r14x1", timm_fixture_files())
    for source in (
        str(TIMM_FOLDER),
        str(TIMM_FOLDER / "model.safetensors"),
        "hf-hub:someone/bit-r14x1",
    ):
        spec = check_model_spec(source)
        assert (spec.kind, spec.resolution, spec.resolution_from) == (
            "timm",
            64,  # the fixture's config.json: input_size [3, 64, 64]
            "timm's config.json",
        )
    source = load_model_source(spec)
    assert source.name == "bit_r14x1" and "timm's layout" in source.description
    with np.load(TIMM_IO) as reference:
        np.testing.assert_allclose(
            source.model(reference["x64"]), reference["x64_logits"], atol=PARITY_ATOL
        )
    # Without a config.json, the resolution is asked for.
    bare = tmp_path / "bare"
    bare.mkdir()
    os.symlink(TIMM_FOLDER / "model.safetensors", bare / "model.safetensors")
    with pytest.raises(ValueError, match="pass --resolution"):
        check_model_spec(str(bare))
    assert check_model_spec(str(bare), 96).resolution == 96
    # A published model's Hub copy runs at the registry's resolution; a missing one is named.
    spec = check_model_spec("hf-hub:timm/resnetv2_152x4_bit.goog_in21k_ft_in1k")
    assert (spec.resolution, spec.info.name) == (480, "BiT-M-R152x4-ILSVRC2012")
    with pytest.raises(OSError, match="hf-hub:someone/nothing is not in the Hugging Face cache"):
        check_model_spec("hf-hub:someone/nothing")


@pytest.mark.parametrize(
    "model, resolution, message",
    [
        ("BiT-M-R50X1", None, "Did you mean BiT-M-R50x1"),
        ("missing.keras", None, "does not exist"),
        ("missing.npz", 64, "does not exist"),
        ("missing.safetensors", 64, "does not exist"),
        ("hf-hub:timm", 64, "does not name a Hugging Face Hub repository"),
        ("BiT-M-R50x1", 16, "at least 32"),
    ],
)
def test_bad_model_flags(model, resolution, message):
    with pytest.raises(ValueError, match=message):
        check_model_spec(model, resolution)


def test_unreadable_keras_file(tmp_path):
    bad = tmp_path / "model.keras"
    bad.write_text("not a model")
    with pytest.raises(ValueError, match=r"Cannot load .*model\.keras.* as a Keras model"):
        load_model_source(check_model_spec(str(bad), 64))
