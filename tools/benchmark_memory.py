r"""Whether a long run's memory stays flat: the resident memory of a `tools/train.py` process
(R14x1 on digits with evaluations, checkpoints and summaries) and of a `tools/embed.py`
process over a `csv:` data set of small JPEGs written here (no download), after a warm-up and
at the end.

Example (docs/benchmarks.md's figures):
    python tools/benchmark_memory.py --steps=5000 --images=100000
"""

from __future__ import annotations

from absl import app, flags

_STEPS = flags.DEFINE_integer("steps", 5_000, "Training steps.", lower_bound=20)
_IMAGES = flags.DEFINE_integer("images", 100_000, "Images to embed.", lower_bound=2000)
_WARM_UP = flags.DEFINE_float(
    "warm_up", 0.2, "The part of the work after which memory is measured first.", 0.0, 0.9
)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bit_keras._runtime.tf_logs import quiet_tensorflow

    quiet_tensorflow()
    from bit_keras.benchmark.memory import run

    for figure in run(_STEPS.value, _IMAGES.value, _WARM_UP.value):
        print(
            f"  {figure.unit} / MiB: "
            + ", ".join(f"{done:,}: {size / 2**20:,.0f}" for done, size in figure.samples)
        )


if __name__ == "__main__":
    app.run(main)
