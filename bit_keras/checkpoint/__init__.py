"""Official BiT `.npz` checkpoints: their layout, reading, loading and downloading."""

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
