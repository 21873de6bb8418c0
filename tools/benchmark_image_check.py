r"""Times the image check of folder: and csv: data sets (`--image_check`): each image decoded
once, against a look at its first bytes, on synthetic JPEGs (no download).

Example (about a minute on 2 CPU cores; the README's figure):
    python tools/benchmark_image_check.py --images=10000 --height=375 --width=500
"""

from __future__ import annotations

from absl import app, flags

_IMAGES = flags.DEFINE_integer("images", 10_000, "Images to write and check.", lower_bound=1)
_HEIGHT = flags.DEFINE_integer(
    "height", 375, "Image height (ImageNet's are ~400x350).", lower_bound=1
)
_WIDTH = flags.DEFINE_integer("width", 500, "Image width.", lower_bound=1)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bit_keras._runtime.tf_logs import quiet_tensorflow

    quiet_tensorflow()
    from bit_keras.benchmark.image_check import run

    run(_IMAGES.value, _HEIGHT.value, _WIDTH.value)


if __name__ == "__main__":
    app.run(main)
