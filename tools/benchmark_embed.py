r"""Times bit-embed (reading, decoding, resizing and embedding JPEGs) against the model's own
inference figure (tools/benchmark.py's: one batch of tensors already in memory), on the same
random-weight BiT, batch and resolution. Synthetic JPEGs, no download.

Example (a few minutes on 2 CPU cores; the README's figure):
    python tools/benchmark_embed.py --model=R50x1 --batch_size=16 --resolution=224 --images=320

A quick look on a small BiT:
    python tools/benchmark_embed.py --model=R14x1 --resolution=64 --images=32 --repeats=2
"""

from __future__ import annotations

from absl import app, flags

_MODEL = flags.DEFINE_string("model", "R50x1", "bit_keras architecture.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 16, "Batch of both figures.", lower_bound=1)
_RESOLUTION = flags.DEFINE_integer("resolution", 224, "Image size of both.", lower_bound=1)
_IMAGES = flags.DEFINE_integer("images", 320, "Synthetic JPEGs to embed.", lower_bound=1)
_HEIGHT = flags.DEFINE_integer("height", 375, "Their height.", lower_bound=1)
_WIDTH = flags.DEFINE_integer("width", 500, "Their width.", lower_bound=1)
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed inference calls.", lower_bound=1)
_JIT_COMPILE = flags.DEFINE_boolean("jit_compile", False, "XLA for both.")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bit_keras._runtime.tf_logs import quiet_tensorflow

    quiet_tensorflow()
    from bit_keras.benchmark.embed_speed import EmbedBenchmarkConfig, run

    run(
        EmbedBenchmarkConfig(
            model=_MODEL.value,
            batch_size=_BATCH_SIZE.value,
            resolution=_RESOLUTION.value,
            images=_IMAGES.value,
            height=_HEIGHT.value,
            width=_WIDTH.value,
            repeats=_REPEATS.value,
            jit_compile=_JIT_COMPILE.value,
        )
    )


if __name__ == "__main__":
    app.run(main)
