r"""Times bit-pretrain's training step and input pipeline against bit-train's, and prints both;
bit-distill's step too, with --teacher.

Pre-training adds weight decay and gradient clipping to the step, and Inception crops to the
input; the forward and backward pass are the same. Random weights and images, no download.

Example (a minute or two on 2 CPU cores):
    python tools/benchmark_recipes.py --model=R50x1 --batch_size=16 --resolution=128

The step with part of the network frozen (bit-train --trainable), against the whole:
    python tools/benchmark_recipes.py --trainable=all,block4,block3,head

bit-distill's step (an R50x1 student of an R101x1 teacher) against bit-train's:
    python tools/benchmark_recipes.py --teacher=R101x1

A quick look on a small BiT:
    python tools/benchmark_recipes.py --model=R14x1 --resolution=64 --source_resolution=80 \
        --repeats=2 --pipeline_batches=4
"""

from __future__ import annotations

from absl import app, flags

_MODEL = flags.DEFINE_string("model", "R50x1", "bit_keras architecture.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 16, "Batch of both recipes.", lower_bound=1)
_RESOLUTION = flags.DEFINE_integer("resolution", 128, "Training crop.", lower_bound=1)
_SOURCE_RESOLUTION = flags.DEFINE_integer(
    "source_resolution", 160, "Size of the images the pipelines crop.", lower_bound=1
)
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed steps per recipe.", lower_bound=1)
_WARMUP = flags.DEFINE_integer("warmup", 2, "Untimed steps before them.", lower_bound=0)
_PIPELINE_BATCHES = flags.DEFINE_integer(
    "pipeline_batches", 20, "Batches read per input pipeline.", lower_bound=1
)
_JIT_COMPILE = flags.DEFINE_boolean("jit_compile", False, "Compile both steps with XLA.")
_TRAINABLE = flags.DEFINE_list(
    "trainable",
    [],
    "Also time bit-train's step with these --trainable choices, the first as the reference "
    "(e.g. all,block3,head).",
)
_TEACHER = flags.DEFINE_string(
    "teacher",
    None,
    "Also time bit-distill's step of --model with a teacher of this architecture (random "
    "weights, folded and frozen as bit-distill loads one) against bit-train's step.",
)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bit_keras._runtime.tf_logs import quiet_tensorflow

    quiet_tensorflow()
    from bit_keras.benchmark.recipes import (
        RecipeBenchmarkConfig,
        distill_steps,
        run,
        trainable_steps,
    )
    from bit_keras.models import architecture
    from bit_keras.models.freezing import check_trainable

    try:
        config = RecipeBenchmarkConfig(
            model=_MODEL.value,
            batch_size=_BATCH_SIZE.value,
            resolution=_RESOLUTION.value,
            source_resolution=_SOURCE_RESOLUTION.value,
            repeats=_REPEATS.value,
            warmup=_WARMUP.value,
            pipeline_batches=_PIPELINE_BATCHES.value,
            jit_compile=_JIT_COMPILE.value,
        )
        for choice in _TRAINABLE.value:
            check_trainable(choice)
        if _TEACHER.value is not None:
            architecture(_TEACHER.value)  # a bad name fails before anything is timed
        run(config)
        if _TRAINABLE.value:
            trainable_steps(config, tuple(_TRAINABLE.value))
        if _TEACHER.value is not None:
            distill_steps(config, _TEACHER.value)
    except ValueError as e:
        raise SystemExit(f"benchmark_recipes: error: {e}") from None


if __name__ == "__main__":
    app.run(main)
