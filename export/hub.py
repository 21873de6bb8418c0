r"""Exports a BiT model as a TF Hub SavedModel, with a publishing bundle beside it.

The SavedModel takes float32 images in [0, 1] of any size and outputs the pre-logits
(`--signature=feature_vector`, the default, TF Hub's "image feature vector") or the logits
(`classification`). It is a Reusable SavedModel: `hub.KerasLayer(path, trainable=True)`
fine-tunes it. Signatures: `serving_default` (float images) and `serving_bytes` (encoded
JPEG/PNG). Beside it: `OUTPUT.tar.gz` (for TF Hub / Kaggle Models) and `OUTPUT.md` (the card).

Example (offline, on the main job's fine-tuned model; its resolution comes from the run's
config.json):
    .venv/bin/python export/hub.py --model=/tmp/bit_digits/model.keras \
        --output=/tmp/bit_digits_hub --signature=classification

With a published model (downloaded once):
    .venv/bin/python export/hub.py --model=BiT-M-R50x1 --output=bit_m_r50x1_feature_vector
"""

from __future__ import annotations

from absl import app, flags

from bit_keras.export.cli import check_model_flags, define_model_flags, load_model, run_export
from bit_keras.export.targets import bundle_paths, check_target

_MODEL_FLAGS = define_model_flags("SavedModel folder to write (its parent folder must exist).")
_SIGNATURE = flags.DEFINE_enum(
    "signature",
    "feature_vector",
    ["feature_vector", "classification"],
    "feature_vector: the pre-logits; classification: the logits over the model's classes.",
)
_BUNDLE = flags.DEFINE_boolean(
    "bundle", True, "Also write OUTPUT.tar.gz and the model card OUTPUT.md beside the folder."
)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    overwrite = _MODEL_FLAGS.overwrite.value

    def check():
        # Before TensorFlow loads: where it writes and what it exports.
        output = check_target(_MODEL_FLAGS.output.value, overwrite=overwrite)
        for path in bundle_paths(output) if _BUNDLE.value else ():
            check_target(path, overwrite=overwrite)
        return output, check_model_flags(_MODEL_FLAGS)

    def export(output, spec):
        from bit_keras.export.hub_saved_model import export_hub_saved_model

        export_hub_saved_model(
            load_model(spec),
            output,
            signature=_SIGNATURE.value,
            overwrite=overwrite,
            bundle=_BUNDLE.value,
        )

    run_export("export/hub.py", check, export)


if __name__ == "__main__":
    flags.mark_flags_as_required(["model", "output"])
    app.run(main)
