"""Official BiT `.npz` files: read safely (no pickle, clear errors for broken files) and written
atomically."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np

from bit_keras._runtime import files
from bit_keras._runtime.atomic_write import save_atomically


class CheckpointError(ValueError):
    """A checkpoint file is unreadable or does not fit the model it is loaded into."""


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads every array of an `.npz` file into memory, without ever unpickling.

    Args:
        path: Path of the `.npz` file.

    Returns:
        A dict from array name to array, in the file's order.

    Raises:
        FileNotFoundError: `path` does not exist.
        CheckpointError: the file is not an `.npz` archive, is truncated or corrupt, or holds
            an object (pickled) array.
    """
    path = os.fspath(path)
    if not files.isfile(path):
        raise FileNotFoundError(f"No checkpoint file at {path!r}.")
    source = path
    if files.is_remote(path):  # gs://, ram://: read whole (numpy reads local files only)
        with files.open_file(path, "rb") as f:
            source = io.BytesIO(f.read())
    if not zipfile.is_zipfile(source):
        with files.open_file(path, "rb") as f:
            single_array = f.read(6) == b"\x93NUMPY"
        if not single_array:
            # Checked here: numpy would call any other file "pickled data" and suggest
            # allow_pickle, which is the wrong advice for a checkpoint.
            raise CheckpointError(
                f"{path!r} is not a readable .npz checkpoint: not a zip archive of arrays "
                "(truncated, corrupt or another format)."
            )
    try:
        archive = np.load(source, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(
            f"{path!r} is not a readable .npz checkpoint (truncated, corrupt or another "
            f"format): {e}"
        ) from e
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{path!r} holds a single .npy array, not an .npz checkpoint.")
    arrays = {}
    with archive:
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except ValueError as e:
                if "allow_pickle" in str(e):
                    raise CheckpointError(
                        f"Array {key!r} in {path!r} holds Python objects; checkpoints are "
                        "loaded without pickle, for safety. Save it as a numeric array."
                    ) from e
                raise CheckpointError(f"Array {key!r} in {path!r} cannot be read: {e}") from e
            except (OSError, EOFError, zipfile.BadZipFile) as e:
                raise CheckpointError(
                    f"Array {key!r} in {path!r} cannot be read (truncated or corrupt file): {e}"
                ) from e
    return arrays


def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Writes arrays to an uncompressed `.npz` file, as the published checkpoints are stored.

    The file is written under a temporary name beside `path` and renamed when complete, so
    an interrupted write leaves no half-written file and an existing `path` unchanged.

    Args:
        path: File to write; must end in `.npz`.
        arrays: Name to float32 array, written in this order.

    Raises:
        CheckpointError: an array that is not a finite float32 array, or a name that is not a
            non-empty string; nothing is written then.
        ValueError: `path` does not end in `.npz`.
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        raise ValueError(f"An .npz checkpoint's path must end in .npz. Received: {path!r}")
    problems = []
    for key, array in arrays.items():
        if not isinstance(key, str) or not key:
            problems.append(f"{key!r}: names must be non-empty strings")
        elif not isinstance(array, np.ndarray) or array.dtype != np.float32:
            problems.append(
                f"{key!r}: expected a float32 array, found {getattr(array, 'dtype', type(array))}"
            )
        elif not np.isfinite(array).all():
            problems.append(
                f"{key!r}: holds {np.count_nonzero(~np.isfinite(array))} non-finite values"
            )
    if problems:
        raise CheckpointError(
            f"Not writing {path!r}: "
            + "; ".join(problems[:20])
            + (f"; ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        )

    def save(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: numpy adds no second `.npz` suffix
            np.savez(f, **arrays)

    save_atomically(path, save)
