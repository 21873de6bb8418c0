import numpy as np
import pytest

import bit_keras
from bit_keras import CheckpointError
from bit_keras.checkpoint import infer_architecture, layout
from bit_keras.models.bit_resnet_v2 import BiTResNetV2
from bit_test_utils import FIXTURE_BLOCK_UNITS, FIXTURE_CLASSES


def test_keys_are_exactly_the_official_layout(official_arrays):
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, classes=FIXTURE_CLASSES)
    variables = layout.official_variables(model)
    assert set(variables) == set(official_arrays)
    for key, variable in variables.items():
        assert layout.checkpoint_shape(key, tuple(variable.shape)) == official_arrays[key].shape


def test_headless_model_has_no_head_keys():
    model = BiTResNetV2(FIXTURE_BLOCK_UNITS, 1, include_top=False)
    assert not set(layout.HEAD_KEYS) & set(layout.official_variables(model))


def test_deeper_model_numbers_units_with_two_digits():
    model = BiTResNetV2((2, 1, 12, 1), 1, include_top=False, input_shape=(32, 32, 3))
    keys = layout.official_variables(model)
    assert "resnet/block3/unit12/c/standardized_conv2d/kernel" in keys
    assert "resnet/block1/unit02/a/group_norm/gamma" in keys
    assert "resnet/block1/unit02/a/proj/standardized_conv2d/kernel" not in keys
    assert "resnet/block3/unit01/a/proj/standardized_conv2d/kernel" in keys


def test_official_arrays_round_trip(official_model, official_arrays):
    arrays = layout.official_arrays(official_model)
    assert set(arrays) == set(official_arrays)
    for key, array in arrays.items():
        assert array.dtype == np.float32
        np.testing.assert_array_equal(array, official_arrays[key])


def test_infer_architecture(official_arrays):
    shapes = {key: array.shape for key, array in official_arrays.items()}
    assert infer_architecture(shapes) == layout.CheckpointArchitecture(
        FIXTURE_BLOCK_UNITS, 1, FIXTURE_CLASSES
    )
    r50 = bit_keras.create_model("BiT-M-R50x3", weights=None, input_shape=(32, 32, 3))
    shapes = {k: tuple(v.shape) for k, v in layout.official_variables(r50).items()}
    shapes[layout.HEAD_KERNEL] = (1, 1, *shapes[layout.HEAD_KERNEL])
    assert infer_architecture(shapes) == layout.CheckpointArchitecture((3, 4, 6, 3), 3, 21843)


def test_infer_architecture_rejects_other_layouts(official_arrays):
    shapes = {key: array.shape for key, array in official_arrays.items()}
    with pytest.raises(CheckpointError, match="root_block"):
        infer_architecture({k: v for k, v in shapes.items() if "root" not in k})
    gap = {k.replace("block3/unit01", "block3/unit02"): v for k, v in shapes.items()}
    with pytest.raises(CheckpointError, match="block3: units \\[2\\]"):
        infer_architecture(gap)
    with pytest.raises(CheckpointError, match="64 \\* width_factor"):
        infer_architecture({**shapes, layout.ROOT_KERNEL: (7, 7, 3, 48)})


def test_rejects_models_not_built_by_bit_keras():
    import keras

    other = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    with pytest.raises(ValueError, match="root_conv"):
        layout.official_variables(other)
