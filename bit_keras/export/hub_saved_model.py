"""TF Hub SavedModels of BiT: reusable, fine-tunable through `hub.KerasLayer`, servable.

Keras 3's `model.export()` writes a `serve` endpoint only, which `hub.KerasLayer` refuses. The
object saved here follows the Reusable SavedModel API
(https://www.tensorflow.org/hub/reusable_saved_models): `__call__(inputs, training)` traced
for both values of `training`, `variables`, `trainable_variables`, `regularization_losses`;
plus TF Serving signatures for float images and for encoded image bytes.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import tarfile
import tempfile
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from bit_keras._runtime.atomic_write import save_atomically, save_directory_atomically
from bit_keras._runtime.backend_check import require_tensorflow_backend
from bit_keras.data import image_io
from bit_keras.export import serving
from bit_keras.export.errors import EXPORTERS, ExportCheckError
from bit_keras.export.model_card import CardFacts, model_card
from bit_keras.export.targets import bundle_paths
from bit_keras.layers import is_standardization_cached
from bit_keras.pretrained.model_source import ModelSource

SERVING_DEFAULT = "serving_default"
SERVING_BYTES = "serving_bytes"
LABELS_FILE = "labels.txt"
# A restored SavedModel runs the same graph as Keras: anything beyond float rounding is a bug.
RESTORE_TOLERANCE = 1e-4


@dataclasses.dataclass(frozen=True)
class HubExport:
    """What `export_hub_saved_model` wrote and checked.

    Attributes:
        path: The SavedModel folder.
        bundle: The `.tar.gz` of it, or None.
        card: The model card (Markdown), or None.
        signature: `"feature_vector"` or `"classification"`.
        output_size: Length of the output vector.
        max_abs_diff: Largest difference between the restored SavedModel's entry points and
            the Keras model on the check image.
    """

    path: str
    bundle: str | None
    card: str | None
    signature: str
    output_size: int
    max_abs_diff: float


def build_hub_module(
    source: ModelSource, signature: str = "feature_vector"
) -> tuple[tf.train.Checkpoint, dict]:
    """The trackable object of a Reusable SavedModel, and its serving signatures.

    Returns:
        `(module, signatures)`, ready for `tf.saved_model.save(module, path, signatures)`.

    Raises:
        ValueError: `source.model` is inside `bit_keras.layers.cached_standardization`.
    """
    if is_standardization_cached(source.model):
        raise ValueError(
            f"Export {source.model.name!r} outside cached_standardization(): traced inside it, "
            "the SavedModel would hold the kernels standardized on entry as constants, and "
            "fine-tuning it would train kernels that its inference calls never read."
        )
    model = serving.output_model(source.model, signature)
    output_name = serving.OUTPUT_NAMES[signature]
    resolution = source.spec.resolution
    images_spec = tf.TensorSpec([None, None, None, 3], tf.float32, name=serving.IMAGES_INPUT)

    @tf.function
    def call(inputs, training=False):
        return serving.model_outputs(model, inputs, training=training)

    @tf.function(input_signature=[images_spec])
    def serve(images):
        return serving.model_outputs(model, images)

    @tf.function(input_signature=[images_spec])
    def serving_default(images):
        return {output_name: serving.model_outputs(model, images)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=serving.BYTES_INPUT)])
    def serving_bytes(image_bytes):
        images = serving.decode_images(image_bytes, resolution)
        return {output_name: serving.model_outputs(model, images)}

    for training in (False, True):
        call.get_concrete_function(
            tf.TensorSpec([None, None, None, 3], tf.float32, name="inputs"), training
        )
    module = tf.train.Checkpoint()
    # `.value`: the tf.Variable under each Keras variable, which the SavedModel tracks.
    module.variables = [v.value for v in model.weights]
    module.trainable_variables = [v.value for v in model.trainable_weights]
    module.regularization_losses = []
    module.__call__ = call
    module.serve = serve  # `keras.layers.TFSMLayer(path)`'s default endpoint
    signatures = {
        SERVING_DEFAULT: serving_default.get_concrete_function(),
        SERVING_BYTES: serving_bytes.get_concrete_function(),
    }
    return module, signatures


def export_hub_saved_model(
    source: ModelSource,
    output: str,
    *,
    signature: str = "feature_vector",
    overwrite: bool = False,
    bundle: bool = True,
    log: Callable[[str], object] = print,
) -> HubExport:
    """Writes a TF Hub SavedModel of `source` to `output`, checks it, and bundles it.

    The SavedModel is written into a temporary folder beside `output`, loaded back and run
    (`__call__` with both values of `training`, both signatures) against the Keras model; only
    then is it renamed to `output`. With `bundle`, `OUTPUT.tar.gz` (the SavedModel's files at
    its root) and `OUTPUT.md` (the model card) are written beside it.

    Raises:
        FileExistsError: a target exists and `overwrite` is False.
        ValueError: `source.model` is inside `bit_keras.layers.cached_standardization`.
        ExportCheckError: the restored SavedModel's outputs differ from the Keras model's.
    """
    require_tensorflow_backend(EXPORTERS)
    output = os.path.abspath(output).rstrip(os.sep)
    targets = [output, *(bundle_paths(output) if bundle else ())]
    taken = [t for t in targets if os.path.lexists(t)]
    if taken and not overwrite:
        raise FileExistsError(f"{taken[0]!r} exists; pass overwrite=True to replace it.")
    module, signatures = build_hub_module(source, signature)
    output_size = int(serving.output_model(source.model, signature).output_shape[-1])
    checked = {}

    def save(path):
        with tempfile.TemporaryDirectory() as scratch:
            if signature == "classification":
                labels = os.path.join(scratch, LABELS_FILE)
                with open(labels, "w") as f:
                    f.write("\n".join(source.class_names) + "\n")
                module.labels_file = tf.saved_model.Asset(labels)
            log(f"Writing the SavedModel ({signature}) ...")
            tf.saved_model.save(module, path, signatures=signatures)
        log("Checking the restored SavedModel against the Keras model ...")
        checked["diff"] = check_saved_model(path, source, signature)

    save_directory_atomically(output, save, overwrite=overwrite)
    log(f"Wrote {output} (restored outputs within {checked['diff']:.2e} of Keras).")
    tar_path = card_path = None
    if bundle:
        tar_path, card_path = bundle_paths(output)
        save_atomically(tar_path, lambda tmp: _write_tar(output, tmp))
        facts = CardFacts(
            name=source.name,
            description=source.description,
            source=source.spec.source,
            signature=signature,
            resolution=source.spec.resolution,
            output_size=output_size,
            output_name=serving.OUTPUT_NAMES[signature],
            parameters=sum(int(np.prod(v.shape)) for v in module.variables),
            bundle=os.path.basename(tar_path),
        )
        save_atomically(card_path, lambda tmp: _write_text(tmp, model_card(facts)))
        log(f"Wrote the bundle {tar_path} and the model card {card_path}.")
    return HubExport(output, tar_path, card_path, signature, output_size, checked["diff"])


def check_saved_model(path: str, source: ModelSource, signature: str) -> float:
    """Runs every entry point of the SavedModel at `path` on a check image against Keras.

    Returns:
        The largest absolute difference.

    Raises:
        ExportCheckError: a difference beyond `RESTORE_TOLERANCE` (scaled by the outputs).
    """
    resolution = source.spec.resolution
    image = image_io.synthetic_image(resolution)
    png = tf.io.encode_png(tf.cast(tf.round(image), tf.uint8))
    images = (image_io.resize_images(tf.io.decode_png(png), resolution) / 255.0)[None]
    model = serving.output_model(source.model, signature)
    expected = serving.model_outputs(model, images).numpy()
    restored = tf.saved_model.load(path)
    name = serving.OUTPUT_NAMES[signature]
    results = {
        "__call__(training=False)": restored(images, training=False),
        "__call__(training=True)": restored(images, training=True),
        SERVING_DEFAULT: restored.signatures[SERVING_DEFAULT](images=images)[name],
        SERVING_BYTES: restored.signatures[SERVING_BYTES](image_bytes=png[None])[name],
    }
    scale = max(1.0, float(np.abs(expected).max()))
    diffs = {k: float(np.abs(np.asarray(v) - expected).max()) for k, v in results.items()}
    bad = {k: d for k, d in diffs.items() if not d <= RESTORE_TOLERANCE * scale}
    if bad:
        raise ExportCheckError(
            f"The restored SavedModel differs from the Keras model beyond "
            f"{RESTORE_TOLERANCE * scale:.1e}: "
            + ", ".join(f"{k}: max abs diff {d:.3e}" for k, d in bad.items())
        )
    return max(diffs.values())


def _write_tar(folder: str, path: str) -> None:
    # The SavedModel's files at the root (TF Hub's layout), sorted, without times or owners.
    def clean(info):
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        return info

    with gzip.GzipFile(path, "wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(dirs + files):
                full = os.path.join(root, name)
                if name in dirs:
                    tar.add(full, os.path.relpath(full, folder), recursive=False, filter=clean)
                else:
                    tar.add(full, os.path.relpath(full, folder), filter=clean)


def _write_text(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)
