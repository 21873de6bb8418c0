"""The feature maps of a BiT ResNet-v2 at strides 4, 8, 16 and 32, for detection and
segmentation necks (FPN, RetinaNet, DeepLab, DPT-hybrid).

`feature_maps(model)` is a functional model over the same layers and weights (nothing is
copied: training it trains the BiT), whose outputs are keras-hub's `pyramid_outputs` names:

| level | stride | tensor |
|-------|--------|--------|
| P2 | 4 | the output of block 1's last unit |
| P3 | 8 | the output of block 2's last unit |
| P4 | 16 | the output of block 3's last unit |
| P5 | 32 | `final_relu`: block 4's output after the final GroupNorm and ReLU |

Why these: in a pre-activation ResNet a block's output is a sum of residuals that no layer
has normalised yet (the next unit normalises it first, inside itself), and the last block's
is normalised by the network's own final GroupNorm and ReLU. So P2-P4 are the blocks' raw
outputs and P5 the normalised one, as timm's `features_only` gives a ResNetV2 (its feature
modules `stages.0-2` and `norm`); a neck's 1x1 lateral convolutions (FPN) rescale them.
Normalising P2-P4 here would need GroupNorm layers the checkpoint does not have.
"""

from __future__ import annotations

import keras

from bit_keras.models import layer_names

PYRAMID_LEVELS = ("P2", "P3", "P4", "P5")
# The stride of each level: the root's conv and max-pool halve twice (4), blocks 2-4 once each.
PYRAMID_STRIDES = {"P2": 4, "P3": 8, "P4": 16, "P5": 32}


def feature_maps(model: keras.Model, *, name: str | None = None) -> keras.Model:
    """A model over `model`'s weights whose outputs are its feature maps `{"P2": ..., "P5":
    ...}` at strides 4, 8, 16 and 32 (see the module docstring for which tensors).

    Works under every backend and for any input size the model takes: build the model with
    `input_shape=(None, None, 3)` for images of any size (level Pk is ceil(size / 2**k)).

    Args:
        model: A BiT ResNet-v2 (`bit_keras.create_model`, `BiTResNetV2`), with or without
            its head.
        name: The new model's name (default: `<model>_feature_maps`).

    Returns:
        A functional `keras.Model` sharing `model`'s layers.

    Raises:
        ValueError: `model` is not a BiT ResNet-v2 of four blocks.

    Example:
    >>> import numpy as np, bit_keras
    >>> bit = bit_keras.create_model("R14x1", weights=None, include_top=False,
    ...                              input_shape=(None, None, 3))
    >>> maps = bit_keras.feature_maps(bit)(np.zeros((1, 64, 96, 3), "float32"))
    >>> {k: tuple(v.shape) for k, v in maps.items()}["P3"]
    (1, 8, 12, 512)
    """
    last_units: dict[int, tuple[int, str]] = {}  # block -> (unit, name) of its last unit
    for layer in model.layers:
        parsed = layer_names.parse_unit_name(layer.name)
        if parsed:
            block, unit = parsed
            last_units[block] = max(last_units.get(block, (0, "")), (unit, layer.name))
    names = {layer.name for layer in model.layers}
    if sorted(last_units) != [1, 2, 3, 4] or layer_names.FINAL_RELU not in names:
        raise ValueError(
            "feature_maps needs a BiT ResNet-v2 (four blocks of `block{b}_unit{uu}` layers and "
            f"`{layer_names.FINAL_RELU}`, as bit_keras builds them). Received: a model named "
            f"{model.name!r} with blocks {sorted(last_units)}"
        )
    outputs = {f"P{block + 1}": model.get_layer(last_units[block][1]).output for block in (1, 2, 3)}
    outputs["P5"] = model.get_layer(layer_names.FINAL_RELU).output
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs  # as the model takes them
    return keras.Model(inputs, outputs, name=name or f"{model.name}_feature_maps")
