"""What `bit-embed` and `bit-fewshot` share: the model, data and feature flags, checked before
TensorFlow loads, and the model and data they name.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from absl import flags

from bit_keras.data.names import IMAGE_CHECKS
from bit_keras.features.embedding_job import EMBEDDING_FEATURES, PRE_LOGITS

if TYPE_CHECKING:
    from bit_keras.data import DataSource
    from bit_keras.pretrained import ModelSource, ModelSpec


@dataclasses.dataclass(frozen=True)
class FeatureFlags:
    """Holders of the flags both programs have."""

    model: flags.FlagHolder
    resolution: flags.FlagHolder
    dataset: flags.FlagHolder
    data_dir: flags.FlagHolder
    features: flags.FlagHolder
    batch_size: flags.FlagHolder
    jit_compile: flags.FlagHolder
    skip_bad_images: flags.FlagHolder
    image_check: flags.FlagHolder


def define_feature_flags(dataset_default: str | None = None) -> FeatureFlags:
    """Defines the model, data and feature flags, listed by the program's --help."""
    holders = FeatureFlags(
        model=flags.DEFINE_string(
            "model",
            None,
            "A published model (BiT-M-R50x1), an official .npz file, a .keras file such as a "
            "fine-tuning run's model.keras, or timm's layout: model.safetensors, its folder or "
            "an hf-hub:ORG/NAME[@REVISION] repository.",
        ),
        resolution=flags.DEFINE_integer(
            "resolution",
            None,
            "Square size the images are resized to (the whole image, as BiT evaluates). "
            "Default: the registry's for published weights (also their timm copies), the crop "
            "a run trained at (its config.json beside the .keras file), the input size in "
            "timm's config.json; else required.",
        ),
        dataset=flags.DEFINE_string(
            "dataset",
            dataset_default,
            "`digits` (built in), `folder:PATH` (class sub-folders; bit-embed also takes a "
            "folder of images without them, unlabelled), `csv:PATH` (a manifest), or a TFDS "
            "name (cifar10).",
        ),
        data_dir=flags.DEFINE_string(
            "data_dir", None, "TFDS data folder (prepared data works offline)."
        ),
        features=flags.DEFINE_enum(
            "features",
            PRE_LOGITS,
            list(EMBEDDING_FEATURES),
            "`pre_logits` (the head's input; the same as P5 pooled), or the feature map P2, "
            "P3 or P4 (strides 4, 8, 16) averaged over space.",
        ),
        batch_size=flags.DEFINE_integer("batch_size", 64, "Images per batch.", lower_bound=1),
        jit_compile=flags.DEFINE_boolean("jit_compile", False, "Compile the model with XLA."),
        skip_bad_images=flags.DEFINE_boolean(
            "skip_bad_images",
            False,
            "Leave out files of a folder: or csv: data set that are not images or do not "
            "decode (default: list them, stop).",
        ),
        image_check=flags.DEFINE_enum(
            "image_check",
            "decode",
            list(IMAGE_CHECKS),
            "How the files of a folder: or csv: data set are checked first: `decode` each one "
            "(verdicts kept for a resume), or read their `header` only.",
        ),
    )
    # `--help` lists the flags key to the main module; these are defined here, not there.
    for holder in vars(holders).values():
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[holder.name])
    return holders


def check_feature_flags(holders: FeatureFlags, model: str | None = None) -> ModelSpec:
    """Checks the model (`model` in place of --model where given), --resolution and --dataset
    without TensorFlow (one-line ValueError)."""
    from bit_keras.data.names import check_dataset_name
    from bit_keras.pretrained.model_source import check_model_spec

    source = model or holders.model.value
    if not source:
        raise ValueError("--model is required: a published name, a .npz, a .keras file or hf-hub:.")
    spec = check_model_spec(source, holders.resolution.value, min_resolution=1)
    if holders.dataset.value is not None:
        check_dataset_name(holders.dataset.value, holders.data_dir.value)
    return spec


def load_feature_model(spec: ModelSpec, out: Callable[[str], object] = print) -> ModelSource:
    """Builds the model a checked --model names, saying what it loads."""
    from bit_keras.pretrained.model_source import load_model_source

    out(
        f"Loading {spec.source} ({spec.kind}); resolution {spec.resolution} from "
        f"{spec.resolution_from} ..."
    )
    return load_model_source(spec)


def load_feature_source(
    holders: FeatureFlags,
    *,
    verdicts_file: str | None = None,
    unlabelled: bool = False,
    out: Callable[[str], object] = print,
) -> DataSource:
    """The data set --dataset names (its image files checked as --image_check says)."""
    from bit_keras.data.sources import load_source

    return load_source(
        holders.dataset.value,
        holders.data_dir.value,
        skip_bad_images=holders.skip_bad_images.value,
        image_check=holders.image_check.value,
        verdicts_file=verdicts_file,
        out=out,
        unlabelled=unlabelled,
    )


def register_key_flags(module: str) -> None:
    """Lists the flags `module` defines among the main program's in `--help` (a console
    command's main module is not the one that defines them)."""
    for flag in flags.FLAGS.flags_by_module_dict().get(module, []):
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)


def print_line(line: str) -> None:
    """A program's line, at once (progress goes to a pipe or a log file as it happens)."""
    print(line, flush=True)
