"""Input preprocessing of BiT: RGB in [0, 255] to [-1, 1]. Imports no other part of bit_keras."""

from __future__ import annotations

import sys

import numpy as np
from keras import ops


def preprocess_input(x):
    """Scales RGB images from [0, 255] to [-1, 1], as BiT was trained (`x / 127.5 - 1`).

    Args:
        x: Images as a NumPy array or a tensor, channels last, RGB, values in [0, 255].
            Integer inputs (e.g. uint8) are converted to float32.

    Returns:
        Float images in [-1, 1]: a NumPy array for NumPy input, a tensor for tensors.

    Example:
    >>> preprocess_input(np.array([0, 127.5, 255], "float32"))
    array([-1.,  0.,  1.], dtype=float32)
    """
    if isinstance(x, (np.ndarray, list, tuple, int, float)):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float32)
        return x / np.asarray(127.5, x.dtype) - np.asarray(1.0, x.dtype)
    tf = sys.modules.get("tensorflow")
    if tf is not None and tf.is_tensor(x):
        # tf.data pipelines hand over TensorFlow tensors under every Keras backend.
        if not x.dtype.is_floating:
            x = tf.cast(x, tf.float32)
        return x / 127.5 - 1.0
    if not ops.is_tensor(x):
        raise TypeError(
            f"preprocess_input expects a NumPy array or a tensor. Received: {type(x).__name__}"
        )
    if "float" not in str(x.dtype):
        x = ops.cast(x, "float32")
    return x / 127.5 - 1.0
