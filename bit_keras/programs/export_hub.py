r"""Exports a BiT model as a TF Hub SavedModel, with a publishing bundle beside it.

The SavedModel takes float32 images in [0, 1] of any size and outputs the pre-logits
(`--signature=feature_vector`, the default, TF Hub's "image feature vector") or the logits
(`classification`). It is a Reusable SavedModel: `hub.KerasLayer(path, trainable=True)`
fine-tunes it. Signatures: `serving_default` (float images) and `serving_bytes` (encoded
JPEG/PNG). Beside it: `OUTPUT.tar.gz` (for TF Hub / Kaggle Models) and `OUTPUT.md` (the card).

Example (offline, on the main job's fine-tuned model; its resolution comes from the run's
config.json):
    bit-export-hub --model=/tmp/bit_digits/model.keras \
        --output=/tmp/bit_digits_hub --signature=classification

With a published model (downloaded once):
    bit-export-hub --model=BiT-M-R50x1 --output=bit_m_r50x1_feature_vector
"""

from __future__ import annotations

from absl import flags

from bit_keras.export.targets import bundle_paths, check_target
from bit_keras.programs.runner import run, start
from bit_keras.programs.shared_flags import ModelFlags, define, load_model

_MODEL = ModelFlags.define()
_OUTPUT = define("output", None, "SavedModel folder to write (its parent folder must exist).")
_OVERWRITE = define("overwrite", False, "Replace existing output files.")
_SIGNATURE = flags.DEFINE_enum(
    "signature",
    "feature_vector",
    ["feature_vector", "classification"],
    "feature_vector: the pre-logits; classification: the logits over the model's classes.",
)
_BUNDLE = flags.DEFINE_boolean(
    "bundle", True, "Also write OUTPUT.tar.gz and the model card OUTPUT.md beside the folder."
)


def _body() -> None:
    overwrite = _OVERWRITE.value

    def check():
        # Before TensorFlow loads: where it writes and what it exports.
        output = check_target(_OUTPUT.value, overwrite=overwrite)
        for path in bundle_paths(output) if _BUNDLE.value else ():
            check_target(path, overwrite=overwrite)
        return output, _MODEL.check()

    def export(output, spec):
        from bit_keras.export.hub_saved_model import export_hub_saved_model

        export_hub_saved_model(
            load_model(spec),
            output,
            signature=_SIGNATURE.value,
            overwrite=overwrite,
            bundle=_BUNDLE.value,
        )

    run("bit-export-hub", check, export)


def main() -> None:
    """The `bit-export-hub` command (and export/hub.py)."""
    start(__name__, _body, required=["model", "output"])
