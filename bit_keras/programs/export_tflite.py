r"""Exports a BiT model to TFLite, checks it in LiteRT, and writes it only if it passes.

Weight standardization is folded into the kernels and the weights frozen, so the file holds
only builtin ops (no variables, no Flex). Input: float32 images in [0, 1], [1, R, R, 3] with
R the resolution; output: `logits` (the labels are written beside, NAME.labels.txt).
`--mode`: float32, float16 (half the size), dynamic_int8 (int8 weights), int8 (full integer,
calibrated on --representative_dataset; --io_dtype=int8 for int8 input and output).

After converting, the file runs in LiteRT on held-out images of --representative_dataset (or
synthetic ones) against the Keras model. Beyond the mode's tolerance the export fails and
writes nothing.

Example (offline, on the main job's fine-tuned model):
    bit-export-tflite --model=/tmp/bit_digits/model.keras \
        --output=/tmp/bit_digits_int8.tflite --mode=int8 --representative_dataset=digits
"""

from __future__ import annotations

from absl import app, flags

from bit_keras.data.names import check_dataset_name
from bit_keras.export.targets import check_target
from bit_keras.programs.runner import run, start
from bit_keras.programs.shared_flags import ModelFlags, define, load_model

_MODEL = ModelFlags.define()
_OUTPUT = define("output", None, "TFLite file to write, ending in .tflite.")
_OVERWRITE = define("overwrite", False, "Replace existing output files.")
_MODE = flags.DEFINE_enum(
    "mode", "float32", ["float32", "float16", "dynamic_int8", "int8"], "Conversion mode."
)
_SIGNATURE = flags.DEFINE_enum(
    "signature",
    "classification",
    ["classification", "feature_vector"],
    "classification: the logits; feature_vector: the pre-logits.",
)
_DATASET = flags.DEFINE_string(
    "representative_dataset",
    None,
    "Images to calibrate int8 on (train split) and to check with (test split): a TFDS name, "
    "folder:PATH, or digits. Required for --mode=int8; else the check uses synthetic images.",
)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data folder.")
_NUM_CALIBRATION = flags.DEFINE_integer(
    "num_calibration_images", 200, "Images int8 is calibrated on.", lower_bound=1
)
_NUM_CHECK = flags.DEFINE_integer(
    "num_check_images", 300, "Images the file is checked on against Keras.", lower_bound=1
)
_IO_DTYPE = flags.DEFINE_enum(
    "io_dtype", "float32", ["float32", "int8"], "Input and output type (int8: --mode=int8 only)."
)
_MIN_AGREEMENT = flags.DEFINE_float(
    "min_top1_agreement",
    0.9,
    "Quantized modes fail below this fraction of top-1 agreement with the Keras model.",
    lower_bound=0.0,
    upper_bound=1.0,
)
_THREADS = flags.DEFINE_integer("num_threads", 2, "LiteRT threads of the check.", lower_bound=1)


def _body() -> None:
    if _MODE.value == "int8" and not _DATASET.value:
        raise app.UsageError("--mode=int8 needs --representative_dataset to calibrate on.")
    if _IO_DTYPE.value == "int8" and _MODE.value != "int8":
        raise app.UsageError("--io_dtype=int8 needs --mode=int8.")
    overwrite = _OVERWRITE.value

    def check():
        # Before TensorFlow loads: where it writes, what it exports, the data set's name.
        output = check_target(_OUTPUT.value, overwrite=overwrite, suffix=".tflite")
        spec = _MODEL.check()
        if _DATASET.value:
            check_dataset_name(_DATASET.value, _DATA_DIR.value)
        return output, spec

    def export(output, spec):
        from bit_keras.export import sample_images
        from bit_keras.export.tflite import export_tflite

        source = load_model(spec)
        resolution = spec.resolution

        def images(split, count):
            return sample_images.dataset_images(
                _DATASET.value, split, count, resolution, data_dir=_DATA_DIR.value
            )

        # Calibration images only for int8, the one mode that calibrates.
        calibration = images("train", _NUM_CALIBRATION.value) if _MODE.value == "int8" else None
        if _DATASET.value:
            check_images = images("test", _NUM_CHECK.value)
        else:
            check_images = sample_images.synthetic_images(_NUM_CHECK.value, resolution)
        export_tflite(
            source,
            output,
            mode=_MODE.value,
            signature=_SIGNATURE.value,
            calibration=calibration,
            check_images=check_images,
            io_dtype=_IO_DTYPE.value,
            min_top1_agreement=_MIN_AGREEMENT.value,
            num_threads=_THREADS.value,
            overwrite=overwrite,
        )

    run("bit-export-tflite", check, export)


def main() -> None:
    """The `bit-export-tflite` command (and export/tflite.py)."""
    start(__name__, _body, required=["model", "output"])
