"""A VTAB-1k run's settings (`bit-vtab`), and each task's fine-tuning run built from them.

BiT-HyperRule as the paper applies it to VTAB-1k (Kolesnikov et al., Section 3.3; the rule's
numbers are `training.hyperrule`'s, from big_transfer's `bit_hyperrule.py`): every task has
1,000 training examples, fewer than 20,000, so 500 steps (warm-up 100, x0.1 after 200, 300
and 400) and no MixUp; SGD with momentum 0.9, 0.003 at batch 512; the resolution by image
size (160 -> 128 below 96x96 pixels, 512 -> 480 above); flips and crops left out where they
change a task's label (`vtab_tasks.VtabTask`). Loads no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import os

from bit_keras._runtime import files
from bit_keras.data.vtab_tasks import VtabTask, select_tasks
from bit_keras.training import hyperrule
from bit_keras.training.config import MIXED_PRECISION, STRATEGIES
from bit_keras.training.finetuning import TrainConfig

# The BiT-M models big_transfer fine-tuned on every VTAB-1k task, three runs each, in
# gs://bit_models/vtab/ (its README, "BiT-M models fine-tuned on the 19 VTAB-1k tasks").
PUBLISHED = "published"
PUBLISHED_MODELS = ("BiT-M-R50x1", "BiT-M-R101x1", "BiT-M-R50x3", "BiT-M-R101x3", "BiT-M-R152x4")
PUBLISHED_RUNS = 3
PUBLISHED_URL = "https://storage.googleapis.com/bit_models/vtab/{model}-run{run}-{task}.npz"
# What a finished run's settings must equal for its result to be this run's.
_SAME_RESULT = (
    "model",
    "weights",
    "dataset",
    "batch_size",
    "base_lr",
    "steps",
    "resize",
    "crop",
    "random_flip",
    "random_crop",
    "seed",
    "mixed_precision",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VtabConfig:
    """VTAB-1k for one model: each task fine-tuned with BiT-HyperRule and scored on its test
    split, or (`evaluate_only`) a checkpoint per task scored as it is.

    Attributes:
        model: A published model's name (`BiT-M-R50x1`) or an architecture (`R50x1`).
        weights: What to fine-tune from, as `TrainConfig.weights` (`default`: the published
            model's checkpoint; an `.npz`, `.keras`, timm's `model.safetensors` or an
            `hf-hub:` repository).
        logdir: One folder per task and run (`TASK/runN`, each a `bit-train` run with its
            report), and the tables (`vtab.json`, `vtab.md`, `vtab.png`, `index.html`).
        tasks: Comma-separated task names or groups (`natural`, `specialized`,
            `structured`). None: all 19.
        runs: Runs per task, with seeds `seed`, `seed + 1`, ... (the paper reports the mean
            of 3).
        data_dir: TFDS data folder.
        download: Download and prepare a task's data on first use.
        batch_size: Global batch size (BiT: 512).
        base_lr: Learning rate at batch 512, scaled to `batch_size` (BiT: 0.003).
        steps: Steps per task. None: the rule's 500 (a smaller number stretches the rule's
            schedule: for a quick look, not for the paper's numbers).
        crop: Training crop and evaluation size of every task. None: the rule's.
        resize: Resize before the random crop. None: the rule's.
        seed: Seed of the first run.
        evaluate_only: Score checkpoints (`checkpoints`) instead of training.
        checkpoints: With `evaluate_only`: a path (or https:// or gs:// URL) with `{task}`
            and `{run}`, or `published` for big_transfer's own VTAB checkpoints of `model`.
        The others are `TrainConfig`'s.
    """

    model: str = "BiT-M-R50x1"
    weights: str = "default"
    logdir: str
    tasks: str | None = None
    runs: int = 1
    data_dir: str | None = None
    download: bool = True
    batch_size: int = hyperrule.BASE_BATCH
    base_lr: float = hyperrule.BASE_LR
    steps: int | None = None
    crop: int | None = None
    resize: int | None = None
    seed: int = 0
    strategy: str = "auto"
    tpu: str | None = None
    mixed_precision: str | None = None
    jit_compile: bool = False
    batch_split: int = 1
    checkpoint_every: int | None = None
    log_every: int = 10
    report: bool = True
    evaluate_only: bool = False
    checkpoints: str | None = None

    def __post_init__(self):
        for name in ("runs", "batch_size", "batch_split", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be positive. Received: {getattr(self, name)}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"`strategy` must be one of {STRATEGIES}. Received: {self.strategy}")
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(
                f"`mixed_precision` must be one of {MIXED_PRECISION[1:]}. "
                f"Received: {self.mixed_precision!r}"
            )
        if self.evaluate_only != bool(self.checkpoints):
            raise ValueError(
                "--evaluate_only scores the checkpoints --checkpoints names: give both or "
                f"neither. Received: evaluate_only={self.evaluate_only}, "
                f"checkpoints={self.checkpoints!r}"
            )
        select_tasks(self.tasks)  # unknown names fail here
        if self.checkpoints:
            check_pattern(self.checkpoints, self.model, self.runs)

    @property
    def selected(self) -> tuple[VtabTask, ...]:
        """The tasks to run, in VTAB's order."""
        return select_tasks(self.tasks)

    def run_dir(self, task: VtabTask, run: int) -> str:
        """The folder of one task's run."""
        return os.path.join(self.logdir, task.name, f"run{run}")

    def task_config(self, task: VtabTask, run: int) -> TrainConfig:
        """The fine-tuning run of `task`'s run `run` (`bit-train --dataset=vtab:TASK`)."""
        return TrainConfig(
            model=self.model,
            weights=self.weights,
            dataset=f"vtab:{task.name}",
            data_dir=self.data_dir,
            download=self.download,
            logdir=self.run_dir(task, run),
            batch_size=self.batch_size,
            base_lr=self.base_lr,
            steps=self.steps,
            crop=self.crop,
            resize=self.resize if task.random_crop else None,
            random_crop=task.random_crop,
            random_flip=task.random_flip,
            # Fewer than 20,000 examples: the rule's MixUp is off (hyperrule.mixup_alpha).
            mixup_alpha=None,
            seed=self.seed + run,
            strategy=self.strategy,
            tpu=self.tpu,
            mixed_precision=self.mixed_precision,
            jit_compile=self.jit_compile,
            batch_split=self.batch_split,
            checkpoint_every=self.checkpoint_every,
            log_every=self.log_every,
            report=self.report,
        )

    def checkpoint(self, task: VtabTask, run: int) -> str:
        """The checkpoint `evaluate_only` scores for `task`'s run `run`."""
        return checkpoint_path(self.checkpoints, self.model, task.name, run)


def check_pattern(pattern: str, model: str, runs: int) -> None:
    """ValueError for a checkpoint pattern that cannot name one file per task and run."""
    if pattern == PUBLISHED:
        if model not in PUBLISHED_MODELS:
            raise ValueError(
                f"--checkpoints=published: big_transfer published VTAB checkpoints of "
                f"{', '.join(PUBLISHED_MODELS)}, not of {model!r}: pass one of them as --model."
            )
        if runs > PUBLISHED_RUNS:
            raise ValueError(
                f"--checkpoints=published has {PUBLISHED_RUNS} runs per task. Received: runs={runs}"
            )
        return
    if "{task}" not in pattern:
        raise ValueError(
            f"--checkpoints needs {{task}} (and {{run}} for several runs), one file per task: "
            f"{pattern!r}"
        )
    if runs > 1 and "{run}" not in pattern:
        raise ValueError(f"--checkpoints needs {{run}} with --runs={runs}: {pattern!r}")
    try:
        pattern.format(task="t", run=0)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(
            f"--checkpoints may hold {{task}} and {{run}} only. Received: {pattern!r}"
        ) from e


def checkpoint_path(pattern: str, model: str, task: str, run: int) -> str:
    """The file (or URL) `pattern` names for one task and run."""
    if pattern == PUBLISHED:
        return PUBLISHED_URL.format(model=model, run=run, task=task)
    return pattern.format(task=task, run=run)


def same_result(previous: dict, config: TrainConfig) -> str | None:
    """The first setting in which a finished run's record (`config.json`'s "config") differs
    from `config`, as `name=previous (now: value)`; None where its result is this run's."""
    now = dataclasses.asdict(config)
    for key in _SAME_RESULT:
        if key in previous and previous[key] != now[key]:
            return f"{key}={previous[key]!r} (now {now[key]!r})"
    return None


def missing_checkpoints(config: VtabConfig) -> str | None:
    """The error for the first task and run whose checkpoint file does not exist (URLs are
    fetched when read, not checked); None where every one is there."""
    for task in config.selected:
        for run in range(config.runs):
            path = config.checkpoint(task, run)
            if path.startswith(("https://", "http://")):
                continue
            if not files.exists(path):
                return (
                    f"--checkpoints {config.checkpoints!r} names no file for VTAB task "
                    f"{task.name}, run {run}: {path!r} does not exist."
                )
    return None
