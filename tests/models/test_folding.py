import keras
import numpy as np
import pytest

from bit_keras.layers import StdConv2D
from bit_keras.models import fold_weight_standardization


@pytest.fixture(scope="module")
def folded(official_model):
    return fold_weight_standardization(official_model)


def test_folded_model_computes_the_same_outputs(official_model, folded, reference_io):
    x = reference_io["x64"]
    np.testing.assert_allclose(folded(x), official_model(x), atol=1e-5)
    assert [layer.name for layer in folded.layers] == [
        layer.name for layer in official_model.layers
    ]


def _all_layers(model):
    for layer in model.layers:
        yield layer
        yield from (getattr(layer, name, None) for name in ("a_proj", "a_conv", "b_conv", "c_conv"))


def test_no_std_conv_left_and_every_kernel_standardized(official_model, folded):
    layers = [layer for layer in _all_layers(folded) if layer is not None]
    assert not any(isinstance(layer, StdConv2D) for layer in layers)
    convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    originals = [layer for layer in _all_layers(official_model) if isinstance(layer, StdConv2D)]
    assert len(convs) == len(originals) == 1 + 4 * 4  # root + 4 units of (3 convs + proj)
    for conv in convs:
        kernel = conv.kernel.numpy()
        np.testing.assert_allclose(kernel.mean(axis=(0, 1, 2)), 0, atol=1e-5, err_msg=conv.name)
        np.testing.assert_allclose(kernel.var(axis=(0, 1, 2)), 1, atol=1e-3, err_msg=conv.name)
    # The original keeps its layers and raw kernels (whose channel means are far from 0).
    original = official_model.get_layer("root_conv")
    assert isinstance(original, StdConv2D)
    assert np.abs(original.kernel.numpy().mean(axis=(0, 1, 2))).max() > 1e-2


def test_folding_twice_or_a_model_without_std_conv_is_an_error(folded):
    with pytest.raises(ValueError, match="no StdConv2D"):
        fold_weight_standardization(folded)
    with pytest.raises(ValueError, match="functional Keras model"):
        fold_weight_standardization(keras.layers.Dense(2))


def test_folded_model_saves_and_reloads(folded, reference_io, tmp_path):
    path = tmp_path / "folded.keras"
    folded.save(path)
    reloaded = keras.saving.load_model(path)
    x = reference_io["x64"]
    np.testing.assert_allclose(reloaded(x), folded(x), atol=1e-6)
