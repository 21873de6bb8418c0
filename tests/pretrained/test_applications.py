import inspect

import numpy as np
import pytest

import bit_keras
from bit_keras import applications


def test_one_constructor_per_published_model():
    for name in bit_keras.list_models():
        constructor = getattr(applications, name.replace("-", "_"))
        info = bit_keras.get_model_info(name)
        params = inspect.signature(constructor).parameters
        assert list(params) == [
            "include_top",
            "weights",
            "input_tensor",
            "input_shape",
            "pooling",
            "classes",
            "classifier_activation",
            "name",
        ]
        assert params["weights"].default == info.weights
        assert params["classes"].default == info.classes
        assert params["input_shape"].default is None
        assert constructor.__name__ == name.replace("-", "_")
        assert info.origin in constructor.__doc__
    assert sorted(applications.__all__) == sorted(
        n.replace("-", "_") for n in bit_keras.list_models()
    )


def test_builds_like_keras_applications():
    model = applications.BiT_M_R50x1(weights=None, classes=10, input_shape=(64, 64, 3))
    assert model.name == "bit_m_r50x1" and model.output_shape == (None, 10)
    features = applications.BiT_S_R50x1(weights=None, include_top=False, pooling="max")
    assert features.output_shape == (None, 2048)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 33, 47, 3)).astype("float32")
    assert features.predict(x, verbose=0).shape == (1, 2048)


def test_loads_weights_file(tmp_path):
    source = applications.BiT_S_R50x1(weights=None, include_top=False)
    source.get_layer("final_norm").gamma.assign(np.arange(2048, dtype="float32"))
    path = tmp_path / "r50.weights.h5"
    source.save_weights(path)
    model = applications.BiT_S_R50x1(weights=path, include_top=False)
    np.testing.assert_array_equal(model.get_layer("final_norm").gamma.numpy(), np.arange(2048))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": "imagenet"}, "weights"),
        ({"weights": None, "include_top": True, "pooling": "avg"}, "pooling"),
        ({"weights": None, "include_top": False, "pooling": "mean"}, "pooling"),
        ({"weights": None, "classes": -1}, "classes"),
    ],
)
def test_bad_combinations(kwargs, message):
    with pytest.raises(ValueError, match=message):
        applications.BiT_S_R50x1(**kwargs)
