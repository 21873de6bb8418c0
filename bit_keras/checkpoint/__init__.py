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
        "CheckpointError": "bit_keras.checkpoint.npz_file",
        "HubName": "bit_keras.checkpoint.hub",
        "LoadedWeights": "bit_keras.checkpoint.weights_file",
        "download_from_hub": "bit_keras.checkpoint.hub",
        "fetch_checkpoint": "bit_keras.checkpoint.fetch",
        "infer_architecture": "bit_keras.checkpoint.layout",
        "load_keras_model": "bit_keras.checkpoint.weights_file",
        "load_official_weights": "bit_keras.checkpoint.loading",
        "load_weights": "bit_keras.checkpoint.weights_file",
        "local_weights_file": "bit_keras.checkpoint.weights_file",
        "official_arrays": "bit_keras.checkpoint.layout",
        "official_variables": "bit_keras.checkpoint.layout",
        "parse_hub_name": "bit_keras.checkpoint.hub",
        "read_npz": "bit_keras.checkpoint.npz_file",
        "read_official_arrays": "bit_keras.checkpoint.weights_file",
        "save_official_weights": "bit_keras.checkpoint.weights_file",
        "save_timm_weights": "bit_keras.checkpoint.weights_file",
        "write_npz": "bit_keras.checkpoint.npz_file",
    },
)

__all__ = [
    "CheckpointArchitecture",
    "CheckpointDownloadError",
    "CheckpointError",
    "HubName",
    "LoadedWeights",
    "download_from_hub",
    "fetch_checkpoint",
    "infer_architecture",
    "load_keras_model",
    "load_official_weights",
    "load_weights",
    "local_weights_file",
    "official_arrays",
    "official_variables",
    "parse_hub_name",
    "read_npz",
    "read_official_arrays",
    "save_official_weights",
    "save_timm_weights",
    "write_npz",
]


if TYPE_CHECKING:
    from bit_keras.checkpoint.fetch import CheckpointDownloadError, fetch_checkpoint
    from bit_keras.checkpoint.hub import HubName, download_from_hub, parse_hub_name
    from bit_keras.checkpoint.layout import (
        CheckpointArchitecture,
        infer_architecture,
        official_arrays,
        official_variables,
    )
    from bit_keras.checkpoint.loading import load_official_weights
    from bit_keras.checkpoint.npz_file import CheckpointError, read_npz, write_npz
    from bit_keras.checkpoint.weights_file import (
        LoadedWeights,
        load_keras_model,
        load_weights,
        local_weights_file,
        read_official_arrays,
        save_official_weights,
        save_timm_weights,
    )
