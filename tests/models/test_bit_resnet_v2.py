import copy

import keras
import numpy as np
import pytest

import bit_keras
from bit_keras.models.bit_resnet_v2 import BiTResNetV2
from bit_test_utils import FIXTURE_BLOCK_UNITS, FIXTURE_CLASSES, PARITY_ATOL, ceil_div


@pytest.fixture(scope="module")
def features(official_ckpt):
    """The fixture network without top, any input size (4D features)."""
    return bit_keras.model_from_checkpoint(official_ckpt, include_top=False)


def test_plain_functional_model_with_named_layers(official_model):
    assert isinstance(official_model, keras.Model)
    assert type(official_model).__name__ == "Functional"  # not a subclassed model
    names = [layer.name for layer in official_model.layers]
    assert isinstance(official_model.layers[0], keras.layers.InputLayer)
    assert names[1:5] == ["root_pad", "root_conv", "root_pool_pad", "root_pool"]
    assert [n for n in names if n.startswith("block")] == [
        "block1_unit01",
        "block2_unit01",
        "block3_unit01",
        "block4_unit01",
    ]
    assert names[-5:] == ["final_norm", "final_relu", "avg_pool", "head", "predictions"]


@pytest.mark.parametrize(
    "size", [(32, 32), (33, 47), (47, 33), (64, 64), (65, 47), (97, 130), (224, 224), (480, 480)]
)
def test_any_input_size(features, size):
    out = features(np.zeros((1, *size, 3), "float32"))
    # Root conv /2, pool /2, then /2 in blocks 2 to 4, each rounding up (symmetric pads).
    expected = list(size)
    for _ in range(5):
        expected = [ceil_div(n, 2) for n in expected]
    assert tuple(out.shape) == (1, *expected, 2048)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(out)))


@pytest.mark.parametrize(("pooling", "reduce"), [("avg", np.mean), ("max", np.max)])
def test_pooling_without_top(official_ckpt, features, reference_io, pooling, reduce):
    model = bit_keras.model_from_checkpoint(official_ckpt, include_top=False, pooling=pooling)
    x = reference_io["x65x47"]
    pooled = model.predict(x, verbose=0)
    assert pooled.shape == (1, 2048)
    fmap = features.predict(x, verbose=0)
    np.testing.assert_allclose(pooled, reduce(fmap, axis=(1, 2)), rtol=1e-5, atol=1e-6)


def test_head_is_zero_initialised_and_activation_applies():
    model = BiTResNetV2((1, 1, 1, 1), 1, classes=7, classifier_activation="softmax")
    head = model.get_layer("head")
    assert not np.any(head.kernel.numpy()) and not np.any(head.bias.numpy())
    probs = model.predict(np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)), verbose=0)
    np.testing.assert_allclose(probs, np.full((2, 7), 1 / 7), rtol=1e-6)


def test_fixed_input_shape_and_input_tensor():
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, input_shape=(64, 48, 3), include_top=False)
    assert model.output_shape == (None, 2, 2, 2048)
    inputs = keras.Input((40, 40, 3))
    scaled = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, input_tensor=scaled, classes=3)
    assert model.inputs[0] is inputs
    assert model.output_shape == (None, 3)


def test_channels_without_weights():
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, input_shape=(32, 32, 1), include_top=False)
    assert model.get_layer("root_conv").kernel.shape == (7, 7, 1, 64)


def test_mixed_float16_matches_float32(official_ckpt, reference_io, mixed_float16):
    model = bit_keras.model_from_checkpoint(official_ckpt)
    assert model.get_layer("block2_unit01").compute_dtype == "float16"
    for key in ("x64", "x65x47"):
        logits = model.predict(reference_io[key], verbose=0)
        assert logits.dtype == np.float32  # the `predictions` layer is float32
        reference = reference_io[f"{key}_logits"]
        # float16 activations through 14 layers: measured 6e-3 on logits of magnitude ~2.
        np.testing.assert_allclose(logits, reference, atol=2e-2)
        assert np.array_equal(logits.argmax(-1), reference.argmax(-1))


def test_config_round_trip(official_model):
    config = official_model.get_config()
    clone = keras.Model.from_config(copy.deepcopy(config))  # from_config consumes its input
    assert clone.get_config() == config
    clone.set_weights(official_model.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (2, 40, 36, 3)).astype("float32")
    np.testing.assert_array_equal(_eager(clone, x), _eager(official_model, x))


def _eager(model, x):
    # Eager calls: the same ops on the same shapes. `predict` would compare one traced function
    # with another, and a model whose function has seen other shapes retraces with unknown
    # dimensions, which may sum in another order (2e-6 apart).
    return keras.ops.convert_to_numpy(model(x, training=False))


def test_keras_file_round_trip_is_exact(official_model, reference_io, tmp_path):
    path = tmp_path / "bit.keras"
    official_model.save(path)
    restored = keras.saving.load_model(path)
    for key in ("x64", "x65x47"):
        np.testing.assert_array_equal(
            _eager(restored, reference_io[key]), _eager(official_model, reference_io[key])
        )
        np.testing.assert_allclose(
            restored.predict(reference_io[key], verbose=0),
            reference_io[f"{key}_logits"],
            atol=PARITY_ATOL,
        )


def test_weights_h5_round_trip_is_exact(official_model, reference_io, tmp_path):
    path = tmp_path / "bit.weights.h5"
    official_model.save_weights(path)
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, classes=FIXTURE_CLASSES)
    model.load_weights(path)  # Keras' own file of the architecture loads with Keras' loader
    for mine, theirs in zip(model.weights, official_model.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pooling": "sum", "include_top": False}, "pooling"),
        ({"pooling": "avg"}, "include_top=False"),
        ({"classes": 0}, "classes"),
        ({"input_shape": (64, 64)}, "input_shape"),
        ({"input_shape": (64, 0, 3)}, "input_shape"),
        ({"input_shape": (64, 64, None)}, "channels"),
        ({"block_units": ()}, "block_units"),
        ({"block_units": (1, 0)}, "block_units"),
        ({"block_units": (1, 1, 1, 1, 1)}, "at most 4"),
        ({"width_factor": 0}, "width_factor"),
        ({"width_factor": 1.5}, "width_factor"),
        ({"input_tensor": np.zeros((1, 32, 32, 3))}, "Keras tensor"),
    ],
)
def test_bad_arguments(kwargs, message):
    kwargs = {"block_units": FIXTURE_BLOCK_UNITS, **kwargs}
    with pytest.raises(ValueError, match=message):
        BiTResNetV2(**kwargs)


def test_the_architecture_takes_no_weights_file(official_ckpt):
    # The architecture builds; `pretrained` and `checkpoint` load weights (one way each).
    with pytest.raises(TypeError, match="weights"):
        BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, weights=official_ckpt)
