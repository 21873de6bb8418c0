"""The error of an export whose result does not compute what the Keras model computes."""


class ExportCheckError(ValueError):
    """An exported model fails its numeric or graph check against the Keras model."""
