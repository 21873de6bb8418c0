"""Downloading official BiT checkpoints into the Keras cache."""

from __future__ import annotations

import os

# The bucket of the published BiT checkpoints (github.com/google-research/big_transfer).
BIT_MODELS_URL = "https://storage.googleapis.com/bit_models/"
CACHE_SUBDIR = "bit_keras"


class CheckpointDownloadError(OSError):
    """An official checkpoint could not be downloaded."""


def cache_dir() -> str:
    """The Keras cache folder, as `keras.utils.get_file` resolves it ($KERAS_HOME or ~/.keras)."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def cached_path(fname: str, cache_root: str | None = None) -> str:
    """Where the checkpoint `fname` lives once downloaded (or placed there by hand)."""
    return os.path.join(cache_root or cache_dir(), CACHE_SUBDIR, fname)


def fetch_checkpoint(
    fname: str, origin: str, *, cache_root: str | None = None, file_hash: str | None = None
) -> str:
    """Returns the local path of a checkpoint, downloading it into the Keras cache if needed.

    A file already at `cached_path(fname)` is used as it is, so machines without network
    access can put the file there by hand.

    Args:
        fname: File name in the cache, e.g. `BiT-M-R50x1.npz`.
        origin: URL to download it from.
        cache_root: Cache folder; defaults to `cache_dir()`.
        file_hash: Optional SHA-256 of the file, checked after download.

    Raises:
        CheckpointDownloadError: the file is not cached and cannot be downloaded. The message
            says where to put it by hand.
    """
    try:
        import keras  # here: the registry's names load without Keras (list_models)

        return keras.utils.get_file(
            fname,
            origin,
            cache_subdir=CACHE_SUBDIR,
            cache_dir=cache_root or cache_dir(),
            file_hash=file_hash,
        )
    except Exception as e:
        raise CheckpointDownloadError(
            f"Could not download {origin} ({e}). Without network access, download it on "
            f"another machine and put it at {cached_path(fname, cache_root)}, or give the "
            "file's path in place of the model name."
        ) from e
