"""What a run is asked to do (fine-tuning, pre-training), and what BiT-HyperRule resolves a
fine-tuning run to."""

from __future__ import annotations

import dataclasses

from bit_keras.data.names import IMAGE_CHECKS
from bit_keras.models.freezing import check_trainable
from bit_keras.pretrained.catalog import check_weights
from bit_keras.training import function_matching, hyperrule, upstream

MIXED_PRECISION = (None, "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunConfig:
    """What every recipe's run shares: the model, the data and the loop's own settings.

    The one home of these defaults: the flags of `bit-train` and `bit-pretrain` take theirs
    from `TrainConfig` and `PretrainConfig`, which add each recipe's fields. Fields are
    keyword-only; `logdir` is required.

    Attributes:
        model: A published model's name (`BiT-M-R50x1`) or an architecture (`R50x1`, `R14x1`).
        weights: `default` (the published model's official checkpoint), `none` (random
            initialisation), a weights file to start from (an official-layout `.npz`,
            published or written by bit_keras; timm's `model.safetensors` or its folder; a
            run's `model.keras`; a `.weights.h5` file) or an `hf-hub:ORG/NAME[@REVISION]`
            repository in timm's layout. The body loads strictly (a body that does not fit
            is an error naming what differs). Fine-tuning always starts a new
            zero-initialised head for the data's classes, as BiT transfers; pre-training keeps
            a head of the data's classes (going on) and starts a new one for other classes.
        dataset: A TFDS name, `folder:PATH`, `csv:PATH`, or `digits` (built in, no download).
        data_dir: TFDS data folder.
        download: Download and prepare a TFDS data set on first use (False: an error).
        skip_bad_images: Leave out the files of a `folder:` or `csv:` data set that are not
            images or do not decode (False: list them and stop before training; under
            `image_check="header"`, a training file found not to decode ends the run as an
            interrupt does, naming it).
        image_check: How the files of a `folder:` or `csv:` data set are checked before
            training: `decode` (each decoded once, in parallel; the verdicts are kept in
            the logdir) or `header` (their first bytes; for data sets too large to decode
            first: the test split is still decoded, a training file is found out when
            training reads it).
        logdir: Checkpoints, TensorBoard logs, the final model and its JSON go here.
        overwrite: Delete the run already in `logdir` (its checkpoints, logs, model and
            JSON; nothing else) and start over there.
        batch_size: Global batch size.
        base_lr: The recipe's learning rate at its base batch, scaled linearly to
            `batch_size` (fine-tuning: 0.003 per 512 images; pre-training: 0.03 per 256).
        steps: Total steps. None: the recipe's.
        crop: Training crop and evaluation size. None: the recipe's.
        random_flip: Random left-right flips (BiT's); off for data where a flip changes the
            class, such as digits.
        strategy: `auto`, `default`, `mirrored`, `multi_worker` or `tpu`.
        tpu: TPU address.
        mixed_precision: None, `mixed_float16` (with loss scaling) or `mixed_bfloat16`.
        jit_compile: Compile the forward and backward pass with XLA.
        eval_every: Evaluate on the test split every N steps (and always at the end).
        checkpoint_every: Checkpoint every N steps (and always at the end). Default: every
            tenth of the run and, on one worker, at least every ten minutes.
        batch_split: Split each batch into this many micro-batches and accumulate gradients.
        seed: Seeds the model's new weights and the data order.
        log_every: TensorBoard scalars every N steps.
    """

    model: str = "BiT-M-R50x1"
    weights: str = "default"
    dataset: str = "digits"
    data_dir: str | None = None
    download: bool = True
    skip_bad_images: bool = False
    image_check: str = "decode"
    logdir: str
    overwrite: bool = False
    batch_size: int = 512
    base_lr: float = hyperrule.BASE_LR
    steps: int | None = None
    crop: int | None = None
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

    def check_files(self) -> None:
        """Checks the recipe's own models and files without TensorFlow (ValueError)."""

    def _positive_fields(self) -> tuple[str, ...]:
        """Integer fields that must be >= 1 where set."""
        return (
            "batch_size",
            "batch_split",
            "log_every",
            "steps",
            "crop",
            "eval_every",
            "checkpoint_every",
        )

    def __post_init__(self):
        for name in self._positive_fields():
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value}")
        if not self.base_lr > 0:
            raise ValueError(f"`base_lr` must be positive. Received: base_lr={self.base_lr}")
        if self.batch_size % self.batch_split:
            raise ValueError(
                f"`batch_size` must be divisible by `batch_split`. Received: "
                f"batch_size={self.batch_size}, batch_split={self.batch_split}"
            )
        if self.image_check not in IMAGE_CHECKS:
            raise ValueError(
                f"`image_check` must be one of {IMAGE_CHECKS}. Received: {self.image_check!r}"
            )
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(
                f"`mixed_precision` must be one of {MIXED_PRECISION}. "
                f"Received: {self.mixed_precision!r}"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(RunConfig):
    """A fine-tuning run (`bit-train`). `None` fields are filled in by BiT-HyperRule.

    The shared fields are `RunConfig`'s; `steps` stretches the rule's schedule, `crop` and
    `resize` override the rule's resolution.

    Attributes:
        resize: Resize before the random crop. None: the rule's.
        examples_per_class: Few-shot: keep exactly K training examples per class.
        examples_per_class_seed: Seed of the few-shot draw.
        mixup_alpha: MixUp's alpha. None: the rule's (0.1 from 20,000 examples up).
        trainable: What trains: `all` (BiT's fine-tuning), `head` (a linear probe on the
            pre-logits) or `block1`..`block4` (that block, the ones after it and the head;
            the root and earlier blocks stay as loaded). See `models.freezing`.
    """

    resize: int | None = None
    examples_per_class: int | None = None
    examples_per_class_seed: int = 0
    mixup_alpha: float | None = None
    trainable: str = "all"

    def _positive_fields(self) -> tuple[str, ...]:
        return (*super()._positive_fields(), "resize", "examples_per_class")

    def __post_init__(self):
        super().__post_init__()
        if self.mixup_alpha is not None and self.mixup_alpha < 0:
            raise ValueError(f"`mixup_alpha` must be >= 0. Received: {self.mixup_alpha}")
        check_trainable(self.trainable)
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class PretrainConfig(RunConfig):
    """An upstream pre-training run (`bit-pretrain`): BiT's own recipe (`upstream`).

    The shared fields are `RunConfig`'s, with the paper's defaults where they differ: an
    architecture from scratch (`R50x1`, `weights="none"`), batch 4,096 and a 224 crop. `steps`
    sets the run's length in steps, `epochs` in passes over the training split (90 when
    neither is given).

    Attributes:
        base_lr: Learning rate per 256 images, scaled linearly to `batch_size` (paper: 0.03).
        weight_decay: L2 penalty on the kernels (paper: 1e-4; 0 for none).
        clip_norm: Clip the gradient's global norm to this (big_vision: 1.0; 0 for none).
        schedule: `paper` (x0.1 after 30, 60 and 80 of 90 epochs) or `cosine` (big_vision's).
        epochs: Passes over the training split; the paper's 90 when `steps` is not given.
        warmup_steps: Steps of linear warm-up. None: the paper's 5,000 at batch 4,096 (the
            same number of images at other batches), at most a fifth of the run.
    """

    model: str = "R50x1"
    weights: str = "none"
    batch_size: int = upstream.BATCH_SIZE
    crop: int | None = upstream.CROP
    base_lr: float = upstream.BASE_LR
    weight_decay: float = upstream.WEIGHT_DECAY
    clip_norm: float = upstream.CLIP_NORM
    schedule: str = "paper"
    epochs: float | None = None
    warmup_steps: int | None = None

    def __post_init__(self):
        super().__post_init__()
        for name in ("weight_decay", "clip_norm"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {name}={getattr(self, name)}")
        if self.schedule not in upstream.SCHEDULES:
            raise ValueError(
                f"`schedule` must be one of {upstream.SCHEDULES}. Received: {self.schedule!r}"
            )
        _check_length(self)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DistillConfig(RunConfig):
    """A distillation run (`bit-distill`): a student learns a frozen teacher's function on the
    same images (`function_matching`: big_vision's defaults, Beyer et al. 2022).

    The shared fields are `RunConfig`'s, with big_vision's defaults where they differ: a
    student architecture from scratch (`R50x1`, `weights="none"`), batch 4,096. `steps` sets
    the run's length in steps, `epochs` in passes over the training split (1,200 when neither
    is given: distillation is patient). Labels are not needed; where the data has them, they
    measure the student and the teacher.

    Attributes:
        teacher: The model whose function is learned: a published name, an official `.npz`,
            a run's `model.keras`, timm's layout or an `hf-hub:` repository. Frozen.
        crop: Inception-crop size, the same for both. None: the teacher's resolution (a
            published model's, or the crop its run trained at), else 224.
        base_lr: Adam's learning rate (big_vision: 0.03), used as it is at any batch size.
        weight_decay: Decoupled weight decay on the kernels, per step and times the schedule
            as big_vision's `wd` (3e-4; 0 for none).
        clip_norm: Clip the gradient's global norm to this (1.0; 0 for none).
        temperature: Of both softmaxes in the KL divergence (1.0).
        mixup_alpha: MixUp on every batch with weights from Beta(alpha, alpha) (1.0).
        epochs: Passes over the training split; 1,200 when `steps` is not given.
        warmup_steps: Linear warm-up, then a cosine decay to 0. None: big_vision's 5,000 at
            batch 4,096 (as many images at other batches), at most a fifth of the run.
    """

    model: str = "R50x1"
    weights: str = "none"
    teacher: str | None = None
    batch_size: int = function_matching.BATCH_SIZE
    base_lr: float = function_matching.LEARNING_RATE
    weight_decay: float = function_matching.WEIGHT_DECAY
    clip_norm: float = function_matching.CLIP_NORM
    temperature: float = function_matching.TEMPERATURE
    mixup_alpha: float = function_matching.MIXUP_ALPHA
    epochs: float | None = None
    warmup_steps: int | None = None

    def __post_init__(self):
        super().__post_init__()
        if not self.teacher:
            raise ValueError("`teacher` is required: the model whose function the student learns.")
        for name in ("weight_decay", "clip_norm", "mixup_alpha"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {name}={getattr(self, name)}")
        if not self.temperature > 0:
            raise ValueError(f"`temperature` must be positive. Received: {self.temperature}")
        _check_length(self)

    def check_files(self) -> None:
        from bit_keras.pretrained.model_source import check_model_spec

        check_model_spec(self.teacher, self.crop, min_resolution=1)


def _check_length(config: PretrainConfig | DistillConfig) -> None:
    """The checks of a run measured in `steps` or `epochs`, with a linear warm-up."""
    if config.epochs is not None and config.steps is not None:
        raise ValueError(
            "Give the run's length once: `steps` or `epochs`, not both. Received: "
            f"steps={config.steps}, epochs={config.epochs}"
        )
    if config.epochs is not None and not config.epochs > 0:
        raise ValueError(f"`epochs` must be positive. Received: epochs={config.epochs}")
    if config.warmup_steps is not None and (
        not isinstance(config.warmup_steps, int) or config.warmup_steps < 0
    ):
        raise ValueError(f"`warmup_steps` must be an integer >= 0. Received: {config.warmup_steps}")
    if config.warmup_steps and config.steps and config.warmup_steps >= config.steps:
        raise ValueError(
            f"`warmup_steps` ({config.warmup_steps}) must be fewer than `steps` ({config.steps})."
        )


def weights_flag(config: RunConfig) -> str | None:
    """`config.weights` as `create_model` takes it (`none` is None)."""
    return None if config.weights == "none" else config.weights


def check_model(config: RunConfig) -> None:
    """Raises ValueError for a model or weights flag that cannot build a model (an unknown
    name, a bare architecture with `default` weights, a missing file); loads no TensorFlow."""
    check_weights(config.model, weights_flag(config))
    config.check_files()
