r"""Times what a very large folder: or csv: data set costs before training starts: seconds and
peak memory from a `tools/pretrain.py` command to its first step (--image_check=header), on
small JPEGs written here (no download); and the size and load time of the decode check's kept
verdicts for as many files.

Example (writes 1,000,000 files, about 1 GB; docs/benchmarks.md's figures):
    python tools/benchmark_startup.py --images=1000000
"""

from __future__ import annotations

from absl import app, flags

_IMAGES = flags.DEFINE_integer("images", 1_000_000, "Image files to write.", lower_bound=2000)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bit_keras._runtime.tf_logs import quiet_tensorflow

    quiet_tensorflow()
    from bit_keras.benchmark.startup import run

    run(_IMAGES.value)


if __name__ == "__main__":
    app.run(main)
