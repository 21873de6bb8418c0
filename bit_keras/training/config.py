"""What every run shares (`RunConfig`): the model, the data and the loop's own settings.

Each recipe's config subclasses it in the recipe's module (`finetuning.TrainConfig`,
`pretraining.PretrainConfig`, `distillation.DistillConfig`) with its own fields and
defaults. Loads no TensorFlow: programs check their flags with it first."""

from __future__ import annotations

import dataclasses

from bit_keras.data.names import IMAGE_CHECKS
from bit_keras.data.service import check_address
from bit_keras.pretrained.catalog import check_weights

MIXED_PRECISION = (None, "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunConfig:
    """What every recipe's run shares: the model, the data and the loop's own settings.

    The one home of these defaults: a program's flags take theirs from its recipe's config
    (`TrainConfig`, `PretrainConfig`, `DistillConfig`), which adds the recipe's fields (its
    learning rate among them). Fields are keyword-only; `logdir` is required.

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
        report: Write `report.html` at the end of the run (`tools/report.py LOGDIR` writes it
            later from the run's files, which are kept either way).
        data_service: `grpc://HOST:PORT` of a tf.data service dispatcher whose workers make
            the training batches (`data/service.py`): for input faster than this host's CPUs,
            at the price of exact order and exact resume. None: this host makes them.
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
    report: bool = True
    data_service: str | None = None

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

    def _positive_numbers(self) -> tuple[str, ...]:
        """Number fields that must be > 0 (a recipe's learning rate)."""
        return ()

    def __post_init__(self):
        for name in self._positive_numbers():
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"`{name}` must be positive. Received: {name}={value}")
        for name in self._positive_fields():
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value}")
        if self.batch_size % self.batch_split:
            raise ValueError(
                f"`batch_size` must be divisible by `batch_split`. Received: "
                f"batch_size={self.batch_size}, batch_split={self.batch_split}"
            )
        if self.image_check not in IMAGE_CHECKS:
            raise ValueError(
                f"`image_check` must be one of {IMAGE_CHECKS}. Received: {self.image_check!r}"
            )
        if self.data_service is not None:
            check_address(self.data_service)
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(
                f"`mixed_precision` must be one of {MIXED_PRECISION}. "
                f"Received: {self.mixed_precision!r}"
            )


def check_length(config: RunConfig) -> None:
    """The checks of a config measured in `steps` or `epochs` (fields `epochs` and
    `warmup_steps`), with a linear warm-up."""
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
