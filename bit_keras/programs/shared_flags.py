"""The flags several programs share, defined and worded once.

`HELP` holds the help of every shared flag; `define` defines one of them (a program may word
a flag its own way where it means more there: a training program's --model also takes an
architecture). A training program's flags are its config's fields (`define_config_flags`); the
programs that read a model (the exporters, `bit-embed`, `bit-fewshot`) share `ModelFlags` and
`DataFlags`. Loads no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING

from absl import flags

from bit_keras.data.names import IMAGE_CHECKS
from bit_keras.features.embedding_shards import EMBEDDING_FEATURES
from bit_keras.training.config import MIXED_PRECISION, STRATEGIES, RunConfig

if TYPE_CHECKING:
    from collections.abc import Callable

    from bit_keras.data import DataSource
    from bit_keras.pretrained.model_source import ModelSource, ModelSpec

_MODEL_FILE = (
    "a published model (BiT-M-R50x1), an official .npz file, a .keras file such as a run's "
    "model.keras, or timm's layout: model.safetensors, its folder or an "
    "hf-hub:ORG/NAME[@REVISION] repository"
)
_DATASETS = (
    "`digits` (built in), `folder:PATH` (one sub-folder of images per class), `csv:PATH` (a "
    "manifest of image paths and labels), `vtab:TASK` (a VTAB-1k task: its 1,000 training "
    "examples, its test split), or a TFDS name (cifar10)"
)

HELP = {
    # What a program reads
    "model": f"The model: {_MODEL_FILE}.",
    "resolution": "Square input size: images are resized to it whole, as BiT evaluates. "
    "Default: the registry's for published weights (also their timm copies), the crop a run "
    "trained at (its config.json beside the .keras file), the input size in timm's "
    "config.json; else required.",
    "weights": "`default` (the official checkpoint), `none`, or a weights file to transfer "
    "from: an official-layout .npz, timm's model.safetensors (or its folder, or an "
    "hf-hub:ORG/NAME[@REVISION] repository), a run's model.keras, a .weights.h5 (with any head; "
    "the body loads strictly, the head is new, as BiT transfers).",
    "dataset": f"The data: {_DATASETS}.",
    "data_dir": "TFDS data folder (prepared data works offline).",
    "download": "Download and prepare a TFDS data set on first use; --nodownload makes it an "
    "error.",
    "skip_bad_images": "Leave out files of a folder: or csv: data set that are not images or "
    "do not decode (default: list them, stop).",
    "image_check": "How the files of a folder: or csv: data set are checked first: `decode` "
    "each one once (verdicts kept for a resume), or read their `header` only (for very large "
    "data sets; a file that does not decode is then named when it is met: training saves a "
    "checkpoint and stops, or skips it with --skip_bad_images).",
    "features": "`pre_logits` (the head's input; the same as P5 pooled), or the feature map "
    "P2, P3 or P4 (strides 4, 8, 16) averaged over space.",
    # What a program writes
    "logdir": "Checkpoints, TensorBoard logs and the final model.",
    "overwrite": "Replace what is already there (a run in --logdir: its checkpoints, logs and "
    "model; an --output).",
    # How it runs
    "batch_size": "Global batch size.",
    "jit_compile": "Compile with XLA.",
    "steps": "Total steps.",
    "crop": "Training crop and evaluation size.",
    "random_flip": "Random left-right flips (BiT's); --norandom_flip for digits, text.",
    "strategy": "tf.distribute strategy.",
    "tpu": "TPU address (`local` on a TPU VM).",
    "mixed_precision": "Mixed-precision policy (weight standardization stays in float32).",
    "eval_every": "Evaluate every N steps (and at the end).",
    "checkpoint_every": "Checkpoint every N steps. Default: every tenth of the run, and at "
    "least every 10 minutes on one worker. Ctrl-C or SIGTERM also checkpoint (at the current "
    "step) before exiting.",
    "batch_split": "Micro-batches per batch (gradients accumulated).",
    "seed": "Seed of the new weights and of the data order.",
    "log_every": "TensorBoard scalars every N steps.",
    "data_service": "grpc://HOST:PORT of a tf.data service dispatcher (`bit-data-service "
    "dispatcher`) whose workers make the training batches: input beyond this host's CPUs, at "
    "the price of exact order and exact resume.",
    "report": "Write LOGDIR/report.html at the end (--noreport: not; `bit-report LOGDIR` "
    "writes it later from the run's files).",
}

CHOICES = {
    "strategy": STRATEGIES,
    "image_check": IMAGE_CHECKS,
    "mixed_precision": tuple(p for p in MIXED_PRECISION if p),
    "features": EMBEDDING_FEATURES,
}


# A flag's kind (a config field's annotation, less `| None`) -> absl's definer.
_DEFINERS = {
    "bool": flags.DEFINE_boolean,
    "int": flags.DEFINE_integer,
    "float": flags.DEFINE_float,
    "str": flags.DEFINE_string,
}


def define(
    name: str,
    default: object = None,
    help: str | None = None,
    *,
    kind: str | None = None,
    choices: tuple[str, ...] | None = None,
    **kwargs: object,
) -> flags.FlagHolder:
    """Defines the flag `name`, listed by the program's `--help` as its own.

    Args:
        name: The flag.
        default: Its default.
        help: Its help; `HELP[name]` unless given.
        kind: `bool`, `int`, `float` or `str`; unless given, `default`'s type (a string for
            None).
        choices: The values it takes (an enum flag); `CHOICES[name]` unless given.
        **kwargs: absl's (`lower_bound`, ...).
    """
    text = help or HELP[name]
    values = choices or CHOICES.get(name)
    if values is not None:
        holder = flags.DEFINE_enum(name, default, list(values), text, **kwargs)
    else:
        kind = kind or {bool: "bool", int: "int", float: "float"}.get(type(default), "str")
        holder = _DEFINERS[kind](name, default, text, **kwargs)
    # `--help` lists the flags key to the main module; this one is defined here, not there.
    flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[name])
    return holder


def define_config_flags(
    config_class: type[RunConfig],
    help_texts: dict[str, str],
    choices: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, flags.FlagHolder]:
    """Defines one flag per field of a training recipe's config, with the field's default.

    Args:
        config_class: `TrainConfig`, `PretrainConfig`, ...
        help_texts: Help of the recipe's own fields, and of shared fields it words its own way.
        choices: The values of the recipe's own string fields that take one of a few.

    Returns:
        Field name to flag holder, in field order.
    """
    holders = {}
    for field in dataclasses.fields(config_class):
        name = field.name
        kind = field.type.replace(" | None", "")
        if kind not in _DEFINERS:
            raise TypeError(f"No flag type for field {name!r} of type {field.type!r}.")
        default = None if field.default is dataclasses.MISSING else field.default
        holders[name] = define(
            name,
            bool(default) if kind == "bool" else default,
            help_texts.get(name) or HELP[name],
            kind=kind,
            choices=(choices or {}).get(name),
            **({"lower_bound": 1} if name == "batch_size" else {}),
        )
    return holders


@dataclasses.dataclass(frozen=True)
class ModelFlags:
    """--model and --resolution of a program that reads a model."""

    model: flags.FlagHolder
    resolution: flags.FlagHolder

    @classmethod
    def define(cls) -> ModelFlags:
        return cls(model=define("model"), resolution=define("resolution", kind="int"))

    def check(
        self,
        model: str | None = None,
        resolution: int | None = None,
        *,
        min_resolution: int | None = None,
    ) -> ModelSpec:
        """The checked model without TensorFlow (`model` and `resolution` in place of the
        flags' where given): one-line ValueError for an unknown name, a missing file or a
        resolution it needs."""
        from bit_keras.pretrained.model_source import check_model_spec

        source = model or self.model.value
        if not source:
            raise ValueError(f"--model is required: {_MODEL_FILE}.")
        size = resolution or self.resolution.value
        if min_resolution is None:
            return check_model_spec(source, size)
        return check_model_spec(source, size, min_resolution=min_resolution)


def load_model(spec: ModelSpec, out: Callable[[str], object] = print) -> ModelSource:
    """Builds the model a checked --model names, saying what it loads."""
    from bit_keras.pretrained.model_source import load_model_source

    out(
        f"Loading {spec.source} ({spec.kind}); resolution {spec.resolution} from "
        f"{spec.resolution_from} ..."
    )
    return load_model_source(spec)


@dataclasses.dataclass(frozen=True)
class DataFlags:
    """The data flags of `bit-embed` and `bit-fewshot`."""

    dataset: flags.FlagHolder
    data_dir: flags.FlagHolder
    skip_bad_images: flags.FlagHolder
    image_check: flags.FlagHolder

    @classmethod
    def define(cls, dataset_default: str | None = None, dataset_help: str | None = None):
        return cls(
            dataset=define("dataset", dataset_default, dataset_help),
            data_dir=define("data_dir"),
            skip_bad_images=define("skip_bad_images", False),
            image_check=define("image_check", "decode"),
        )

    def check(self) -> None:
        """A --dataset that names nothing fails here, without TensorFlow."""
        from bit_keras.data.names import check_dataset_name

        if self.dataset.value is not None:
            check_dataset_name(self.dataset.value, self.data_dir.value)

    def load(
        self,
        *,
        verdicts_file: str | None = None,
        unlabelled: bool = False,
        out: Callable[[str], object] = print,
    ) -> DataSource:
        """The data set --dataset names (its image files checked as --image_check says)."""
        from bit_keras.data.sources import load_source

        return load_source(
            self.dataset.value,
            self.data_dir.value,
            skip_bad_images=self.skip_bad_images.value,
            image_check=self.image_check.value,
            verdicts_file=verdicts_file,
            out=out,
            unlabelled=unlabelled,
        )


def print_line(line: str) -> None:
    """A program's line, at once (progress goes to a pipe or a log file as it happens)."""
    print(line, flush=True)
