"""The key layouts of BiT weights (the official `.npz` files, timm's state dicts), mapped to the
layers of bit_keras.

The published files (`BiT-M-R50x1.npz` and the others) hold float32 arrays under keys such as
`resnet/block2/unit01/a/proj/standardized_conv2d/kernel`. Keras layer names cannot hold "/",
so this module is the one place that knows how a checkpoint key maps to a model variable:

    checkpoint key (under resnet/)                    bit_keras variable
    root_block/standardized_conv2d/kernel             root_conv.kernel
    block{b}/unit{uu}/{p}/group_norm/{gamma,beta}     block{b}_unit{uu}.{p}_norm.{gamma,beta}
    block{b}/unit{uu}/{p}/standardized_conv2d/kernel  block{b}_unit{uu}.{p}_conv.kernel
    block{b}/unit01/a/proj/standardized_conv2d/kernel block{b}_unit01.a_proj.kernel
    group_norm/{gamma,beta}                           final_norm.{gamma,beta}
    head/conv2d/kernel (1, 1, C, K)                   head.kernel (C, K)
    head/conv2d/bias (K,)                             head.bias

with p in a, b, c: `a` is the pre-activation norm and the first 1x1 convolution.

timm's names (`from_timm`, `to_timm`): `stem.conv.weight` (the root), `stages.{s}.blocks.{u}.`
`norm{1,2,3}.{weight,bias}`, `conv{1,2,3}.weight` and `downsample.conv.weight` for official
block s+1, unit u+1 (parts a, b, c and a/proj), `norm.{weight,bias}`, `head.fc.{weight,bias}`;
kernels OIHW.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import keras
import numpy as np

from bit_keras.checkpoint.npz_file import CheckpointError
from bit_keras.layers import PreActBottleneck
from bit_keras.models import layer_names
from bit_keras.models.bit_resnet_v2 import ROOT_WIDTH

PREFIX = "resnet/"
ROOT_KERNEL = "resnet/root_block/standardized_conv2d/kernel"
FINAL_NORM = "resnet/group_norm"
HEAD_KERNEL = "resnet/head/conv2d/kernel"
HEAD_BIAS = "resnet/head/conv2d/bias"
HEAD_KEYS = (HEAD_KERNEL, HEAD_BIAS)

_CONV = "standardized_conv2d/kernel"
_UNIT_KEY = re.compile(r"^resnet/block(\d+)/unit(\d+)/")


def unit_prefix(block: int, unit: int) -> str:
    """Checkpoint key prefix of a unit, e.g. `resnet/block2/unit01`."""
    return f"{PREFIX}block{block}/unit{unit:02d}"


@dataclasses.dataclass(frozen=True)
class CheckpointArchitecture:
    """What an official checkpoint's keys say about the network that wrote it."""

    block_units: tuple[int, ...]
    width_factor: int
    classes: int | None


def official_variables(model: keras.Model) -> dict[str, keras.Variable]:
    """Maps every official checkpoint key that `model` has a variable for to that variable.

    Args:
        model: A model built by `bit_keras` (`BiTResNetV2`, `create_model`, applications).

    Returns:
        Keys in checkpoint order of layers (root, units, final norm, head); the head keys
        only when the model has its top.

    Raises:
        ValueError: `model` is not a BiT ResNet-v2 built by bit_keras.
    """
    root = _get_layer(model, layer_names.ROOT_CONV)
    variables = {ROOT_KERNEL: root.kernel}
    units = sorted(
        (parsed, layer)
        for layer in model.layers
        if isinstance(layer, PreActBottleneck)
        and (parsed := layer_names.parse_unit_name(layer.name))
    )
    if not units:
        raise ValueError(f"Model {model.name!r} has no BiT units named like 'block1_unit01'.")
    for (block, unit), layer in units:
        prefix = unit_prefix(block, unit)
        for part in "abc":
            norm = getattr(layer, f"{part}_norm")
            variables[f"{prefix}/{part}/group_norm/gamma"] = norm.gamma
            variables[f"{prefix}/{part}/group_norm/beta"] = norm.beta
            variables[f"{prefix}/{part}/{_CONV}"] = getattr(layer, f"{part}_conv").kernel
        if layer.a_proj is not None:
            variables[f"{prefix}/a/proj/{_CONV}"] = layer.a_proj.kernel
    final_norm = _get_layer(model, layer_names.FINAL_NORM)
    variables[f"{FINAL_NORM}/gamma"] = final_norm.gamma
    variables[f"{FINAL_NORM}/beta"] = final_norm.beta
    head = _find_layer(model, layer_names.HEAD)
    if head is not None:
        variables[HEAD_KERNEL] = head.kernel
        variables[HEAD_BIAS] = head.bias
    return variables


def checkpoint_shape(key: str, variable_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape an array has in the checkpoint for a variable of `variable_shape`."""
    if key == HEAD_KERNEL:
        return (1, 1, *variable_shape)  # The official head is a 1x1 convolution.
    return tuple(variable_shape)


def official_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """Returns the model's weights as float32 arrays in the official checkpoint layout."""
    return {
        key: np.asarray(variable.numpy(), dtype=np.float32).reshape(
            checkpoint_shape(key, tuple(variable.shape))
        )
        for key, variable in official_variables(model).items()
    }


def infer_architecture(shapes: Mapping[str, tuple[int, ...]]) -> CheckpointArchitecture:
    """Reads block units, width factor and head size off an official checkpoint's keys.

    Args:
        shapes: Checkpoint key to array shape.

    Raises:
        CheckpointError: the keys are not those of an official BiT checkpoint.
    """
    if ROOT_KERNEL not in shapes:
        raise CheckpointError(
            f"Not an official BiT checkpoint: no key {ROOT_KERNEL!r}. Found keys such as "
            f"{sorted(shapes)[:3]}."
        )
    root_shape = tuple(shapes[ROOT_KERNEL])
    if len(root_shape) != 4 or root_shape[-1] % ROOT_WIDTH:
        raise CheckpointError(
            f"{ROOT_KERNEL!r}: expected shape (7, 7, 3, {ROOT_WIDTH} * width_factor), "
            f"found {root_shape}."
        )
    units: dict[int, set[int]] = {}
    for key in shapes:
        match = _UNIT_KEY.match(key)
        if match:
            units.setdefault(int(match[1]), set()).add(int(match[2]))
    if not units:
        raise CheckpointError("Not an official BiT checkpoint: no 'resnet/block*/unit*' keys.")
    blocks = sorted(units)
    if blocks != list(range(1, len(blocks) + 1)) or any(
        sorted(units[b]) != list(range(1, len(units[b]) + 1)) for b in blocks
    ):
        raise CheckpointError(
            "Checkpoint blocks and units must be numbered from 1 without gaps. Found: "
            + ", ".join(f"block{b}: units {sorted(units[b])}" for b in blocks)
        )
    classes = None
    if HEAD_KERNEL in shapes:
        classes = int(shapes[HEAD_KERNEL][-1])
    return CheckpointArchitecture(
        block_units=tuple(len(units[b]) for b in blocks),
        width_factor=root_shape[-1] // ROOT_WIDTH,
        classes=classes,
    )


def _find_layer(model: keras.Model, name: str):
    return next((layer for layer in model.layers if layer.name == name), None)


def _get_layer(model: keras.Model, name: str):
    layer = _find_layer(model, name)
    if layer is None:
        raise ValueError(
            f"Model {model.name!r} is not a BiT ResNet-v2 built by bit_keras: it has no layer "
            f"named {name!r}."
        )
    return layer


# Some published `.npz` files number their convolutions `.../standardized_conv2d_1/kernel`
# (the TF1 scope names of a second use); big_vision's loader
# (big_vision/models/bit_paper.py, `maybe_convert_big_transfer_format`) rewrites them too.
_NUMBERED_CONV = re.compile(r"/standardized_conv2d_\d+/")


def canonical_keys(arrays: Mapping[str, np.ndarray], source: str = "<arrays>") -> dict:
    """The arrays under the official key names: numbered convolution scopes
    (`standardized_conv2d_3/kernel`) become `standardized_conv2d/kernel`; nothing else changes.

    Raises:
        CheckpointError: two keys name the same weight after the rewrite.
    """
    renamed: dict[str, np.ndarray] = {}
    origin: dict[str, str] = {}
    for key, array in arrays.items():
        name = _NUMBERED_CONV.sub("/standardized_conv2d/", key)
        if name in renamed:
            raise CheckpointError(
                f"Checkpoint {source!r} holds {origin[name]!r} and {key!r}, which name the same "
                f"weight {name!r}."
            )
        renamed[name], origin[name] = array, key
    return renamed


# timm's BiT state dicts (timm/models/resnetv2.py; the Hugging Face Hub's `timm/resnetv2_*_bit`
# repositories): PyTorch names and OIHW kernels. Stage s, block b is the official block s+1,
# unit b+1.
TIMM_TOP = {
    "stem.conv.weight": ROOT_KERNEL,
    "norm.weight": f"{FINAL_NORM}/gamma",
    "norm.bias": f"{FINAL_NORM}/beta",
    "head.fc.weight": HEAD_KERNEL,
    "head.fc.bias": HEAD_BIAS,
}
TIMM_UNIT = {
    **{
        f"{norm}.{param}": f"{part}/group_norm/{name}"
        for norm, part in (("norm1", "a"), ("norm2", "b"), ("norm3", "c"))
        for param, name in (("weight", "gamma"), ("bias", "beta"))
    },
    "conv1.weight": f"a/{_CONV}",
    "conv2.weight": f"b/{_CONV}",
    "conv3.weight": f"c/{_CONV}",
    "downsample.conv.weight": f"a/proj/{_CONV}",
}
_TIMM_UNIT_KEY = re.compile(r"^stages\.(\d+)\.blocks\.(\d+)\.(.+)$")
_OFFICIAL_UNIT_KEY = re.compile(r"^resnet/block(\d+)/unit(\d+)/(.+)$")


def final_features(width_factor: int) -> int:
    """Channels of the pre-logits: block 4's units output 4 x 512 x width."""
    return 4 * 512 * width_factor


def timm_architecture(block_units: tuple[int, ...], width_factor: int) -> str:
    """timm's model name of a BiT (`resnetv2_50x1_bit`; other depths by the same rule)."""
    depth = 2 + 3 * sum(block_units)
    return f"resnetv2_{depth}x{width_factor}_bit"


def official_key_of_timm(key: str) -> str | None:
    """The official key of a timm BiT tensor name, or None for a name BiT has no weight for."""
    if key in TIMM_TOP:
        return TIMM_TOP[key]
    match = _TIMM_UNIT_KEY.match(key)
    if match and match[3] in TIMM_UNIT:
        return f"{unit_prefix(int(match[1]) + 1, int(match[2]) + 1)}/{TIMM_UNIT[match[3]]}"
    return None


def timm_key_of_official(key: str) -> str:
    """timm's tensor name of an official key."""
    top = {official: timm for timm, official in TIMM_TOP.items()}
    if key in top:
        return top[key]
    match = _OFFICIAL_UNIT_KEY.match(key)
    unit = {official: timm for timm, official in TIMM_UNIT.items()}
    if not match or match[3] not in unit:
        raise ValueError(f"{key!r} is not an official BiT key.")
    return f"stages.{int(match[1]) - 1}.blocks.{int(match[2]) - 1}.{unit[match[3]]}"


def from_timm(tensors: Mapping[str, np.ndarray], source: str = "<tensors>") -> dict:
    """timm's BiT tensors as official-layout arrays (kernels OIHW -> HWIO).

    Raises:
        CheckpointError: names that are not those of a timm BiT (all of them listed).
    """
    unknown = [key for key in tensors if official_key_of_timm(key) is None]
    if unknown:
        raise CheckpointError(
            f"{source!r} is not a timm BiT state dict: {len(unknown)} tensor(s) with names a "
            f"BiT has no weight for: {', '.join(sorted(unknown)[:10])}"
            + (" ..." if len(unknown) > 10 else "")
        )
    arrays = {}
    for key, tensor in tensors.items():
        array = np.asarray(tensor)
        arrays[official_key_of_timm(key)] = (
            np.ascontiguousarray(array.transpose(2, 3, 1, 0)) if array.ndim == 4 else array
        )
    return arrays


def to_timm(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Official-layout arrays as timm's BiT tensors (kernels HWIO -> OIHW)."""
    return {
        timm_key_of_official(key): (
            np.ascontiguousarray(array.transpose(3, 2, 0, 1)) if array.ndim == 4 else array
        )
        for key, array in arrays.items()
    }
