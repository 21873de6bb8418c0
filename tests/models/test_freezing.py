"""set_trainable: which layers train for each choice; refusals named."""

import pytest

import bit_keras
from bit_keras.models.freezing import set_trainable


@pytest.fixture(scope="module")
def model():
    return bit_keras.create_model("R14x1", weights=None, input_shape=(32, 32, 3), classes=10)


@pytest.mark.parametrize(
    ("trainable", "frozen", "trainable_weights"),
    [
        ("all", [], 45),
        ("block1", ["root_conv"], 44),
        ("block3", ["root_conv", "block1_unit01", "block2_unit01"], 24),
        ("block4", ["root_conv", "block1_unit01", "block2_unit01", "block3_unit01"], 14),
        ("head", ["root_conv", "block1_unit01", "block2_unit01", "block3_unit01",
                  "block4_unit01", "final_norm"], 2),
    ],
)  # fmt: skip
def test_each_choice_freezes_what_comes_before(model, trainable, frozen, trainable_weights):
    assert set_trainable(model, trainable) == frozen
    assert len(model.trainable_weights) == trainable_weights
    assert len(model.weights) == 45
    trainable_layers = {w.path.split("/")[0] for w in model.trainable_weights}
    assert "head" in trainable_layers and not trainable_layers & set(frozen)
    set_trainable(model, "all")
    assert len(model.trainable_weights) == 45


def test_refusals_are_named(model):
    with pytest.raises(ValueError, match="`trainable` must be one of"):
        set_trainable(model, "block0")
    body = bit_keras.create_model("R14x1", weights=None, include_top=False, input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="has none"):
        set_trainable(body, "head")
    assert len(set_trainable(body, "block2")) == 2
