"""What a fine-tuning run is asked to do, and what BiT-HyperRule resolves it to."""

from __future__ import annotations

import dataclasses

from bit_keras.training import hyperrule

MIXED_PRECISION = (None, "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """A fine-tuning run. `None` fields are filled in by BiT-HyperRule.

    The one home of the run's defaults: the `bit-train` flags take theirs from here. Fields
    are keyword-only; `logdir` is required.

    Attributes:
        model: A published model's name (`BiT-M-R50x1`) or an architecture (`R50x1`, `R14x1`).
        weights: `default` (the published model's official checkpoint), `none` (random
            initialisation) or the path of an official `.npz` or a `.weights.h5` file.
        dataset: A TFDS name, `folder:PATH`, or `digits` (built in, no download).
        data_dir: TFDS data folder.
        download: Download and prepare a TFDS data set on first use (False: an error).
        skip_bad_images: Leave out the files of a `folder:` data set that are not images
            (False: list them and stop before training).
        logdir: Checkpoints, TensorBoard logs, the final model and its JSON go here.
        overwrite: Delete the run already in `logdir` (its checkpoints, logs, model and
            JSON; nothing else) and start over there.
        batch_size: Global batch size.
        base_lr: Learning rate at batch 512, scaled linearly to `batch_size`.
        steps: Total steps; the HyperRule schedule is stretched to it. None: the rule's.
        resize: Resize before the random crop. None: the rule's.
        crop: Training crop and evaluation size. None: the rule's.
        examples_per_class: Few-shot: keep exactly K training examples per class.
        examples_per_class_seed: Seed of the few-shot draw.
        mixup_alpha: MixUp's alpha. None: the rule's (0.1 from 20,000 examples up).
        random_flip: Random left-right flips (the rule's); off for data where a flip changes
            the class, such as digits.
        strategy: `auto`, `default`, `mirrored`, `multi_worker` or `tpu`.
        tpu: TPU address.
        mixed_precision: None, `mixed_float16` (with loss scaling) or `mixed_bfloat16`.
        jit_compile: Compile the forward and backward pass with XLA.
        eval_every: Evaluate on the test split every N steps (and always at the end).
        checkpoint_every: Checkpoint every N steps (and always at the end). Default: every
            tenth of the run and, on one worker, at least every ten minutes.
        batch_split: Split each batch into this many micro-batches and accumulate gradients.
        seed: Seeds the model's new weights and the data order.
        log_every: Print progress every N steps.
    """

    model: str = "BiT-M-R50x1"
    weights: str = "default"
    dataset: str = "digits"
    data_dir: str | None = None
    download: bool = True
    skip_bad_images: bool = False
    logdir: str
    overwrite: bool = False
    batch_size: int = 512
    base_lr: float = hyperrule.BASE_LR
    steps: int | None = None
    resize: int | None = None
    crop: int | None = None
    examples_per_class: int | None = None
    examples_per_class_seed: int = 0
    mixup_alpha: float | None = None
    random_flip: bool = True
    strategy: str = "auto"
    tpu: str | None = None
    mixed_precision: str | None = None
    jit_compile: bool = False
    eval_every: int | None = None
    checkpoint_every: int | None = None
    batch_split: int = 1
    seed: int = 0
    log_every: int = 10

    def __post_init__(self):
        positive = {
            "batch_size": self.batch_size,
            "batch_split": self.batch_split,
            "log_every": self.log_every,
        }
        optional_counts = (
            "steps",
            "resize",
            "crop",
            "examples_per_class",
            "eval_every",
            "checkpoint_every",
        )
        for optional in optional_counts:
            if getattr(self, optional) is not None:
                positive[optional] = getattr(self, optional)
        for name, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value}")
        if not self.base_lr > 0:
            raise ValueError(f"`base_lr` must be positive. Received: base_lr={self.base_lr}")
        if self.mixup_alpha is not None and self.mixup_alpha < 0:
            raise ValueError(f"`mixup_alpha` must be >= 0. Received: {self.mixup_alpha}")
        if self.batch_size % self.batch_split:
            raise ValueError(
                f"`batch_size` must be divisible by `batch_split`. Received: "
                f"batch_size={self.batch_size}, batch_split={self.batch_split}"
            )
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(
                f"`mixed_precision` must be one of {MIXED_PRECISION}. "
                f"Received: {self.mixed_precision!r}"
            )
        if self.resize and self.crop and self.crop > self.resize:
            raise ValueError(f"`crop` ({self.crop}) must not exceed `resize` ({self.resize}).")


@dataclasses.dataclass(frozen=True)
class ResolvedConfig:
    """The numbers a run trains with, after BiT-HyperRule and the overrides."""

    train_size: int
    test_size: int
    num_classes: int
    resize: int
    crop: int
    schedule: hyperrule.Schedule
    mixup_alpha: float
    learning_rate: float


def resolve(
    config: TrainConfig, train_size: int, test_size: int, num_classes: int, image_size
) -> ResolvedConfig:
    """Applies BiT-HyperRule to a data set, then the config's overrides."""
    rule = hyperrule.settings(
        train_size,
        image_size,
        config.batch_size,
        base_lr=config.base_lr,
        steps=config.steps,
        resize=config.resize,
        crop=config.crop,
        mixup_alpha=config.mixup_alpha,
    )
    return ResolvedConfig(
        train_size=train_size,
        test_size=test_size,
        num_classes=num_classes,
        resize=rule.resize,
        crop=rule.crop,
        schedule=rule.schedule,
        mixup_alpha=rule.mixup_alpha,
        learning_rate=rule.learning_rate,
    )
