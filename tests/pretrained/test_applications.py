import inspect

import keras
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
        assert params["classifier_activation"].default == "softmax"  # keras.applications'
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


@pytest.mark.slow
def test_softmax_by_default_and_create_model_returns_logits():
    kwargs = {"weights": None, "classes": 3, "input_shape": (32, 32, 3)}
    logits_model = bit_keras.create_model("BiT-S-R50x1", **kwargs)
    head = logits_model.get_layer("head")
    head.kernel.assign(np.random.default_rng(1).normal(0, 0.1, head.kernel.shape))
    probabilities = applications.BiT_S_R50x1(**kwargs)
    probabilities.set_weights(logits_model.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    logits = logits_model.predict(x, verbose=0)
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(probabilities.predict(x, verbose=0), expected, rtol=1e-5)
    assert np.ptp(logits) > 0.01  # the comparison is not between uniform rows


@pytest.mark.slow
def test_applications_learn_with_a_string_loss():
    # The trap the softmax default closes: a zero-initialised head returning logits under
    # Keras' probability losses stays at ln(classes) forever.
    keras.utils.set_random_seed(0)
    model = applications.BiT_M_R50x1(weights=None, classes=4, input_shape=(32, 32, 3))
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy"
    )
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    y = np.arange(8) % 4
    losses = model.fit(x, y, batch_size=8, epochs=8, verbose=0).history["loss"]
    assert losses[0] == pytest.approx(np.log(4), abs=1e-3)  # a zero head: uniform
    assert losses[-1] < 0.5 * losses[0], f"the loss did not fall: {losses}"


def test_pretrained_head_takes_only_softmax_or_none(tmp_path):
    source = applications.BiT_S_R50x1(weights=None)
    path = tmp_path / "r50.weights.h5"
    source.save_weights(path)
    with pytest.raises(ValueError, match="classifier_activation='sigmoid'"):
        applications.BiT_S_R50x1(weights=path, classifier_activation="sigmoid")
    multi_label = applications.BiT_S_R50x1(weights=None, classes=5, classifier_activation="sigmoid")
    assert multi_label.get_layer("predictions").get_config()["activation"] == "sigmoid"


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
