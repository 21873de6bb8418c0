"""The official BiT `.npz` checkpoint format: safe reading and atomic writing, the key layout,
strict loading of it, of timm's `model.safetensors` and of bit_keras' own files (`.keras`,
`.weights.h5`), download from the official bucket and from the Hugging Face Hub (`hf-hub:`).

It imports `bit_keras.layers` and `bit_keras.models` (the layers a key maps to), never the
packages above it: which published file belongs to which name is `bit_keras.pretrained`'s.
`load_weights(model, path)` is the one loader of every file into a built BiT, with BiT's
transfer rule for the head (`weights_file.py`).

Its names load on first use (`lazy_names.py`), so that a program checks names and files
before TensorFlow loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras._runtime.lazy_names import lazy_names

__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "CheckpointArchitecture": "bit_keras.checkpoint.layout",
        "CheckpointDownloadError": "bit_keras.checkpoint.fetch",
        "infer_architecture": "bit_keras.checkpoint.layout",
        "load_official_weights": "bit_keras.checkpoint.loading",
        "load_weights": "bit_keras.checkpoint.weights_file",
        "official_arrays": "bit_keras.checkpoint.layout",
        "read_official_arrays": "bit_keras.checkpoint.weights_file",
        "save_official_weights": "bit_keras.checkpoint.weights_file",
        "save_timm_weights": "bit_keras.checkpoint.weights_file",
    },
)

__all__ = [
    "CheckpointArchitecture",
    "CheckpointDownloadError",
    "infer_architecture",
    "load_official_weights",
    "load_weights",
    "official_arrays",
    "read_official_arrays",
    "save_official_weights",
    "save_timm_weights",
]


if TYPE_CHECKING:
    from bit_keras.checkpoint.fetch import CheckpointDownloadError
    from bit_keras.checkpoint.layout import (
        CheckpointArchitecture,
        infer_architecture,
        official_arrays,
    )
    from bit_keras.checkpoint.loading import load_official_weights
    from bit_keras.checkpoint.weights_file import (
        load_weights,
        read_official_arrays,
        save_official_weights,
        save_timm_weights,
    )
