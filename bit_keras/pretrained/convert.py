"""Converting official BiT `.npz` checkpoints to Keras files, written atomically."""

from __future__ import annotations

import os

import keras

from bit_keras.atomic_write import save_atomically
from bit_keras.pretrained.from_checkpoint import model_from_checkpoint
from bit_keras.pretrained.registry import checkpoint_path

_SUFFIXES = (".keras", ".weights.h5")


def convert_checkpoint(
    checkpoint: str | os.PathLike,
    output: str | os.PathLike,
    *,
    include_top: bool = True,
    overwrite: bool = False,
) -> keras.Model:
    """Converts an official `.npz` checkpoint to a `.keras` model or a `.weights.h5` file.

    The file is written under a temporary name in the output folder and renamed when
    complete, so an interrupted or failed conversion never leaves a half-written file, and
    never touches a file already at `output`.

    Args:
        checkpoint: Path of an official `.npz` file, or a published model's name (downloaded
            into the Keras cache once).
        output: Path to write, ending in `.keras` or `.weights.h5`.
        include_top: Whether to keep the classification head.
        overwrite: Whether to replace an existing `output`.

    Returns:
        The converted model.

    Raises:
        ValueError: `output` has another suffix, or the checkpoint does not load.
        FileExistsError: `output` exists and `overwrite` is False.
    """
    output = os.fspath(output)
    suffix = next((s for s in _SUFFIXES if output.endswith(s)), None)
    if suffix is None:
        raise ValueError(f"The output must end in .keras or .weights.h5. Received: {output!r}")
    if os.path.exists(output) and not overwrite:
        raise FileExistsError(
            f"{output!r} exists; pass overwrite=True (--overwrite) to replace it."
        )
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"The output folder {folder!r} does not exist.")
    model = model_from_checkpoint(checkpoint_path(checkpoint), include_top=include_top)
    save_atomically(output, model.save if suffix == ".keras" else model.save_weights)
    return model
