"""The one check for the parts of bit_keras that need Keras' TensorFlow backend.

The model core (layers, models, checkpoint loading, published models, applications,
preprocessing and predictions) runs under every Keras backend. Training (tf.distribute) and
the exporters (SavedModel, TFLite) are TensorFlow programs and call this first.
"""

from __future__ import annotations


def require_tensorflow_backend(what: str) -> None:
    """Raises a ValueError that names the backend unless Keras runs on TensorFlow.

    Args:
        what: The sentence's subject, e.g. "Training uses tf.distribute and".
    """
    import keras  # here: the modules that call this are imported before TensorFlow loads

    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(
            f"{what} needs KERAS_BACKEND=tensorflow; the Keras backend here is {backend!r}. "
            "(The models themselves load and run under every backend.)"
        )
