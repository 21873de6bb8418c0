"""What the export programs share: the model and output flags, and how a run ends.

The programs (`export/hub.py`, `export/tflite.py`) define their own flags on top of these,
check every flag before building anything, then make one library call.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from absl import flags

from bit_keras.checked_run import run_checked

if TYPE_CHECKING:
    from bit_keras.pretrained.model_source import ModelSource, ModelSpec


@dataclasses.dataclass(frozen=True)
class ModelFlags:
    """Holders of the flags every export program has."""

    model: flags.FlagHolder
    resolution: flags.FlagHolder
    output: flags.FlagHolder
    overwrite: flags.FlagHolder


def define_model_flags(output_help: str) -> ModelFlags:
    """Defines --model, --resolution, --output and --overwrite, listed by the program's --help."""
    holders = ModelFlags(
        model=flags.DEFINE_string(
            "model",
            None,
            "A published model (BiT-M-R50x1), an official .npz file, a .keras file such as "
            "a fine-tuning run's model.keras, or timm's layout: model.safetensors, its folder "
            "or an hf-hub:ORG/NAME[@REVISION] repository.",
        ),
        resolution=flags.DEFINE_integer(
            "resolution",
            None,
            "Square input size. Default: the registry's for published weights (also their "
            "timm copies), the crop a run trained at (its config.json beside the .keras file), "
            "the input size in timm's config.json; else required.",
        ),
        output=flags.DEFINE_string("output", None, output_help),
        overwrite=flags.DEFINE_boolean("overwrite", False, "Replace existing output files."),
    )
    # `--help` lists the flags key to the main module; these are defined here, not there.
    for holder in vars(holders).values():
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[holder.name])
    return holders


def check_model_flags(model_flags: ModelFlags) -> ModelSpec:
    """Checks --model/--resolution without TensorFlow (one-line ValueError)."""
    from bit_keras.pretrained.model_source import check_model_spec

    return check_model_spec(model_flags.model.value, model_flags.resolution.value)


def load_model(spec: ModelSpec, log: Callable[[str], object] = print) -> ModelSource:
    """Builds the model a checked --model names, saying what it loads."""
    from bit_keras.pretrained.model_source import load_model_source

    log(
        f"Loading {spec.source} ({spec.kind}); resolution {spec.resolution} from "
        f"{spec.resolution_from} ..."
    )
    return load_model_source(spec)


def run_export(program: str, check: Callable[[], tuple], export: Callable[..., object]) -> None:
    """Runs `check()` before TensorFlow loads, then `export(*checked)`: errors as one line,
    Ctrl-C and SIGTERM as a clean exit with `INTERRUPTED_STATUS` (`checked_run.run_checked`;
    an `ExportCheckError` is a ValueError)."""
    run_checked(program, check, export)
