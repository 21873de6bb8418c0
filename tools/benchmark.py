r"""Times a bit_keras BiT against keras.applications ResNet50V2, side by side, and prints ratios.

Inference throughput, batch-1 latency, bit-train's training step and LiteRT latency of the
TFLite exports (float32, float16, int8), each model timed in turns, medians of --repeats;
random weights and images (speed does not depend on them; nothing is downloaded). Prints a
table with BiT's figure over ResNet50V2's and writes it all to --output as JSON.

Example (about 10 minutes on 2 CPU cores, most of it the six TFLite conversions):
    python tools/benchmark.py --output=/tmp/benchmark.json

A quick look, without TFLite; and on a GPU with mixed precision and XLA:
    python tools/benchmark.py --figures=inference,latency,train --repeats=3
    python tools/benchmark.py --mixed_precision=mixed_float16 --jit_compile --batch_size=128 \
        --train_batch_size=128 --figures=inference,latency,train
"""

from __future__ import annotations

import json
import sys

from absl import app, flags

_MODEL = flags.DEFINE_string("model", "R50x1", "bit_keras architecture or published name.")
_CLASSES = flags.DEFINE_integer("classes", 1000, "Classes of both heads.", lower_bound=1)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 16, "Inference throughput's batch.", lower_bound=1)
_RESOLUTION = flags.DEFINE_integer(
    "resolution", 224, "Inference throughput's image size.", lower_bound=32
)
_LATENCY_RESOLUTION = flags.DEFINE_integer(
    "latency_resolution", 224, "Image size of the batch-1 and TFLite latency.", lower_bound=32
)
_TRAIN_BATCH_SIZE = flags.DEFINE_integer(
    "train_batch_size", 16, "The training step's batch.", lower_bound=1
)
_TRAIN_RESOLUTION = flags.DEFINE_integer(
    "train_resolution", 128, "The training step's image size.", lower_bound=32
)
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed calls per figure and model.", lower_bound=1)
_WARMUP = flags.DEFINE_integer("warmup", 2, "Untimed calls before them.", lower_bound=0)
_FIGURES = flags.DEFINE_list(
    "figures", ["inference", "latency", "train", "tflite"], "What to measure, comma-separated."
)
_TFLITE_MODES = flags.DEFINE_list(
    "tflite_modes", ["float32", "float16", "int8"], "TFLite export modes to time."
)
_MIXED_PRECISION = flags.DEFINE_enum(
    "mixed_precision", None, ["mixed_float16", "mixed_bfloat16"], "Keras policy of both models."
)
_JIT_COMPILE = flags.DEFINE_boolean("jit_compile", False, "XLA for inference and training.")
_THREADS = flags.DEFINE_integer("threads", 2, "LiteRT's threads.", lower_bound=1)
_PROFILE = flags.DEFINE_boolean(
    "profile",
    False,
    "Also print the TensorFlow profiler's time by op type of inference (with the same "
    "--mixed_precision and --jit_compile).",
)
_CACHE_KERNELS = flags.DEFINE_boolean(
    "cache_kernels",
    True,
    "Time BiT's inference with its standardized kernels cached (bit_keras.layers."
    "cached_standardization); --nocache_kernels recomputes them on every call.",
)
_OUTPUT = flags.DEFINE_string("output", None, "Write the figures here as JSON.")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bit_keras._runtime.tf_logs import quiet_tensorflow

    quiet_tensorflow()
    from bit_keras.benchmark import compare

    try:
        config = compare.BenchmarkConfig(
            model=_MODEL.value,
            classes=_CLASSES.value,
            batch_size=_BATCH_SIZE.value,
            resolution=_RESOLUTION.value,
            latency_resolution=_LATENCY_RESOLUTION.value,
            train_batch_size=_TRAIN_BATCH_SIZE.value,
            train_resolution=_TRAIN_RESOLUTION.value,
            repeats=_REPEATS.value,
            warmup=_WARMUP.value,
            figures=tuple(_FIGURES.value),
            tflite_modes=tuple(_TFLITE_MODES.value),
            mixed_precision=_MIXED_PRECISION.value,
            jit_compile=_JIT_COMPILE.value,
            threads=_THREADS.value,
            profile=_PROFILE.value,
            cache_kernels=_CACHE_KERNELS.value,
        )
        record = compare.run(config, log=lambda line: print(line, flush=True))
    except ValueError as e:
        sys.exit(f"benchmark: error: {e}")
    print()
    print(compare.format_table(record))
    if _OUTPUT.value:
        from bit_keras._runtime.atomic_write import save_atomically

        def write(path: str) -> None:
            with open(path, "w") as f:
                json.dump(record, f, indent=2)

        save_atomically(_OUTPUT.value, write)
        print(f"\nWrote {_OUTPUT.value}")


if __name__ == "__main__":
    app.run(main)
