r"""Times what the training input costs at scale, on JPEGs cut from scikit-learn's sample
photographs and written by TFDS (no download): a resume's wait for its first batch at 10% and
at 90% of an epoch for each way a split is stored, and the bytes each of 4 input pipelines
reads of a TFDS data set.

Example (a few minutes on 2 CPU cores; docs/benchmarks.md's figures):
    python tools/benchmark_input.py --examples=100000 --files=64
"""

from __future__ import annotations

from absl import app, flags

_EXAMPLES = flags.DEFINE_integer(
    "examples", 100_000, "Examples of the synthetic data set.", lower_bound=640
)
_FILES = flags.DEFINE_integer("files", 64, "Files TFDS writes it in.", lower_bound=4)
_HEIGHT = flags.DEFINE_integer("height", 375, "Image height (ImageNet's are ~500x375).")
_WIDTH = flags.DEFINE_integer("width", 500, "Image width.")
_REPEATS = flags.DEFINE_integer(
    "repeats", 3, "Resumes timed at each position (the median is shown).", lower_bound=1
)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bit_keras._runtime.tf_logs import quiet_tensorflow

    quiet_tensorflow()
    from bit_keras.benchmark.input_speed import run

    run(_EXAMPLES.value, _FILES.value, _REPEATS.value, _HEIGHT.value, _WIDTH.value)


if __name__ == "__main__":
    app.run(main)
