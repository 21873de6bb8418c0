r"""Converts BiT weights: official `.npz` <-> Keras `.keras` / `.weights.h5`.

Reads a published name, an official-layout `.npz`, a `.keras` model (a run's `model.keras`)
or a `.weights.h5` file (with --model, its architecture); writes `.keras`, `.weights.h5` or
an `.npz` in the official layout (the published files' keys and shapes, which the official
code, timm and big_vision read). The architecture (depth, width, head size) is read off the
checkpoint. The output is written under a temporary name and renamed when complete.

Example (runs offline on the small checkpoint in the official layout, random weights):
    bit-convert-checkpoint \
        --checkpoint=../shared/fixtures/bit_official_layout/bit_r14x1_head10_official_layout.npz \
        --output=/tmp/bit_r14x1.keras

    bit-convert-checkpoint --checkpoint=BiT-M-R50x1 --output=bit_m_r50x1.keras

From the Hugging Face Hub (timm's copy, into the Hugging Face cache) to the official layout:
    bit-convert-checkpoint --checkpoint=hf-hub:timm/resnetv2_50x1_bit.goog_in21k \
        --output=bit_m_r50x1.npz

To timm's layout (a folder to upload to the Hugging Face Hub, or to hand to timm):
    bit-convert-checkpoint --checkpoint=/tmp/bit_digits/model.keras \
        --output=/tmp/bit_digits_timm --format=timm

A model you trained, to the official layout:
    bit-convert-checkpoint --checkpoint=/tmp/bit_digits/model.keras \
        --output=/tmp/bit_digits.npz
"""

from __future__ import annotations

from absl import flags

from bit_keras.programs.runner import run, start

PROGRAM = "bit-convert-checkpoint"

_CHECKPOINT = flags.DEFINE_string(
    "checkpoint",
    None,
    "A published model's name (e.g. BiT-M-R50x1), an official-layout .npz, timm's "
    "model.safetensors (or its folder, or an hf-hub:ORG/NAME[@REVISION] repository), a .keras "
    "model or a .weights.h5 file (with --model).",
)
_OUTPUT = flags.DEFINE_string(
    "output", None, "File to write, ending in .keras, .weights.h5 or .npz (official layout)."
)
_FORMAT = flags.DEFINE_enum(
    "format",
    "auto",
    ["auto", "timm"],
    "`auto`: by --output's suffix; `timm`: --output is a folder in timm's Hugging Face Hub "
    "layout (model.safetensors, config.json).",
)
_MODEL = flags.DEFINE_string(
    "model", None, "Architecture of a .weights.h5 --checkpoint (R50x1, ...)."
)
_INCLUDE_TOP = flags.DEFINE_boolean("include_top", True, "Keep the classification head.")
_OVERWRITE = flags.DEFINE_boolean("overwrite", False, "Replace an existing output file.")


def _check() -> tuple:
    from bit_keras.pretrained.catalog import check_source

    check_source(_CHECKPOINT.value)
    return ()


def _convert() -> None:
    from bit_keras.pretrained.convert import convert_checkpoint

    model = convert_checkpoint(
        _CHECKPOINT.value,
        _OUTPUT.value,
        include_top=_INCLUDE_TOP.value,
        overwrite=_OVERWRITE.value,
        model=_MODEL.value,
        format=_FORMAT.value,
    )
    print(f"Wrote {_OUTPUT.value} ({model.name}, {model.count_params():,} parameters).")


def main() -> None:
    """The `bit-convert-checkpoint` command (and tools/convert_checkpoint.py)."""
    start(__name__, lambda: run(PROGRAM, _check, _convert), required=["checkpoint", "output"])
