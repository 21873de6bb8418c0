"""Lists the published BiT models: architecture, weights tag, head, resolution, parameters.

Example (offline: the registry is part of the package; loads no TensorFlow):
    bit-list-models --pattern='BiT-M-*-ILSVRC2012'
"""

from __future__ import annotations

from absl import flags

from bit_keras.programs.runner import start

_PATTERN = flags.DEFINE_string("pattern", "*", "Shell-style filter on the names, e.g. 'BiT-S-*'.")


def _list() -> None:
    from bit_keras.pretrained.catalog import model_table

    print(model_table(_PATTERN.value))


def main() -> None:
    """The `bit-list-models` command (and tools/list_models.py)."""
    start(__name__, _list)
