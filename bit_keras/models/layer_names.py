"""Names of the layers of a BiT ResNet-v2, shared by the builder and the checkpoint layout."""

from __future__ import annotations

import re

ROOT_PAD = "root_pad"
ROOT_CONV = "root_conv"
ROOT_POOL_PAD = "root_pool_pad"
ROOT_POOL = "root_pool"
FINAL_NORM = "final_norm"
FINAL_RELU = "final_relu"
HEAD = "head"
PREDICTIONS = "predictions"

_UNIT_NAME = re.compile(r"^block(\d+)_unit(\d+)$")


def unit_name(block: int, unit: int) -> str:
    """Name of unit `unit` (1-based) of block `block` (1-based), e.g. `block2_unit01`."""
    return f"block{block}_unit{unit:02d}"


def parse_unit_name(name: str) -> tuple[int, int] | None:
    """Returns (block, unit) for a unit layer name, or None for any other name."""
    match = _UNIT_NAME.match(name)
    return (int(match[1]), int(match[2])) if match else None
