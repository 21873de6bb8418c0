"""Converting BiT weights between the official `.npz` layout and Keras' files, atomically."""

from __future__ import annotations

import os

import keras

from bit_keras._runtime.atomic_write import save_atomically
from bit_keras.checkpoint import (
    official_arrays,
    read_official_arrays,
    save_official_weights,
    save_timm_weights,
)
from bit_keras.checkpoint.weights_file import load_keras_model
from bit_keras.pretrained.builder import checkpoint_path, create_model
from bit_keras.pretrained.from_checkpoint import model_from_arrays, model_from_checkpoint

_SUFFIXES = (".keras", ".weights.h5", ".npz")


def convert_checkpoint(
    checkpoint: str | os.PathLike,
    output: str | os.PathLike,
    *,
    include_top: bool = True,
    overwrite: bool = False,
    model: str | None = None,
    format: str = "auto",
) -> keras.Model:
    """Converts BiT weights to a `.keras` model, a `.weights.h5` file, an official `.npz`, or
    timm's Hub layout (`format="timm"`).

    The file is written under a temporary name in the output folder and renamed when
    complete, so an interrupted or failed conversion never leaves a half-written file, and
    never touches a file already at `output`. An `.npz` output has the published files' keys,
    shapes and order (`bit_keras.checkpoint.save_official_weights`): the official code, timm
    and big_vision read it.

    Args:
        checkpoint: A published model's name (downloaded into the Keras cache once), or the
            path of an official-layout `.npz`, a `.keras` model of a BiT (a run's
            `model.keras`) or a `.weights.h5` file (with `model`, which names its
            architecture).
        output: Path to write, ending in `.keras`, `.weights.h5` or `.npz`.
        include_top: Whether to keep the classification head.
        overwrite: Whether to replace an existing `output`.
        model: The architecture (`R50x1`, ...) of a `.weights.h5` checkpoint; not needed for
            the other formats, which say their architecture.
        format: `auto` (by `output`'s suffix) or `timm`: `output` is then a folder in timm's
            Hugging Face Hub layout (`model.safetensors` and timm's `config.json`), which timm
            loads and `huggingface_hub` uploads as it is.

    Returns:
        The converted model.

    Raises:
        ValueError: `output` has another suffix, or the checkpoint does not load.
        FileExistsError: `output` exists and `overwrite` is False.
    """
    output = os.fspath(output)
    if format not in ("auto", "timm"):
        raise ValueError(f"`format` must be `auto` or `timm`. Received: format={format!r}")
    suffix = (
        "timm" if format == "timm" else next((s for s in _SUFFIXES if output.endswith(s)), None)
    )
    if suffix is None:
        raise ValueError(
            f"The output must end in .keras, .weights.h5 or .npz. Received: {output!r}"
        )
    if os.path.exists(output) and not overwrite:
        raise FileExistsError(
            f"{output!r} exists; pass overwrite=True (--overwrite) to replace it."
        )
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"The output folder {folder!r} does not exist.")
    converted = _read(checkpoint, include_top=include_top, architecture=model)
    if suffix == "timm":
        save_timm_weights(converted, output, overwrite=overwrite)
    elif suffix == ".npz":
        save_official_weights(converted, output)
    else:
        save_atomically(output, converted.save if suffix == ".keras" else converted.save_weights)
    return converted


def _read(checkpoint, *, include_top: bool, architecture: str | None) -> keras.Model:
    source = os.fspath(checkpoint)
    if source.endswith(".weights.h5"):
        if architecture is None:
            raise ValueError(
                f"{source!r} is a .weights.h5 file, which does not say its architecture: pass "
                "model= (--model), e.g. R50x1."
            )
        like = create_model(architecture, weights=None, include_top=False)
        return model_from_arrays(
            read_official_arrays(source, like), source=source, include_top=include_top
        )
    if source.endswith(".keras"):
        if not os.path.isfile(source):
            raise ValueError(f"No .keras file at {source!r}.")
        loaded = load_keras_model(source)
        if include_top:  # the model as it is, with its activation and name
            return loaded
        return model_from_arrays(official_arrays(loaded), source=source, include_top=False)
    return model_from_checkpoint(checkpoint_path(checkpoint), include_top=include_top)
