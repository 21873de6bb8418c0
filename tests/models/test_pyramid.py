"""feature_maps: P2-P5 at strides 4-32 over the same weights, for any input size and width;
a small FPN on it trains the BiT under every backend."""

import math

import keras
import numpy as np
import pytest

import bit_keras
from bit_keras.models.pyramid import PYRAMID_LEVELS, PYRAMID_STRIDES


def _bit(width=1, input_shape=(None, None, 3), **kwargs):
    return bit_keras.create_model(f"R14x{width}", weights=None, input_shape=input_shape, **kwargs)


@pytest.mark.parametrize("width", [1, 2])
@pytest.mark.parametrize("size", [(64, 64), (65, 47), (96, 128)])
def test_levels_have_their_strides_and_widths(width, size):
    maps = bit_keras.feature_maps(_bit(width, include_top=False))
    assert list(maps.output) == list(PYRAMID_LEVELS)
    out = maps(np.zeros((2, *size, 3), "float32"))
    for level, stride in PYRAMID_STRIDES.items():
        channels = 256 * width * 2 ** (int(level[1]) - 2)  # 256, 512, 1024, 2048 at width 1
        expected = (2, math.ceil(size[0] / stride), math.ceil(size[1] / stride), channels)
        assert tuple(out[level].shape) == expected, level


def test_the_maps_are_the_models_own_tensors_and_weights():
    bit = _bit(input_shape=(64, 64, 3))  # with its head, at a fixed size
    maps = bit_keras.feature_maps(bit)
    assert maps.name == f"{bit.name}_feature_maps"
    body = [w for w in bit.weights if not w.path.startswith("head")]
    assert [id(w) for w in maps.weights] == [id(w) for w in body]
    images = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    p5 = keras.ops.convert_to_numpy(maps(images)["P5"])
    pooled = keras.Model(bit.input, bit.get_layer("final_relu").output)(images)
    np.testing.assert_array_equal(p5, keras.ops.convert_to_numpy(pooled))
    assert p5.min() >= 0  # after the final ReLU
    # P5 pooled is what the head sees: the logits follow from it.
    logits = keras.ops.convert_to_numpy(bit(images))
    head = bit.get_layer("head")
    manual = p5.mean(axis=(1, 2)) @ keras.ops.convert_to_numpy(head.kernel)
    np.testing.assert_allclose(logits, manual + keras.ops.convert_to_numpy(head.bias), atol=1e-5)


def test_a_small_fpn_trains_the_bit_weights():
    bit = _bit(include_top=False, input_shape=(64, 64, 3))
    maps = bit_keras.feature_maps(bit)
    inputs = keras.Input((64, 64, 3))
    levels = maps(inputs)
    top = None
    for level in reversed(PYRAMID_LEVELS):  # top-down: P5 first, upsampled and added
        lateral = keras.layers.Conv2D(16, 1, name=f"lateral_{level}")(levels[level])
        top = lateral if top is None else lateral + keras.layers.UpSampling2D(2)(top)
    masks = keras.layers.Conv2D(3, 3, padding="same", name="mask_head")(top)  # stride 4
    segmenter = keras.Model(inputs, masks)
    segmenter.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    targets = rng.integers(0, 3, (2, 16, 16))
    root = bit.get_layer("root_conv").kernel
    before = keras.ops.convert_to_numpy(root).copy()
    loss = segmenter.train_on_batch(images, targets)
    assert np.isfinite(loss)
    after = keras.ops.convert_to_numpy(root)
    assert np.abs(after - before).max() > 0  # the BiT itself learned


def test_other_models_are_refused():
    plain = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="needs a BiT ResNet-v2"):
        bit_keras.feature_maps(plain)
