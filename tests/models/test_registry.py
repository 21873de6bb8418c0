import dataclasses

import keras
import numpy as np
import pytest

import bit_keras
from bit_keras.checkpoint import official_arrays
from bit_keras.models import registry

ARCHS = ("R50x1", "R50x3", "R101x1", "R101x3", "R152x2", "R152x4")

# Published parameter counts, head included (big_transfer / the official checkpoints; in the
# fixture's README).
PUBLISHED_PARAMS = {
    "BiT-M-R50x1": 68_256_659,
    "BiT-S-R50x1": 25_549_352,
    "BiT-S-R101x1": 44_541_480,
    "BiT-S-R50x3": 217_319_080,
    "BiT-S-R152x2": 236_335_208,
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
    assert set(names) == expected and names == sorted(names)
    assert bit_keras.list_models("BiT-S-*") == sorted(f"BiT-S-{a}" for a in ARCHS)
    assert bit_keras.list_models("nothing*") == []


def test_entries_point_at_the_official_bucket():
    for name in bit_keras.list_models():
        info = bit_keras.get_model_info(name)
        assert info.architecture in registry.ARCHITECTURES
        if "distilled" in name:
            resolution = name.rsplit("-", 1)[1]
            assert info.origin.endswith(f"/bit_models/distill/R50x1_{resolution}.npz")
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
    arch = registry.ARCHITECTURES[bit_keras.get_model_info(name).architecture]
    classes = bit_keras.get_model_info(name).classes
    assert _expected_params(arch.block_units, arch.width_factor, classes) == params
    keras.backend.clear_session()


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_every_architecture_parameter_count(arch):
    spec = registry.ARCHITECTURES[arch]
    model = bit_keras.create_model(f"BiT-S-{arch}", weights=None)
    assert model.count_params() == _expected_params(spec.block_units, spec.width_factor, 1000)
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
    monkeypatch.setitem(registry.PRETRAINED, info.name, info)
    source = bit_keras.create_model(info.name, weights=None)
    for i, variable in enumerate(source.weights):
        variable.assign(np.random.default_rng(i).normal(size=variable.shape).astype("float32"))
    (tmp_path / "bit_keras").mkdir()
    np.savez(tmp_path / "bit_keras" / info.fname, **official_arrays(source))
    loaded = bit_keras.create_model(info.name, input_shape=(32, 32, 3))
    for mine, theirs in zip(loaded.weights, source.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_download_failure_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    info = dataclasses.replace(
        bit_keras.get_model_info("BiT-M-R50x1"), origin="http://127.0.0.1:9/BiT-M-R50x1.npz"
    )
    monkeypatch.setitem(registry.PRETRAINED, info.name, info)
    expected_path = tmp_path / "bit_keras" / "BiT-M-R50x1.npz"
    with pytest.raises(bit_keras.checkpoint.CheckpointDownloadError) as error:
        bit_keras.create_model("BiT-M-R50x1")
    assert str(expected_path) in str(error.value)
    assert "127.0.0.1:9" in str(error.value)
    assert not expected_path.exists()
