"""Lists the published BiT models: architecture, weights tag, head, resolution, parameters.

Example (offline: the registry is part of the package; loads no TensorFlow):
    python tools/list_models.py --pattern='BiT-M-*-ILSVRC2012'
"""

from __future__ import annotations

from absl import app, flags

_PATTERN = flags.DEFINE_string("pattern", "*", "Shell-style filter on the names, e.g. 'BiT-S-*'.")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bit_keras.pretrained.catalog import model_table

    print(model_table(_PATTERN.value))


if __name__ == "__main__":
    app.run(main)
