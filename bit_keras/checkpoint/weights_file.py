"""Every weights file bit_keras reads, as official-layout arrays: transfer from any BiT.

A BiT trained anywhere reaches bit_keras as one of four files: an official-layout `.npz`
(published, or written by bit_keras or another implementation), timm's `model.safetensors`
(a folder or an `hf-hub:` repository in timm's Hub layout), a Keras `.keras` model (a run's
`model.keras`) or a Keras `.weights.h5` file. All are read into the official layout
(`layout.official_arrays`) and loaded by the one strict loader
(`loading.load_official_arrays`): the body must fit the model exactly (every problem named,
nothing half-loaded); a head of another size is replaced by a new zero-initialised head,
as BiT transfers.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import os
import shutil
import tempfile

import keras
import numpy as np

from bit_keras._runtime import files
from bit_keras._runtime.atomic_write import save_directory_atomically
from bit_keras.checkpoint import layout
from bit_keras.checkpoint.fetch import CheckpointDownloadError
from bit_keras.checkpoint.formats import SUFFIXES
from bit_keras.checkpoint.hub import (
    CONFIG_FILE,
    HUB_PREFIX,
    SAFETENSORS_FILE,
    cached_repo_id,
    download_from_hub,
    is_hub_name,
    parse_hub_name,
)
from bit_keras.checkpoint.loading import load_official_arrays
from bit_keras.checkpoint.npz_file import CheckpointError, read_npz, write_npz
from bit_keras.models.bit_resnet_v2 import BiTResNetV2

# PyTorch's pickles, which are never read (code runs when they are unpickled).
PICKLE_FILES = ("pytorch_model.bin", ".bin", ".pth", ".pt")
# Keras 3 names the groups of a `.weights.h5` file by layer class, not by layer name: a
# BiT's one Dense layer, its head, is stored under this group.
_H5_HEAD_KERNEL = "layers/dense/vars/0"


def read_official_arrays(
    path: str | os.PathLike, like: keras.Model | None
) -> dict[str, np.ndarray]:
    """Reads any weights file bit_keras knows into official-layout arrays.

    Args:
        path: An `.npz` (the official layout; numbered `standardized_conv2d_N` scopes are
            read as the published files use them), a `.keras` or `.weights.h5` file, timm's
            `model.safetensors` (or a folder holding one, as timm's Hub repositories do), or
            an `hf-hub:ORG/NAME[@REVISION]` name (`local_weights_file`).
        like: A BiT built by bit_keras of the architecture the file is meant for; a
            `.weights.h5` file (which does not say its architecture) is read through a model
            of `like`'s depth and width with the file's own head (None: refused).

    Raises:
        CheckpointError: the file cannot be read or does not hold a BiT.
        ValueError: another suffix.
        FileNotFoundError: no file at `path`.
    """
    path = local_weights_file(path)
    if path.endswith(PICKLE_FILES):
        raise CheckpointError(
            f"{path!r} is a pickled PyTorch file, which bit_keras never loads (unpickling runs "
            f"code): use the repository's {SAFETENSORS_FILE} instead."
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path!r}.")
    if path.endswith(".npz"):
        return layout.canonical_keys(read_npz(path), path)
    if path.endswith(".safetensors"):
        return layout.from_timm(_read_safetensors(path), path)
    if path.endswith(".keras"):
        return layout.official_arrays(load_keras_model(path))
    if path.endswith(".weights.h5"):
        if like is None:
            raise ValueError(f"{path!r} does not say its architecture: name the model it fits.")
        return _arrays_of(_read_weights_h5(path, like), path)
    raise ValueError(f"Weights files must end in one of {', '.join(SUFFIXES)}. Received: {path!r}")


def local_weights_file(source: str | os.PathLike) -> str:
    """The local file a weights source names.

    An `hf-hub:ORG/NAME[@REVISION]` name is downloaded (its `model.safetensors`, with timm's
    `config.json` beside it where the repository has one) into the Hugging Face cache once; a
    folder in timm's Hub layout gives its `model.safetensors`; any other path is returned as
    it is, existing or not. A file (or timm-layout folder) on a filesystem TensorFlow reads
    (`gs://`, `ram://`) is copied into a local temporary folder first, removed when the
    process ends.

    Raises:
        CheckpointError: a folder without `model.safetensors`, or a Hub file that does not
            match the Hub's hash of it.
        CheckpointDownloadError: a Hub file not cached that cannot be downloaded.
    """
    if is_hub_name(source):
        name = parse_hub_name(source)
        path = download_from_hub(name, SAFETENSORS_FILE)
        # timm's config beside the weights, as in a folder (its input size); anyone's
        # repository in timm's layout may hold the weights alone.
        with contextlib.suppress(CheckpointDownloadError):
            download_from_hub(name, CONFIG_FILE)
        return path
    path = os.fspath(source)
    if files.is_remote(path):
        return _copied_locally(path)
    if os.path.isdir(path):
        inside = os.path.join(path, SAFETENSORS_FILE)
        if not os.path.isfile(inside):
            raise CheckpointError(
                f"Folder {path!r} holds no {SAFETENSORS_FILE} (timm's Hub layout)"
                + (
                    "; its pytorch_model.bin is pickled and never loaded."
                    if os.path.isfile(os.path.join(path, "pytorch_model.bin"))
                    else "."
                )
            )
        return inside
    return path


def _copied_locally(path: str) -> str:
    # The file (a folder's model.safetensors, with timm's config.json beside it where there
    # is one) copied into a temporary folder of this process.
    folder = tempfile.mkdtemp(prefix="bit_keras_weights_")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    names = [os.path.basename(path.rstrip("/"))]
    if files.isdir(path):
        path, names = path.rstrip("/"), [SAFETENSORS_FILE, CONFIG_FILE]
        if not files.isfile(files.join(path, SAFETENSORS_FILE)):
            raise CheckpointError(
                f"Folder {path!r} holds no {SAFETENSORS_FILE} (timm's Hub layout)."
            )
        local = os.path.join(folder, SAFETENSORS_FILE)
    else:
        path, local = files.parent(path), os.path.join(folder, names[0])
        if names[0].endswith(".safetensors"):
            names.append(CONFIG_FILE)
    for name in names:
        remote = files.join(path, name)
        if name == names[0] and not files.exists(remote):
            raise FileNotFoundError(f"No weights file at {remote!r}.")
        if files.isfile(remote):
            files.copy(remote, os.path.join(folder, name))
    return local


def timm_input_size(path: str | os.PathLike) -> int | None:
    """The square input size timm's `config.json` beside a `model.safetensors` records
    (`pretrained_cfg.input_size`), or None where there is no such config."""
    config_path = os.path.join(os.path.dirname(os.path.abspath(path)), CONFIG_FILE)
    if not os.fspath(path).endswith(".safetensors") or not os.path.isfile(config_path):
        return None
    try:
        with open(config_path) as f:
            size = json.load(f)["pretrained_cfg"]["input_size"]
        return int(size[-1])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # not timm's config: no size to take from it


def load_keras_model(path: str | os.PathLike) -> keras.Model:
    """A `.keras` file of a BiT built by bit_keras, as it was saved (uncompiled).

    Raises:
        CheckpointError: the file is not a readable `.keras` model, or not one of a BiT.
    """
    path = os.fspath(path)
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as e:  # Keras raises many kinds for a bad file; name the file
        raise CheckpointError(
            f"{path!r} is not a readable .keras model ({type(e).__name__}: "
            f"{str(e).splitlines()[0][:200] if str(e) else ''})."
        ) from e
    try:
        layout.official_variables(model)
    except ValueError as e:
        raise CheckpointError(f"{path!r} does not hold a BiT built by bit_keras: {e}") from e
    return model


@dataclasses.dataclass(frozen=True)
class LoadedWeights:
    """What `load_weights` took from a file.

    Attributes:
        description: One line, e.g. "the body of X; a new zero-initialised 10-class head (the
            file has a 1,000-class head)".
        head_loaded: Whether the model's head holds the file's head (False: the head is new
            and zero, or the model has none).
    """

    description: str
    head_loaded: bool


def load_weights(
    model: keras.Model, path: str | os.PathLike, *, new_head: bool = False
) -> LoadedWeights:
    """Loads any weights file into `model`: the body strictly, the head when it fits.

    Args:
        model: A BiT built by bit_keras.
        path: Any file `read_official_arrays` reads.
        new_head: Start a new zero-initialised head even where the file's head fits, as BiT
            transfers (otherwise only a head of another size is replaced).

    Raises:
        CheckpointError: the body does not fit (each problem named; nothing was loaded).
    """
    path = os.fspath(path)
    arrays = read_official_arrays(path, model)
    path = _described(path)
    loaded = {k: v for k, v in arrays.items() if k not in layout.HEAD_KEYS} if new_head else arrays
    load_official_arrays(model, loaded, source=path)
    head = layout.official_variables(model).get(layout.HEAD_KERNEL)
    if head is None:
        return LoadedWeights(f"the body of {path}", head_loaded=False)
    classes = int(head.shape[-1])
    source_classes = (
        int(arrays[layout.HEAD_KERNEL].shape[-1]) if layout.HEAD_KERNEL in arrays else None
    )
    if source_classes == classes and not new_head:
        return LoadedWeights(f"the body and the {classes}-class head of {path}", head_loaded=True)
    found = "no head" if source_classes is None else f"a {source_classes:,}-class head"
    why = ", not loaded: BiT transfers with a new head" if source_classes == classes else ""
    return LoadedWeights(
        f"the body of {path}; a new zero-initialised {classes}-class head (the file has "
        f"{found}{why})",
        head_loaded=False,
    )


def _described(source: str) -> str:
    # A file in the Hugging Face cache is named by its repository too.
    if is_hub_name(source):
        return source
    repo_id = cached_repo_id(os.path.dirname(os.path.abspath(source)))
    return f"{HUB_PREFIX}{repo_id} ({source})" if repo_id else source


def save_official_weights(model: keras.Model, path: str | os.PathLike) -> dict[str, tuple]:
    """Writes a bit_keras BiT to an `.npz` in the official layout, atomically.

    The published files' keys, shapes, float32 dtype and order (root, units, final norm,
    head), readable by the official code, timm and big_vision. A model without its top
    writes a file without a head.

    Returns:
        Key to shape of what was written.

    Raises:
        CheckpointError: a weight of the model has no place in the official layout (it
            would be lost), or a value is not finite; nothing is written then.
        ValueError: `model` is not a BiT built by bit_keras, or `path` does not end in `.npz`.
    """
    arrays = _all_official_arrays(model)
    write_npz(path, arrays)
    return {key: array.shape for key, array in arrays.items()}


def save_timm_weights(
    model: keras.Model,
    folder: str | os.PathLike,
    *,
    resolution: int = 224,
    overwrite: bool = False,
) -> str:
    """Writes a bit_keras BiT in timm's Hugging Face Hub layout: a folder of
    `model.safetensors` (timm's tensor names, OIHW kernels) and timm's `config.json`.

    `timm.create_model(architecture, pretrained=True, pretrained_cfg_overlay={"file":
    FOLDER/model.safetensors})` loads it strictly; for the six published architectures the
    config names timm's model (`resnetv2_50x1_bit`, ...). The folder is written under a
    temporary name and renamed when complete.

    Args:
        model: A BiT built by bit_keras (a headless one writes no head, `num_classes` 0).
        folder: The folder to write.
        resolution: The input size the config records (`input_size`, timm's default crop).
        overwrite: Replace an existing folder.

    Returns:
        The path of the written `model.safetensors`.

    Raises:
        CheckpointError: a weight with no place in the layout, or a value that is not
            finite; nothing is written.
        FileExistsError: `folder` exists and `overwrite` is False.
    """
    from safetensors.numpy import save_file

    arrays = _all_official_arrays(model)
    for key, array in arrays.items():
        if not np.isfinite(array).all():
            raise CheckpointError(f"Not writing {os.fspath(folder)!r}: {key!r} is not finite.")
    arch = layout.infer_architecture({key: a.shape for key, a in arrays.items()})
    classes = arch.classes or 0
    features = layout.final_features(arch.width_factor)
    config = {
        "architecture": layout.timm_architecture(arch.block_units, arch.width_factor),
        "num_classes": classes,
        "num_features": features,
        "global_pool": "avg",
        "model_args": {"in_chans": 3, "num_classes": classes, "global_pool": "avg"},
        "pretrained_cfg": {
            "custom_load": False,
            "input_size": [3, resolution, resolution],
            "fixed_input_size": False,
            "interpolation": "bilinear",
            "crop_pct": 1.0,
            "crop_mode": "center",
            "mean": [0.5, 0.5, 0.5],  # BiT's [-1, 1] scaling
            "std": [0.5, 0.5, 0.5],
            "num_classes": classes,
            "pool_size": [max(1, resolution // 32)] * 2,
            "first_conv": "stem.conv",
            "classifier": "head.fc",
        },
    }
    tensors = layout.to_timm(arrays)

    def save(tmp: str) -> None:
        save_file(tensors, os.path.join(tmp, SAFETENSORS_FILE), metadata={"format": "pt"})
        with open(os.path.join(tmp, CONFIG_FILE), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")

    save_directory_atomically(folder, save, overwrite=overwrite)
    return os.path.join(os.fspath(folder), SAFETENSORS_FILE)


def _all_official_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    # Every weight of the model in the official layout; a weight with no place is refused.
    variables = layout.official_variables(model)
    mapped = {id(variable) for variable in variables.values()}
    unmapped = [w.path for w in model.weights if id(w) not in mapped]
    if unmapped:
        raise CheckpointError(
            f"Model {model.name!r} has weights the official layout has no place for: "
            f"{', '.join(unmapped[:10])}{' ...' if len(unmapped) > 10 else ''}. Nothing was "
            "written."
        )
    return layout.official_arrays(model)


def _read_safetensors(path: str) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(
            f"{path!r} is not a readable .safetensors file (truncated, corrupt or another "
            f"format): {e}"
        ) from e
    wrong = [f"{k} ({t.dtype})" for k, t in tensors.items() if t.dtype != np.float32]
    if wrong:
        raise CheckpointError(f"{path!r}: expected float32 tensors, found {', '.join(wrong[:5])}")
    return tensors


def _arrays_of(model: keras.Model, path: str) -> dict[str, np.ndarray]:
    try:
        return layout.official_arrays(model)
    except ValueError as e:
        raise CheckpointError(f"{path!r} does not hold a BiT built by bit_keras: {e}") from e


def _read_weights_h5(path: str, like: keras.Model) -> keras.Model:
    import h5py  # Keras' own dependency for `.weights.h5`

    shapes = {key: tuple(v.shape) for key, v in layout.official_variables(like).items()}
    arch = layout.infer_architecture(shapes)
    try:
        with h5py.File(path, "r") as f:
            head = f[_H5_HEAD_KERNEL].shape if _H5_HEAD_KERNEL in f else None
    except OSError as e:
        raise CheckpointError(f"{path!r} is not a readable .weights.h5 file: {e}") from e
    twin = BiTResNetV2(
        arch.block_units,
        arch.width_factor,
        include_top=head is not None,
        **({"classes": int(head[-1])} if head is not None else {}),
        name="weights_file",
    )
    try:
        twin.load_weights(path)
    except Exception as e:  # Keras' mismatch errors vary in kind; name the file and model
        raise CheckpointError(
            f"{path!r} does not fit a BiT of {arch.block_units} units per block at width "
            f"{arch.width_factor} ({type(e).__name__}: {str(e).splitlines()[0][:300]}). "
            "Nothing was loaded."
        ) from e
    return twin
