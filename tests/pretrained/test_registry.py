import dataclasses

import keras
import numpy as np
import pytest

import bit_keras
from bit_keras.checkpoint import official_arrays
from bit_keras.models import ARCHITECTURES
from bit_keras.pretrained import builder, catalog

ARCHS = ("R50x1", "R50x3", "R101x1", "R101x3", "R152x2", "R152x4")

# The models whose published parameter counts (head included; big_transfer, the fixture's
# README) the registry holds; built here at full size.
PUBLISHED_PARAMS = {
    name: bit_keras.get_model_info(name).params
    for name in ("BiT-M-R50x1", "BiT-S-R50x1", "BiT-S-R101x1", "BiT-S-R50x3", "BiT-S-R152x2")
}


def _expected_params(block_units, width, classes):
    """Counts BiT ResNet-v2 parameters from the architecture alone (independent of Keras)."""
    total = 7 * 7 * 3 * 64 * width
    channels = 64 * width
    for block, units in enumerate(block_units):
        mid = 64 * 2**block * width
        for unit in range(units):
            total += 2 * channels + channels * mid  # a: GN, 1x1
            total += 2 * mid + 9 * mid * mid  # b: GN, 3x3
            total += 2 * mid + mid * 4 * mid  # c: GN, 1x1
            if unit == 0:
                total += channels * 4 * mid  # projection
            channels = 4 * mid
    return total + 2 * channels + channels * classes + classes  # final GN, head


def test_lists_every_published_model():
    names = bit_keras.list_models()
    expected = {f"BiT-{s}-{a}" for s in "SM" for a in ARCHS}
    expected |= {f"BiT-M-{a}-ILSVRC2012" for a in ARCHS}
    expected |= {"BiT-R50x1-distilled-224", "BiT-R50x1-distilled-160"}
    expected |= {"BiT-R152x2-teacher-224", "BiT-R152x2-teacher-384"}
    assert set(names) == expected and names == sorted(names)
    assert bit_keras.list_models("BiT-S-*") == sorted(f"BiT-S-{a}" for a in ARCHS)
    assert bit_keras.list_models("nothing*") == []


def test_entries_point_at_the_official_bucket():
    for name in bit_keras.list_models():
        info = bit_keras.get_model_info(name)
        assert info.architecture in ARCHITECTURES
        if "distilled" in name:
            resolution = name.rsplit("-", 1)[1]
            assert info.origin.endswith(f"/bit_models/distill/R50x1_{resolution}.npz")
        elif "teacher" in name:
            resolution = name.rsplit("-", 1)[1]
            assert info.origin.endswith(f"/bit_models/distill/R152x2_T_{resolution}.npz")
            assert info.architecture == "R152x2" and info.resolution == int(resolution)
        else:
            assert info.origin == f"https://storage.googleapis.com/bit_models/{name}.npz"
        expected = 21843 if info.weights == "bit-m" else 1000
        assert info.classes == expected


def test_unknown_name_suggests():
    with pytest.raises(ValueError, match="Did you mean BiT-M-R50x1"):
        bit_keras.create_model("BiT-M-R50X1", weights=None)


def test_bad_weights_value():
    with pytest.raises(ValueError, match="'bit-s'"):
        bit_keras.create_model("BiT-S-R50x1", weights="imagenet")


@pytest.mark.parametrize(("name", "params"), PUBLISHED_PARAMS.items())
def test_published_parameter_counts(name, params):
    model = bit_keras.create_model(name, weights=None)
    assert model.count_params() == params
    arch = ARCHITECTURES[bit_keras.get_model_info(name).architecture]
    classes = bit_keras.get_model_info(name).classes
    assert _expected_params(arch.block_units, arch.width_factor, classes) == params
    keras.backend.clear_session()


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_every_architecture_parameter_count(arch):
    spec = ARCHITECTURES[arch]
    model = bit_keras.create_model(f"BiT-S-{arch}", weights=None)
    assert model.count_params() == _expected_params(spec.block_units, spec.width_factor, 1000)
    assert model.count_params() == bit_keras.get_model_info(f"BiT-S-{arch}").params
    del model
    keras.backend.clear_session()


def test_create_model_options():
    model = bit_keras.create_model(
        "BiT-S-R50x1", weights=None, include_top=False, pooling="avg", input_shape=(64, 64, 3)
    )
    assert model.name == "bit_s_r50x1" and model.output_shape == (None, 2048)
    model = bit_keras.create_model(
        "BiT-M-R50x1", weights=None, classes=5, classifier_activation="sigmoid", model_name="x"
    )
    assert model.name == "x" and model.output_shape == (None, 5)


def test_loads_from_the_cache_without_network(tmp_path, monkeypatch):
    # An official-layout file placed in the Keras cache by hand is used as it is.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    info = dataclasses.replace(
        bit_keras.get_model_info("BiT-S-R50x1"), origin="http://127.0.0.1:9/unreachable.npz"
    )
    monkeypatch.setitem(catalog.PRETRAINED, info.name, info)
    source = bit_keras.create_model(info.name, weights=None)
    for i, variable in enumerate(source.weights):
        variable.assign(np.random.default_rng(i).normal(size=variable.shape).astype("float32"))
    (tmp_path / "bit_keras").mkdir()
    np.savez(tmp_path / "bit_keras" / info.fname, **official_arrays(source))
    loaded = bit_keras.create_model(info.name, input_shape=(32, 32, 3))
    for mine, theirs in zip(loaded.weights, source.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_download_failure_says_where_to_put_the_file(tmp_path, monkeypatch, offline_hub):
    # The Hub mirror, tried next, is offline here: huggingface_hub would otherwise retry a
    # host it cannot resolve for 23 s (its backoff) before the same error.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    info = dataclasses.replace(
        bit_keras.get_model_info("BiT-M-R50x1"), origin="http://127.0.0.1:9/BiT-M-R50x1.npz"
    )
    monkeypatch.setitem(catalog.PRETRAINED, info.name, info)
    expected_path = tmp_path / "bit_keras" / "BiT-M-R50x1.npz"
    with pytest.raises(bit_keras.checkpoint.CheckpointDownloadError) as error:
        bit_keras.create_model("BiT-M-R50x1")
    assert str(expected_path) in str(error.value)
    assert "127.0.0.1:9" in str(error.value)
    assert not expected_path.exists()


def test_every_entry_counts_its_architecture():
    # No build: each registry figure equals the architecture-only count of its head size.
    for info in bit_keras.list_models(details=True):
        arch = ARCHITECTURES[info.architecture]
        assert info.params == _expected_params(arch.block_units, arch.width_factor, info.classes)


def test_resolutions():
    for info in bit_keras.list_models(details=True):
        if info.weights in ("bit-s", "bit-m"):
            expected = 224  # the upstream training resolution
        elif info.weights == "bit-m-ilsvrc2012":
            expected = 480 if info.architecture == "R152x4" else 448
        else:
            expected = int(info.name.rsplit("-", 1)[1])  # distilled at 224 or 160
        assert info.resolution == expected, info.name


def test_list_models_details_and_table():
    entries = bit_keras.list_models("BiT-M-R50x1*", details=True)
    assert [e.name for e in entries] == ["BiT-M-R50x1", "BiT-M-R50x1-ILSVRC2012"]
    assert entries[0] == bit_keras.get_model_info("BiT-M-R50x1")
    table = bit_keras.model_table("BiT-M-R50x1*").splitlines()
    assert table[0].split() == [
        "name",
        "architecture",
        "weights",
        "classes",
        "resolution",
        "parameters",
    ]
    assert table[1].split() == ["BiT-M-R50x1", "R50x1", "bit-m", "21,843", "224", "68,256,659"]
    assert table[2].split()[4] == "448"
    assert len(bit_keras.model_table().splitlines()) == 1 + len(bit_keras.list_models())


def test_create_model_builds_bare_architectures(official_ckpt, reference_io):
    tiny = bit_keras.create_model("R14x1", weights=None, input_shape=(32, 32, 3))
    assert tiny.name == "r14x1" and tiny.output_shape == (None, 1000)
    assert [layer.name for layer in tiny.layers if layer.name.startswith("block")] == [
        "block1_unit01",
        "block2_unit01",
        "block3_unit01",
        "block4_unit01",
    ]
    loaded = bit_keras.create_model("R14x1", weights=str(official_ckpt), classes=10)
    np.testing.assert_allclose(
        loaded.predict(reference_io["x64"], verbose=0), reference_io["x64_logits"], atol=1e-4
    )


@pytest.mark.parametrize(
    ("name", "weights", "message"),
    [
        ("R14x1", "default", "architecture without published weights"),
        ("R50x1", "bit-m", "must be None, an hf-hub:ORG/NAME name or the path"),
        ("R13x1", None, "Unknown architecture 'R13x1'"),
        ("BiT-M-R50x1", "/no/such/file.npz", "must be 'bit-m'"),
        ("resnet50", None, "Unknown BiT model 'resnet50'"),
    ],
)
def test_create_model_bad_name_or_weights(name, weights, message):
    with pytest.raises(ValueError, match=message):
        bit_keras.create_model(name, weights=weights)
    with pytest.raises(ValueError, match=message):
        catalog.check_weights(name, weights)


def test_default_resolution_by_name_or_official_file_name(tmp_path):
    assert bit_keras.pretrained.default_resolution("BiT-M-R50x1-ILSVRC2012") == 448
    assert bit_keras.pretrained.default_resolution("BiT-M-R50x1") == 224
    assert bit_keras.pretrained.default_resolution("/data/BiT-M-R152x4-ILSVRC2012.npz") == 480
    # The distilled files are published as R50x1_<resolution>.npz.
    assert bit_keras.pretrained.default_resolution(tmp_path / "R50x1_160.npz") == 160
    assert bit_keras.pretrained.default_resolution(tmp_path / "mine.npz") == 224


def test_checkpoint_path_of_a_file_or_a_cached_name(official_ckpt, tmp_path, monkeypatch):
    assert builder.checkpoint_path(official_ckpt) == str(official_ckpt)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "bit_keras").mkdir()
    cached = tmp_path / "bit_keras" / "BiT-S-R50x1.npz"
    cached.write_bytes(official_ckpt.read_bytes())
    assert builder.checkpoint_path("BiT-S-R50x1") == str(cached)
    with pytest.raises(ValueError, match="Did you mean BiT-S-R50x1"):
        builder.checkpoint_path("BiT-S-R50X1")


def test_the_architecture_package_holds_no_published_weights():
    # The architecture builds; published weights are `bit_keras.pretrained`'s alone.
    with pytest.raises(AttributeError, match="no attribute 'create_model'"):
        bit_keras.models.create_model  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        bit_keras.models.nothing  # noqa: B018
