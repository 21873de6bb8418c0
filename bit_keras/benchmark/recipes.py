"""What a recipe costs per step: bit-pretrain's and bit-distill's step against bit-train's.

Both recipes run the same model forward and backward; pre-training adds the L2 weight decay
term and the clipping of the global gradient norm to the step, and Inception crops in place
of resize-and-crop to the input pipeline. `run` times the two steps in turns on the same
batch (two copies of one model) and the two input pipelines on the same images, and prints
pre-training's figure over fine-tuning's. `distill_steps` times bit-distill's step (the
student's forward and backward pass, the frozen teacher's forward pass, KL, AdamW, clipping)
against bit-train's step of the same student. `tools/benchmark_recipes.py` is the program.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from bit_keras import data
from bit_keras._runtime.backend_check import require_tensorflow_backend
from bit_keras.benchmark.compare import interleaved, random_images
from bit_keras.models.freezing import set_trainable
from bit_keras.pretrained.builder import create_model
from bit_keras.training import function_matching, hyperrule, upstream
from bit_keras.training.distillation import TeacherLoss, frozen_teacher, student_optimizer
from bit_keras.training.shared import kernels
from bit_keras.training.train_step import make_replica_step


@dataclasses.dataclass(frozen=True)
class RecipeBenchmarkConfig:
    """What `run` measures.

    Attributes:
        model: A bit_keras architecture (`R50x1`), random weights.
        batch_size: Batch of both steps and pipelines.
        resolution: Training crop of both.
        source_resolution: Size of the images the pipelines read (the crop is taken from them).
        repeats: Timed steps of each recipe (the median is reported).
        warmup: Untimed steps before them.
        pipeline_batches: Batches read from each pipeline for its figure.
        jit_compile: Compile both steps with XLA.
    """

    model: str = "R50x1"
    batch_size: int = 16
    resolution: int = 128
    source_resolution: int = 160
    repeats: int = 5
    warmup: int = 2
    pipeline_batches: int = 20
    jit_compile: bool = False

    def __post_init__(self):
        for name in (
            "batch_size",
            "resolution",
            "source_resolution",
            "repeats",
            "pipeline_batches",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be positive. Received: {getattr(self, name)}")
        if self.source_resolution < self.resolution:
            raise ValueError("`source_resolution` must be at least `resolution`.")


def run(config: RecipeBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """Times bit-train's and bit-pretrain's step and input pipeline; returns the figures.

    Returns:
        `{"step": {"finetune": s, "pretrain": s, "ratio": r}, "pipeline": {...}}` with
        seconds per step and images/s per pipeline.
    """
    require_tensorflow_backend("The recipe benchmark")
    batch, size = config.batch_size, config.resolution
    images = random_images(batch, size, seed=1)
    targets = tf.one_hot(np.arange(batch) % 10, 10)
    calls = {}
    for recipe in ("finetune", "pretrain"):
        model = _model(config)
        extra = {}
        if recipe == "pretrain":
            extra = dict(
                weight_decay=upstream.WEIGHT_DECAY,
                decayed=kernels(model),
                clip_norm=upstream.CLIP_NORM,
            )
        calls[recipe] = _step_call(model, config, images, targets, **extra)
    log(f"Training step of each recipe, {config.model}, batch {batch} at {size} px:")
    seconds = interleaved(calls, config, log, "step")
    step = {**seconds, "ratio": seconds["pretrain"] / seconds["finetune"]}

    source = np.random.default_rng(0).integers(
        0, 256, (4 * batch, config.source_resolution, config.source_resolution, 3), np.uint8
    )
    examples = data.Examples.from_arrays(source, np.arange(len(source)) % 10)
    pipeline = {}
    for recipe, resize in (("finetune", config.source_resolution), ("pretrain", None)):
        dataset = data.train_dataset(
            examples,
            batch_size=batch,
            resize=resize,
            crop=size,
            num_classes=10,
            mixup_alpha=0.0,
            seed=0,
        )
        iterator = iter(dataset)
        next(iterator)  # the pipeline's start-up
        begin = time.perf_counter()
        for _ in range(config.pipeline_batches):
            next(iterator)
        pipeline[recipe] = config.pipeline_batches * batch / (time.perf_counter() - begin)
    pipeline["ratio"] = pipeline["pretrain"] / pipeline["finetune"]
    log(
        f"Per step: bit-train {1000 * step['finetune']:.1f} ms, bit-pretrain "
        f"{1000 * step['pretrain']:.1f} ms: {step['ratio']:.3f}x"
    )
    log(
        f"Input pipeline ({config.source_resolution} px images to {size} px crops): bit-train "
        f"{pipeline['finetune']:.0f} images/s (resize, random crop), bit-pretrain "
        f"{pipeline['pretrain']:.0f} images/s (Inception crop): {pipeline['ratio']:.3f}x"
    )
    return {"step": step, "pipeline": pipeline}


def trainable_steps(
    config: RecipeBenchmarkConfig,
    choices: tuple[str, ...] = ("all", "block3", "head"),
    log: Callable[[str], None] = print,
) -> dict[str, float]:
    """Times bit-train's step with each `--trainable` choice, in turns on the same batch.

    Returns:
        Seconds per step of each choice.
    """
    require_tensorflow_backend("The recipe benchmark")
    batch, size = config.batch_size, config.resolution
    images = random_images(batch, size, seed=1)
    targets = tf.one_hot(np.arange(batch) % 10, 10)
    calls = {}
    for choice in choices:
        model = _model(config)
        set_trainable(model, choice)  # before the optimizer is built on what trains
        calls[choice] = _step_call(model, config, images, targets)
    log(f"bit-train's step by --trainable, {config.model}, batch {batch} at {size} px:")
    seconds = interleaved(calls, config, log, "step")
    first = choices[0]
    log(
        "Per step: "
        + ", ".join(
            f"{choice} {1000 * s:.1f} ms ({seconds[first] / s:.2f}x {first}'s speed)"
            for choice, s in seconds.items()
        )
    )
    return seconds


def distill_steps(
    config: RecipeBenchmarkConfig, teacher: str, log: Callable[[str], None] = print
) -> dict[str, float]:
    """Times bit-distill's step of `config.model` with a `teacher` architecture against
    bit-train's step of the same student, in turns on the same batch.

    The teacher has random weights, folded and frozen as `distillation.load_teacher` makes
    it; the step is `make_replica_step` with `TeacherLoss`, AdamW and clipping, as the
    recipe runs it.

    Returns:
        `{"finetune": s, "distill": s, "ratio": distill / finetune}`, seconds per step.
    """
    require_tensorflow_backend("The recipe benchmark")
    batch, size = config.batch_size, config.resolution
    images = random_images(batch, size, seed=1)
    targets = tf.one_hot(np.arange(batch) % 10, 10)
    student = _model(config)
    lr = function_matching.LEARNING_RATE
    adamw = student_optimizer(student, lr, base_lr=lr, weight_decay=function_matching.WEIGHT_DECAY)
    calls = {
        "finetune": _step_call(_model(config), config, images, targets),
        "distill": _step_call(
            student,
            config,
            images,
            targets,
            optimizer=adamw,
            loss=TeacherLoss(
                frozen_teacher(_model(config, teacher)), function_matching.TEMPERATURE
            ),
            clip_norm=function_matching.CLIP_NORM,
        ),
    }
    log(
        f"bit-distill's step ({config.model} student, {teacher} teacher) against bit-train's "
        f"({config.model}), batch {batch} at {size} px:"
    )
    seconds = interleaved(calls, config, log, "step")
    seconds["ratio"] = seconds["distill"] / seconds["finetune"]
    log(
        f"Per step: bit-train {1000 * seconds['finetune']:.1f} ms, bit-distill "
        f"{1000 * seconds['distill']:.1f} ms: {seconds['ratio']:.3f}x"
    )
    return seconds


def _model(config: RecipeBenchmarkConfig, architecture: str | None = None) -> keras.Model:
    keras.utils.set_random_seed(0)
    size = config.resolution
    return create_model(
        architecture or config.model, weights=None, classes=10, input_shape=(size, size, 3)
    )


def _step_call(model, config, images, targets, optimizer=None, **extra) -> Callable[[], object]:
    """A recipe's compiled replica step on one batch: bit-train's SGD unless `optimizer`,
    built on what trains."""
    if optimizer is None:
        optimizer = keras.optimizers.SGD(0.01, momentum=hyperrule.MOMENTUM)
    optimizer.build(model.trainable_variables)
    step = tf.function(
        make_replica_step(
            model,
            optimizer,
            global_batch=config.batch_size,
            jit_compile=config.jit_compile,
            **extra,
        )
    )
    return lambda: step(images, targets).numpy()
