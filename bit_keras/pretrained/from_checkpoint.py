"""Building a BiT model straight from an official `.npz` checkpoint, whatever its shape."""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from bit_keras.checkpoint.hub import SAFETENSORS_FILE, cached_repo_id, is_hub_name, parse_hub_name
from bit_keras.checkpoint.layout import CheckpointArchitecture, infer_architecture
from bit_keras.checkpoint.loading import load_official_arrays
from bit_keras.checkpoint.weights_file import read_official_arrays
from bit_keras.models.architectures import Architecture
from bit_keras.models.bit_resnet_v2 import BiTResNetV2


def model_from_checkpoint(
    path: str | os.PathLike,
    *,
    include_top: bool = True,
    input_tensor=None,
    input_shape: Sequence[int | None] | None = None,
    pooling: str | None = None,
    classes: int | None = None,
    classifier_activation=None,
    strict: bool = True,
    name: str | None = None,
) -> keras.Model:
    """Builds the BiT ResNet-v2 a weights file describes, and loads it.

    The depth (units per block), width factor and head size are read off the file's keys and
    shapes, so any file in a known layout works, published or not.

    Args:
        path: An official-layout `.npz`; timm's `model.safetensors` or a folder holding one
            (timm's Hugging Face Hub layout; PyTorch's pickled `pytorch_model.bin` is refused);
            a Hub repository in that layout, `hf-hub:ORG/NAME[@REVISION]` (downloaded into
            the Hugging Face cache once, see `bit_keras.checkpoint.hub`); or a `.keras` model
            of a BiT.
        include_top: Whether to include the classification head.
        input_tensor: Optional Keras tensor to use as the input.
        input_shape: Shape without the batch axis; defaults to `(None, None, 3)`.
        pooling: Without the top: `None`, `"avg"` or `"max"`.
        classes: Head size; defaults to the checkpoint's (an error if it has no head).
        classifier_activation: Activation of the head; `None` returns logits.
        strict: See `bit_keras.checkpoint.load_official_weights`.
        name: Keras name of the model; defaults to the file's (or the repository's) name in
            snake case.

    Returns:
        A functional `keras.Model` holding the checkpoint's weights.

    Raises:
        CheckpointError: the file is unreadable or not in the official layout.
    """
    path = os.fspath(path)
    return model_from_arrays(
        read_official_arrays(path, like=None),
        source=path,
        include_top=include_top,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        strict=strict,
        name=name or _default_name(path),
    )


def _default_name(source: str) -> str:
    # The file's name; for timm's model.safetensors its folder's, or its Hub repository's
    # (a name or a file in the Hugging Face cache).
    if is_hub_name(source):
        stem = parse_hub_name(source).name
    else:
        stem = os.path.basename(os.path.normpath(source))
        if stem == SAFETENSORS_FILE:
            folder = os.path.dirname(os.path.abspath(source))
            repo_id = cached_repo_id(folder)
            stem = repo_id.split("/", 1)[1] if repo_id else os.path.basename(folder)
        for suffix in (".npz", ".safetensors", ".keras"):
            stem = stem.removesuffix(suffix)
    return "".join(c if c.isalnum() else "_" for c in stem).lower()


def model_from_arrays(
    arrays: dict,
    *,
    source: str = "<arrays>",
    include_top: bool = True,
    input_tensor=None,
    input_shape: Sequence[int | None] | None = None,
    pooling: str | None = None,
    classes: int | None = None,
    classifier_activation=None,
    strict: bool = True,
    name: str = "bit_resnet_v2",
) -> keras.Model:
    """Like `model_from_checkpoint`, from official-layout arrays already read (`source` names
    them in messages)."""
    path = source
    arch = infer_architecture({key: array.shape for key, array in arrays.items()})
    if classes is None:
        classes = arch.classes
    if include_top and classes is None:
        raise ValueError(
            f"Checkpoint {path!r} has no head: pass `classes=` for a new head, or "
            "`include_top=False`."
        )
    model = build_architecture(
        arch,
        include_top=include_top,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name,
    )
    load_official_arrays(model, arrays, strict=strict, source=path)
    return model


def build_architecture(
    arch: Architecture | CheckpointArchitecture,
    *,
    include_top: bool,
    classes: int | None,
    name: str,
    **keras_arguments,
) -> keras.Model:
    """`BiTResNetV2` of `arch`'s depth and width with the `keras.applications` arguments
    (`input_tensor`, `input_shape`, `pooling`, `classifier_activation`): what `create_model`
    and `model_from_checkpoint` build before loading weights. `classes` goes to the head only."""
    return BiTResNetV2(
        arch.block_units,
        arch.width_factor,
        include_top=include_top,
        **({"classes": classes} if include_top else {}),
        name=name,
        **keras_arguments,
    )
