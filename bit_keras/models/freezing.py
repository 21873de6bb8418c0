"""Which layers of a BiT ResNet-v2 train: all, the head alone, or from a block up.

Fine-tuning part of a network (big_transfer issue 53): `head` trains the head alone (a
linear probe on the pre-logits); `blockK` trains blocks K-4, the final GroupNorm and the head,
and keeps the root and the blocks before K fixed (`block1`: all but the root). Frozen layers
are set `trainable = False` (Keras' own switch): their weights leave
`model.trainable_variables`, so an optimizer built after this holds no slots for them and no
gradient is computed for them. BiT's GroupNorm has no moving statistics, so a frozen layer
computes the same in training and inference.
Loads no TensorFlow: the choices are checked with the flags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras.models import layer_names

if TYPE_CHECKING:
    import keras

TRAINABLE = ("all", "head", "block1", "block2", "block3", "block4")


def check_trainable(trainable: str) -> None:
    """Raises ValueError for a value that is not one of `TRAINABLE`."""
    if trainable not in TRAINABLE:
        raise ValueError(f"`trainable` must be one of {TRAINABLE}. Received: {trainable!r}")


def set_trainable(model: keras.Model, trainable: str = "all") -> list[str]:
    """Freezes the layers of `model` that `trainable` leaves out; the others train.

    Call it before the optimizer is built (before `compile`, or before a first step):
    an optimizer built earlier holds slots for every weight.

    Args:
        model: A BiT ResNet-v2 built by bit_keras.
        trainable: `all`, `head` (the head alone), or `block1`..`block4` (that block and
            every layer after it, with the head).

    Returns:
        The names of the frozen layers that hold weights, in model order.

    Raises:
        ValueError: an unknown `trainable`, a model without blocks of units, or `head` for
            a model without its head.

    Example:
    >>> import bit_keras
    >>> model = bit_keras.create_model("R14x1", weights=None, input_shape=(32, 32, 3))
    >>> set_trainable(model, "block4")
    ['root_conv', 'block1_unit01', 'block2_unit01', 'block3_unit01']
    """
    check_trainable(trainable)
    blocks = {}
    for layer in model.layers:
        parsed = layer_names.parse_unit_name(layer.name)
        if parsed:
            blocks[layer.name] = parsed[0]
    if sorted(set(blocks.values())) != [1, 2, 3, 4]:
        raise ValueError(
            "set_trainable needs a BiT ResNet-v2 (four blocks of `block{b}_unit{uu}` layers, "
            f"as bit_keras builds them). Received: a model named {model.name!r}"
        )
    names = {layer.name for layer in model.layers}
    if trainable == "head" and layer_names.HEAD not in names:
        raise ValueError(
            f"`trainable='head'` trains the head alone, and {model.name!r} has none "
            "(include_top=False)."
        )
    # The first block that trains: 0 for the root too, 5 for none.
    first_block = {"all": 0, "head": 5}.get(trainable)
    if first_block is None:
        first_block = int(trainable.removeprefix("block"))
    model.trainable = True
    frozen = []
    for layer in model.layers:
        if layer.name in blocks:
            train = blocks[layer.name] >= first_block
        elif layer.name == layer_names.HEAD:
            train = True
        elif layer.name == layer_names.FINAL_NORM:  # after block 4
            train = first_block <= 4
        else:  # the root, before block 1
            train = first_block == 0
        layer.trainable = train
        if not train and layer.weights:
            frozen.append(layer.name)
    return frozen
