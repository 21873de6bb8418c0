"""The official BiT `.npz` checkpoint format: safe reading, the key layout, loading, download.

It imports `bit_keras.layers` and `bit_keras.models` (the layers a key maps to), never the
packages above it: which published file belongs to which name is `bit_keras.pretrained`'s.
Importing it lets `BiTResNetV2(weights=...)` read `.npz` files.
"""

from bit_keras.checkpoint.fetch import CheckpointDownloadError, fetch_checkpoint
from bit_keras.checkpoint.layout import (
    CheckpointArchitecture,
    infer_architecture,
    official_arrays,
    official_variables,
)
from bit_keras.checkpoint.loading import load_official_weights
from bit_keras.checkpoint.npz_file import CheckpointError, read_npz

__all__ = [
    "CheckpointArchitecture",
    "CheckpointDownloadError",
    "CheckpointError",
    "fetch_checkpoint",
    "infer_architecture",
    "load_official_weights",
    "official_arrays",
    "official_variables",
    "read_npz",
]
