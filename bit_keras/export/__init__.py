"""Exporters: TF Hub SavedModels and TFLite files of BiT models, with their numbers checked.

- `export_hub_saved_model`: a Reusable SavedModel (`hub.KerasLayer(path, trainable=True)`
  fine-tunes it) with TF Serving signatures for float images and encoded bytes, written
  atomically, plus a publishing bundle (`.tar.gz` and a model card).
- `export_tflite`: weight standardization folded
  (`bit_keras.models.fold_weight_standardization`), weights frozen, converted (float32,
  float16, dynamic_int8, int8), run in LiteRT against the Keras model, and written only if
  it agrees.

The top layer of the package, beside `training`: it may import every package below it
(`pretrained`, `data`, ...) and none imports it. TensorFlow backend only.

Example:
    from bit_keras import export
    source = export.ModelSource.read("BiT-M-R50x1")  # or a .npz, a run's model.keras, hf-hub:
    export.export_hub_saved_model(source, "bit_m_r50x1", signature="feature_vector")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras._runtime.lazy_names import lazy_names

# Public name -> its module; loaded on first use, so the export programs parse their flags
# before TensorFlow loads.
__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "ExportCheckError": "bit_keras.export.errors",
        "HubExport": "bit_keras.export.hub_saved_model",
        "ModelSource": "bit_keras.pretrained.model_source",
        "SampleImages": "bit_keras.export.sample_images",
        "TFLiteReport": "bit_keras.export.tflite",
        "dataset_images": "bit_keras.export.sample_images",
        "export_hub_saved_model": "bit_keras.export.hub_saved_model",
        "export_tflite": "bit_keras.export.tflite",
        "synthetic_images": "bit_keras.export.sample_images",
    },
)

__all__ = [
    "ExportCheckError",
    "HubExport",
    "ModelSource",
    "SampleImages",
    "TFLiteReport",
    "dataset_images",
    "export_hub_saved_model",
    "export_tflite",
    "synthetic_images",
]


if TYPE_CHECKING:
    from bit_keras.export.errors import ExportCheckError
    from bit_keras.export.hub_saved_model import HubExport, export_hub_saved_model
    from bit_keras.export.sample_images import SampleImages, dataset_images, synthetic_images
    from bit_keras.export.tflite import TFLiteReport, export_tflite
    from bit_keras.pretrained.model_source import ModelSource
