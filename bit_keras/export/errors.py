"""The error of an export whose result does not compute what the Keras model computes."""

# The subject of the error under another Keras backend (`require_tensorflow_backend`).
EXPORTERS = "The exporters write TensorFlow SavedModels and TFLite files and"


class ExportCheckError(ValueError):
    """An exported model fails its numeric or graph check against the Keras model."""
