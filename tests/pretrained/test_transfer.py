"""Transfer from any BiT you trained: `.keras`, `.npz` and `.weights.h5` files with any head."""

import keras
import numpy as np
import pytest

import bit_keras
from bit_keras import CheckpointError, applications
from bit_keras.checkpoint import layout


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An R14x1 with a 7-class head and non-zero weights everywhere, in all three formats."""
    folder = tmp_path_factory.mktemp("trained")
    keras.utils.set_random_seed(3)
    model = bit_keras.create_model("R14x1", weights=None, classes=7)
    rng = np.random.default_rng(3)
    for v in model.weights:
        v.assign(rng.normal(0.1, 0.05, v.shape).astype("float32"))
    model.save(folder / "model.keras")
    model.save_weights(folder / "model.weights.h5")
    bit_keras.checkpoint.save_official_weights(model, folder / "model.npz")
    return folder, layout.official_arrays(model)


@pytest.mark.parametrize("fmt", ["model.keras", "model.npz", "model.weights.h5"])
@pytest.mark.parametrize("classes", [7, 3])
def test_the_body_loads_exactly_and_another_head_is_new_and_zero(trained, fmt, classes):
    folder, arrays = trained
    model = bit_keras.create_model("R14x1", weights=str(folder / fmt), classes=classes)
    loaded = layout.official_arrays(model)
    for key, array in arrays.items():
        if key in layout.HEAD_KEYS:
            if classes == 7:
                np.testing.assert_array_equal(loaded[key], array)
            else:
                assert loaded[key].shape[-1] == 3 and not loaded[key].any()
        else:
            np.testing.assert_array_equal(loaded[key], array)


def test_an_applications_constructor_takes_a_run_of_its_architecture(tmp_path):
    keras.utils.set_random_seed(5)
    run = bit_keras.create_model("R50x1", weights=None, classes=7)
    run.get_layer("head").bias.assign(np.arange(7, dtype="float32"))
    run.save(tmp_path / "model.keras")
    same = applications.BiT_S_R50x1(weights=str(tmp_path / "model.keras"), classes=7)
    np.testing.assert_array_equal(same.get_layer("head").bias.numpy(), np.arange(7))
    other = applications.BiT_S_R50x1(
        weights=str(tmp_path / "model.keras"), classes=3, classifier_activation="sigmoid"
    )
    assert not other.get_layer("head").bias.numpy().any()
    np.testing.assert_array_equal(
        other.get_layer("root_conv").kernel.numpy(), run.get_layer("root_conv").kernel.numpy()
    )


def test_applications_and_headless_models_take_a_trained_file(trained):
    folder, arrays = trained
    model = applications.BiT_M_R50x1  # the constructor's own architecture must fit
    with pytest.raises(CheckpointError, match="does not fit"):
        model(weights=str(folder / "model.keras"), classes=5)
    backbone = bit_keras.create_model(
        "R14x1", weights=str(folder / "model.keras"), include_top=False, pooling="avg"
    )
    np.testing.assert_array_equal(
        layout.official_arrays(backbone)[layout.ROOT_KERNEL], arrays[layout.ROOT_KERNEL]
    )


def test_a_body_that_does_not_fit_is_one_error_naming_what_differs(trained):
    folder, _ = trained
    with pytest.raises(CheckpointError) as error:
        bit_keras.create_model("R26x1", weights=str(folder / "model.keras"), classes=3)
    message = str(error.value)
    assert "does not fit model 'r26x1'" in message
    assert "missing key 'resnet/block1/unit02/a/standardized_conv2d/kernel'" in message
    assert "Nothing was loaded." in message
    with pytest.raises(CheckpointError, match="does not fit a BiT of"):
        bit_keras.create_model("R26x1", weights=str(folder / "model.weights.h5"), classes=3)
    with pytest.raises(CheckpointError, match="does not fit model"):
        bit_keras.create_model("R14x2", weights=str(folder / "model.npz"), classes=3)


def test_unknown_suffix_and_broken_files(tmp_path):
    other = tmp_path / "model.onnx"
    other.write_bytes(b"x")
    with pytest.raises(ValueError, match=r"must end in one of \.npz, \.keras, \.weights\.h5"):
        bit_keras.create_model("R14x1", weights=str(other))
    truncated = tmp_path / "model.safetensors"
    truncated.write_bytes(b"x")
    with pytest.raises(CheckpointError, match=r"not a readable \.safetensors file"):
        bit_keras.create_model("R14x1", weights=str(truncated))
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match=r"not a readable \.keras model"):
        bit_keras.create_model("R14x1", weights=str(broken))
    not_bit = tmp_path / "dense.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(not_bit)
    with pytest.raises(CheckpointError, match="does not hold a BiT built by bit_keras"):
        bit_keras.create_model("R14x1", weights=str(not_bit))
