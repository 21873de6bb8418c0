"""--trainable: frozen layers stay bitwise as loaded, the optimizer holds no slots for them."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import bit_keras
from bit_keras.training import TrainConfig, fit_recipe, train
from bit_test_utils import tiny_train_config


def _loaded(official_ckpt):
    return bit_keras.model_from_checkpoint(str(official_ckpt))


def _changed(model, reference) -> dict[str, bool]:
    """Layer name -> whether any of its weights differs from the reference model's."""
    changed = {}
    for layer in model.layers:
        if not layer.weights or layer.name == "head":
            continue
        before = reference.get_layer(layer.name).get_weights()
        changed[layer.name] = any(
            not np.array_equal(a, b) for a, b in zip(layer.get_weights(), before, strict=True)
        )
    return changed


def _momentum_shapes(logdir) -> list[tuple]:
    """The shapes of the optimizer's slots in the run's last checkpoint."""
    checkpoint = tf.train.latest_checkpoint(str(logdir / "checkpoints"))
    return sorted(
        tuple(shape)
        for name, shape in tf.train.list_variables(checkpoint)
        if name.startswith("optimizer/_variables/")
    )


@pytest.mark.parametrize(
    ("trainable", "frozen"),
    [
        ("head", {"root_conv", "block1_unit01", "block2_unit01", "block3_unit01",
                  "block4_unit01", "final_norm"}),
        ("block3", {"root_conv", "block1_unit01", "block2_unit01"}),
    ],
)  # fmt: skip
def test_frozen_layers_do_not_change(official_ckpt, tmp_path, trainable, frozen):
    config = tiny_train_config(tmp_path, weights=str(official_ckpt), trainable=trainable)
    lines = []
    _, model = train(config, out=lines.append, return_model=True)
    changed = _changed(model, _loaded(official_ckpt))
    assert {name for name, moved in changed.items() if not moved} == frozen
    assert all(changed[name] for name in changed if name not in frozen)
    assert np.any(model.get_layer("head").get_weights()[0])  # it trained
    assert f"trainable: {trainable}" in next(line for line in lines if line.startswith("Fine-"))
    assert any(line.startswith(f"Training {trainable}: ") for line in lines)
    # One momentum slot per trainable weight, none for the frozen ones.
    trainable_shapes = sorted(tuple(w.shape) for w in model.trainable_weights)
    assert _momentum_shapes(tmp_path) == trainable_shapes
    assert len(trainable_shapes) == (2 if trainable == "head" else 24)


def test_unknown_trainable_is_refused(tmp_path):
    with pytest.raises(ValueError, match="`trainable` must be one of"):
        TrainConfig(logdir=str(tmp_path), trainable="block5")


def test_fit_recipe_trains_the_head_alone(official_ckpt):
    model = _loaded(official_ckpt)
    recipe = fit_recipe(train_size=64, image_size=(32, 32), batch_size=8, crop=32,
                        resize=32, steps=2, trainable="head")  # fmt: skip
    assert recipe.set_trainable(model) == [
        "root_conv", "block1_unit01", "block2_unit01", "block3_unit01", "block4_unit01",
        "final_norm",
    ]  # fmt: skip
    optimizer = recipe.optimizer()
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    labels = np.eye(10, dtype="float32")[rng.integers(0, 10, 8)]
    model.fit(images, labels, epochs=1, verbose=0)
    assert not any(_changed(model, _loaded(official_ckpt)).values())
    head_before = _loaded(official_ckpt).get_layer("head").get_weights()[0]
    assert not np.array_equal(model.get_layer("head").get_weights()[0], head_before)
    # SGD with momentum: one slot for each of the head's kernel and bias.
    momentums = [v for v in optimizer.variables if "momentum" in v.path]
    assert len(momentums) == 2
