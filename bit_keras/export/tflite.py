"""TFLite export of BiT: frozen, weight standardization folded, checked in LiteRT.

The path that works (measured, tensorflow 2.21): fold `StdConv2D` into plain `Conv2D`
(`fold_weight_standardization`), save the folded model's fixed-size serving function as a
SavedModel, and convert that with `TFLiteConverter.from_saved_model`, which freezes the
variables into constants. Converting a Keras 3 BiT directly keeps resource variables
(VAR_HANDLE/READ_VARIABLE) and outputs NaN.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from bit_keras._runtime.atomic_write import save_atomically
from bit_keras._runtime.backend_check import require_tensorflow_backend
from bit_keras.export import litert, serving
from bit_keras.export.errors import EXPORTERS, ExportCheckError
from bit_keras.export.sample_images import SampleImages
from bit_keras.models.folding import fold_weight_standardization
from bit_keras.pretrained.model_source import ModelSource

MODES = ("float32", "float16", "dynamic_int8", "int8")
IO_DTYPES = ("float32", "int8")
# Largest difference from the Keras model a float file may have, relative to the largest
# output (at least 1). float32 differs by summation order only (measured on an R50x1 at
# 224 px, random weights: 8.5e-5); float16 stores the weights in half precision, whose
# rounding adds up over 50 layers (same model: 1.9e-2). A broken export (NaN, wrong scaling,
# a missing layer) is off by the order of the outputs.
FLOAT_TOLERANCES = {"float32": 1e-3, "float16": 5e-2}
# Quantized files are judged by how often their top-1 class is the Keras model's.
DEFAULT_MIN_TOP1_AGREEMENT = 0.9


@dataclasses.dataclass(frozen=True)
class TFLiteReport:
    """How a TFLite file compares with the Keras model it was made from.

    Attributes:
        mode: The conversion mode.
        size_bytes: File size.
        ops: The sorted set of operators in the file.
        images: What it was checked on, in words.
        max_abs_diff: Largest absolute difference of the outputs from the Keras model's.
        output_scale: Largest absolute Keras output (at least 1), the scale of tolerances.
        top1_agreement: Fraction of images whose top-1 class equals Keras'.
        latency_ms: Median LiteRT time of one image, batch 1.
        threads: LiteRT threads.
        requirement: The test it had to pass, in words.
        passed: Whether it passed.
    """

    mode: str
    size_bytes: int
    ops: tuple[str, ...]
    images: str
    max_abs_diff: float
    output_scale: float
    top1_agreement: float
    latency_ms: float
    threads: int
    requirement: str
    passed: bool

    def summary(self) -> str:
        return (
            f"{self.mode}: {self.size_bytes / 2**20:.1f} MiB; on {self.images}: max abs diff "
            f"{self.max_abs_diff:.3g} (outputs up to {self.output_scale:.3g}), top-1 agreement "
            f"{100 * self.top1_agreement:.1f}%; {self.latency_ms:.1f} ms per image in LiteRT "
            f"({self.threads} threads); required {self.requirement}: "
            f"{'passed' if self.passed else 'FAILED'}."
        )


def convert(
    source: ModelSource,
    *,
    mode: str = "float32",
    signature: str = "classification",
    calibration: SampleImages | None = None,
    io_dtype: str = "float32",
) -> bytes:
    """Converts a model to a TFLite file's bytes: batch 1, `source.spec.resolution` square.

    The input is float32 images in [0, 1] named `images` (int8 with `io_dtype="int8"`: the
    file's input quantization maps [0, 1] onto int8); the output is `logits` or
    `feature_vector`, in one signature, `serving_default`.

    Args:
        source: The model.
        mode: `float32`; `float16` (weights stored in half precision); `dynamic_int8`
            (int8 weights, float activations); `int8` (full integer, calibrated).
        signature: `"classification"` or `"feature_vector"`.
        calibration: Images for `int8`'s calibration (required there, unused otherwise).
        io_dtype: `int8` mode's input and output type.

    Raises:
        ValueError: a bad mode, signature, I/O type, or no calibration images for `int8`.
    """
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}. Received: mode={mode!r}")
    if io_dtype not in IO_DTYPES:
        raise ValueError(f"`io_dtype` must be one of {IO_DTYPES}. Received: {io_dtype!r}")
    if io_dtype != "float32" and mode != "int8":
        raise ValueError(f"io_dtype={io_dtype!r} needs mode='int8'. Received: mode={mode!r}")
    if mode == "int8" and (calibration is None or not len(calibration.images)):
        raise ValueError("mode='int8' needs calibration images (a representative data set).")
    model = serving.output_model(fold_weight_standardization(source.model), signature)
    return convert_model(
        model,
        source.spec.resolution,
        output_name=serving.OUTPUT_NAMES[signature],
        mode=mode,
        calibration=calibration,
        io_dtype=io_dtype,
    )


def convert_model(
    model: keras.Model,
    resolution: int,
    *,
    output_name: str = "logits",
    mode: str = "float32",
    calibration: SampleImages | None = None,
    io_dtype: str = "float32",
) -> bytes:
    """Converts any Keras model of [-1, 1] RGB images to a TFLite file's bytes, as `convert`.

    `convert` folds a BiT model's weight standardization and calls this; the benchmark
    converts `keras.applications` models with it too. The arguments are `convert`'s, checked
    there; `output_name` names the single output.
    """

    @tf.function(
        input_signature=[
            tf.TensorSpec([1, resolution, resolution, 3], tf.float32, name=serving.IMAGES_INPUT)
        ]
    )
    def serve(images):
        return {output_name: serving.model_outputs(model, images)}

    module = tf.train.Checkpoint()
    module.variables = [v.value for v in model.weights]
    module.serve = serve
    with tempfile.TemporaryDirectory() as saved_model:
        tf.saved_model.save(
            module, saved_model, signatures={"serving_default": serve.get_concrete_function()}
        )
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
        if mode != "float32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if mode == "int8":
            images = calibration.images

            def representative():
                for image in images:
                    yield [image[None]]

            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if io_dtype == "int8":
                converter.inference_input_type = tf.int8
                converter.inference_output_type = tf.int8
        return converter.convert()


def check(
    content: bytes,
    source: ModelSource,
    images: SampleImages,
    *,
    mode: str,
    signature: str = "classification",
    min_top1_agreement: float = DEFAULT_MIN_TOP1_AGREEMENT,
    num_threads: int = 2,
) -> TFLiteReport:
    """Runs a TFLite file in LiteRT on `images` and compares it with the Keras model.

    Float modes must stay within `FLOAT_TOLERANCES[mode]` x the largest output; quantized
    modes must agree on the top-1 class for at least `min_top1_agreement` of the images.
    Every mode must be free of `litert.FORBIDDEN_OPS` and of kernels computed at run time.

    Raises:
        ExportCheckError: forbidden ops, or computed kernels, in the file.
    """
    ops = litert.op_names(content)
    forbidden = sorted({op for op in ops if op.split(":")[0] in litert.FORBIDDEN_OPS})
    if forbidden:
        raise ExportCheckError(f"The TFLite file holds ops a phone cannot run: {forbidden}.")
    computed = litert.computed_conv_kernels(content)
    if computed:
        raise ExportCheckError(
            f"{len(computed)} kernels of the TFLite file are computed at run time, e.g. "
            f"{computed[0]!r}: weight standardization was not folded."
        )
    keras_model = serving.output_model(source.model, signature)
    expected = np.concatenate(
        [
            serving.model_outputs(keras_model, tf.constant(batch)).numpy()
            for batch in np.array_split(images.images, max(1, len(images.images) // 16))
        ]
    )
    outputs, latency = litert.run(content, images.images, num_threads=num_threads)
    diff = float(np.abs(outputs - expected).max())
    scale = max(1.0, float(np.abs(expected).max()))
    agreement = float(np.mean(outputs.argmax(-1) == expected.argmax(-1)))
    if mode in FLOAT_TOLERANCES:
        limit = FLOAT_TOLERANCES[mode] * scale
        requirement, passed = f"max abs diff <= {limit:.3g}", diff <= limit
    else:
        requirement = f"top-1 agreement >= {100 * min_top1_agreement:g}%"
        passed = agreement >= min_top1_agreement
    return TFLiteReport(
        mode=mode,
        size_bytes=len(content),
        ops=tuple(sorted(set(ops))),
        images=images.description,
        max_abs_diff=diff,
        output_scale=scale,
        top1_agreement=agreement,
        latency_ms=latency,
        threads=num_threads,
        requirement=requirement,
        passed=bool(passed and np.isfinite(diff)),
    )


def labels_path(output: str) -> str:
    """The label list written beside a TFLite file: `NAME.tflite` -> `NAME.labels.txt`."""
    return os.path.abspath(output).removesuffix(".tflite") + ".labels.txt"


def export_tflite(
    source: ModelSource,
    output: str,
    *,
    mode: str = "float32",
    signature: str = "classification",
    calibration: SampleImages | None = None,
    check_images: SampleImages,
    io_dtype: str = "float32",
    min_top1_agreement: float = DEFAULT_MIN_TOP1_AGREEMENT,
    num_threads: int = 2,
    overwrite: bool = False,
    log: Callable[[str], object] = print,
) -> TFLiteReport:
    """Converts, checks in LiteRT, and only if the check passes writes `output` (atomically).

    The class names go beside it, one per line (`labels_path(output)`), for classification.

    Raises:
        FileExistsError: `output` exists and `overwrite` is False.
        ExportCheckError: the file fails its check; nothing is written.
    """
    require_tensorflow_backend(EXPORTERS)
    output = os.path.abspath(output)
    if os.path.lexists(output) and not overwrite:
        raise FileExistsError(f"{output!r} exists; pass overwrite=True to replace it.")
    size = source.spec.resolution
    calibrated = (
        f", calibrated on {calibration.description}" if calibration and mode == "int8" else ""
    )
    log(f"Converting to TFLite ({mode}, {size}x{size}{calibrated}) ...")
    content = convert(
        source, mode=mode, signature=signature, calibration=calibration, io_dtype=io_dtype
    )
    log(f"Checking in LiteRT on {check_images.description} ...")
    report = check(
        content,
        source,
        check_images,
        mode=mode,
        signature=signature,
        min_top1_agreement=min_top1_agreement,
        num_threads=num_threads,
    )
    log(report.summary())
    if not report.passed:
        raise ExportCheckError(
            f"The TFLite file fails its check, nothing written. {report.summary()}"
        )
    save_atomically(output, lambda tmp: _write_bytes(tmp, content))
    log(f"Wrote {output}")
    if signature == "classification":
        text = "\n".join(source.class_names) + "\n"
        save_atomically(labels_path(output), lambda tmp: _write_bytes(tmp, text.encode()))
        log(f"Wrote its labels, one per line, to {labels_path(output)}")
    return report


def _write_bytes(path: str, content: bytes) -> None:
    with open(path, "wb") as f:
        f.write(content)
