"""BiT ResNet-v2 architectures by name (`R50x1`, `R152x4`, ...): depth and width, no weights."""

from __future__ import annotations

import dataclasses
import re

# Units per block of ResNet-50/101/152 (He et al., 2016, arXiv 1512.03385).
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
# Small depths without published weights, for training from scratch and smoke runs; a
# depth counts 2 + 3 * units layers, as the ResNet names do.
SMALL_DEPTHS = {14: (1, 1, 1, 1), 26: (2, 2, 2, 2)}
# The widths of the published BiT models (github.com/google-research/big_transfer).
PUBLISHED = (("R50x1", 50, 1), ("R50x3", 50, 3), ("R101x1", 101, 1), ("R101x3", 101, 3))
PUBLISHED += (("R152x2", 152, 2), ("R152x4", 152, 4))

_NAME = re.compile(r"^R(\d+)x(\d+)$")


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A BiT ResNet-v2 shape.

    Attributes:
        name: `R<depth>x<width>`, e.g. `R50x1`.
        block_units: Units in each of the four blocks.
        width_factor: Width multiplier of every layer.
    """

    name: str
    block_units: tuple[int, ...]
    width_factor: int

    @property
    def keras_name(self) -> str:
        """Default Keras model name, e.g. `r50x1`."""
        return self.name.lower()


ARCHITECTURES: dict[str, Architecture] = {
    name: Architecture(name, DEPTHS[depth], width) for name, depth, width in PUBLISHED
}


def is_architecture_name(name: str) -> bool:
    """Whether `name` has the form of an architecture name (`R<depth>x<width>`)."""
    return isinstance(name, str) and _NAME.match(name) is not None


def architecture(name: str) -> Architecture:
    """An architecture by name: a published one (`R50x1` ... `R152x4`), or any width of
    depth 14, 26, 50, 101 or 152 (`R14x1`, `R26x2`).

    Raises:
        ValueError: `name` is not `R<depth>x<width>` with a known depth and a width >= 1.
    """
    if name in ARCHITECTURES:
        return ARCHITECTURES[name]
    match = _NAME.match(name) if isinstance(name, str) else None
    depths = {**SMALL_DEPTHS, **DEPTHS}
    if not match or int(match[1]) not in depths or int(match[2]) < 1:
        raise ValueError(
            f"Unknown architecture {name!r}: expected R<depth>x<width> with depth in "
            f"{sorted(depths)}, e.g. R50x1."
        )
    return Architecture(name, depths[int(match[1])], int(match[2]))
