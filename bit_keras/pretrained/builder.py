"""Building models from the published BiT weights (`catalog.py` holds the entries), and
downloading them.

`create_model` builds any entry, or any bare architecture (`R50x1`, `R14x1`) with no
weights or with weights from a file or the Hub.

A published name downloads from the official bucket into the Keras cache once; when that
fails, from timm's Hub mirror into the Hugging Face cache, saying so. `$BIT_KERAS_WEIGHTS_SOURCE`
(`auto`, `bucket` or `hub`) or `fetch(..., source=)` chooses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import keras

from bit_keras.checkpoint.fetch import CheckpointDownloadError, fetch_checkpoint
from bit_keras.checkpoint.hub import is_hub_name
from bit_keras.checkpoint.weights_file import load_weights, local_weights_file, timm_input_size
from bit_keras.models.architectures import ARCHITECTURES
from bit_keras.predictions import IMAGENET1K_CLASSES
from bit_keras.pretrained.catalog import (
    DEFAULT_WEIGHTS,
    FALLBACK_RESOLUTION,
    PretrainedModel,
    _entry,
    _existing_file,
    check_source,
    check_weights,
    find_model_for_file,
    find_model_for_hub,
)
from bit_keras.pretrained.from_checkpoint import build_architecture, model_from_checkpoint

logger = logging.getLogger(__name__)

# mirror (`auto`), or only one of them. The environment variable sets the default.
WEIGHTS_SOURCES = ("auto", "bucket", "hub")
WEIGHTS_SOURCE_ENV = "BIT_KERAS_WEIGHTS_SOURCE"


def known_resolution(source: str | os.PathLike) -> int | None:
    """The square size a checkpoint is meant to run at, where it can be known: the registry
    entry's for a published name, an official file name (`find_model_for_file`) or timm's Hub
    mirror of an entry; else the input size in timm's `config.json` beside a
    `model.safetensors`, in its folder, or in an `hf-hub:` repository (fetched into the
    Hugging Face cache for it). None otherwise."""
    info = _entry(source) or find_model_for_hub(source)
    if info is None and not is_hub_name(source):
        info = find_model_for_file(source)
    if info is not None:
        return info.resolution
    if is_hub_name(source) or _existing_file(source):
        return timm_input_size(local_weights_file(source))
    return None


def default_resolution(source: str | os.PathLike) -> int:
    """`known_resolution(source)`, else `FALLBACK_RESOLUTION` (224)."""
    return known_resolution(source) or FALLBACK_RESOLUTION


def fetch(info: PretrainedModel, source: str | None = None) -> str:
    """Local path of a published checkpoint, downloaded once.

    Args:
        info: The registry entry.
        source: `"auto"`: the official `.npz` from the bucket into the Keras cache (a file
            already there is used as it is), and when that fails, timm's copy from the
            Hugging Face Hub into its cache; `"bucket"` or `"hub"`: only that one. Defaults to
            `$BIT_KERAS_WEIGHTS_SOURCE`, else `"auto"`. Which one was used is logged (a
            warning when the bucket failed).

    Raises:
        CheckpointDownloadError: no source gave the file (each one's reason in the message).
        ValueError: an unknown `source`, or `"hub"` for an entry timm does not mirror.
    """
    source = source or os.environ.get(WEIGHTS_SOURCE_ENV) or "auto"
    if source not in WEIGHTS_SOURCES:
        raise ValueError(
            f"The weights source must be one of {', '.join(WEIGHTS_SOURCES)} (the "
            f"{WEIGHTS_SOURCE_ENV} environment variable or `source=`). Received: {source!r}"
        )
    if source == "hub":
        if info.hub_name is None:
            raise ValueError(
                f"{info.name} has no Hugging Face Hub mirror (timm mirrors BiT-M, "
                f"BiT-M-*-ILSVRC2012, the 224 px student and the teachers): use the bucket "
                f"({WEIGHTS_SOURCE_ENV}=auto or bucket)."
            )
        path = local_weights_file(info.hub_name)
        logger.info("%s: timm's copy of the weights, %s (%s).", info.name, info.hub_name, path)
        return path
    try:
        path = fetch_checkpoint(info.fname, info.origin)
    except CheckpointDownloadError as bucket_error:
        if source == "bucket" or info.hub_name is None:
            raise
        try:
            path = local_weights_file(info.hub_name)  # as any hf-hub: name, config beside
        except CheckpointDownloadError as hub_error:
            raise CheckpointDownloadError(
                f"{info.name}: neither source gave the weights. The official bucket: "
                f"{bucket_error} The Hugging Face Hub: {hub_error}"
            ) from hub_error
        logger.warning(
            "%s: the official bucket failed (%s); using timm's copy of the same weights, %s (%s).",
            info.name,
            bucket_error,
            info.hub_name,
            path,
        )
        return path
    logger.info("%s: the official checkpoint %s (from %s).", info.name, path, info.origin)
    return path


def checkpoint_path(source: str | os.PathLike) -> str:
    """Local path of an official checkpoint given a published model's name or a file path.

    A name (see `list_models()`) is downloaded into the Keras cache once.

    Raises:
        ValueError: `source` is neither a published model's name nor an existing file.
    """
    return _weights_path(source, _entry(source))


def weights_path(name: str, weights) -> str | None:
    """The local file `create_model(name, weights=weights)` loads (None for `weights=None`).

    A published checkpoint is downloaded into the Keras cache once.

    Raises:
        ValueError: as `check_weights`.
    """
    spec = check_weights(name, weights)
    if weights is None:
        return None
    return _weights_path(weights, spec if isinstance(spec, PretrainedModel) else None)


def create_model(
    name: str,
    *,
    weights: str | os.PathLike | None = DEFAULT_WEIGHTS,
    include_top: bool = True,
    input_tensor=None,
    input_shape: Sequence[int | None] | None = None,
    pooling: str | None = None,
    classes: int | None = None,
    classifier_activation=None,
    model_name: str | None = None,
) -> keras.Model:
    """Creates a BiT model: a published one by its official name, or a bare architecture.

    Like timm and the official code, it returns logits (`classifier_activation=None`): train
    it with `from_logits=True` losses. The `bit_keras.applications` constructors build the same
    models with `keras.applications`' default, a softmax head.

    Args:
        name: Official name, see `list_models()`, e.g. `"BiT-M-R50x1"`; an architecture,
            `R<depth>x<width>` (`"R50x1"`, `"R14x1"`), which has no published weights; or a
            Hugging Face Hub repository in timm's layout, `"hf-hub:ORG/NAME[@REVISION]"`
            (`"hf-hub:timm/resnetv2_50x1_bit.goog_in21k"`), whose weights say its architecture.
        weights: `"default"` or the model's weight tag (`"bit-m"`, `"bit-s"`, ...) for the
            official checkpoint (downloaded once, see `fetch`), `None` for random
            initialisation, an `"hf-hub:ORG/NAME[@REVISION]"` repository in timm's layout
            (downloaded into the Hugging Face cache once), or the path of a weights file: an
            official-layout `.npz`, timm's `model.safetensors` (or its folder), a `.keras`
            model or a `.weights.h5` file of a BiT (a run's `model.keras`). The body loads
            strictly; a head of another size than `classes` is replaced by a new
            zero-initialised head, as BiT transfers. An architecture takes no `"default"`;
            an `hf-hub:` name only `"default"`.
        include_top: Whether to include the classification head.
        input_tensor: Optional Keras tensor to use as the input.
        input_shape: Shape without the batch axis; defaults to `(None, None, 3)`.
        pooling: Without the top: `None`, `"avg"` or `"max"`.
        classes: Head size; defaults to the checkpoint's (1,000 for an architecture). Another
            size gets a new zero-initialised head (BiT's transfer recipe).
        classifier_activation: Activation of the head: `None` (default) returns logits,
            `"softmax"` probabilities.
        model_name: Keras name of the model; defaults to the name in snake case.

    Returns:
        A functional `keras.Model`.

    Raises:
        ValueError: unknown name (with suggestions) or a `weights` value it cannot use.

    Example:
    >>> model = create_model("BiT-M-R50x1", weights=None, classes=10)
    >>> model.output_shape
    (None, 10)
    >>> create_model("R14x1", weights=None, input_shape=(32, 32, 3)).name
    'r14x1'
    """
    if is_hub_name(name):
        return _create_from_hub(
            name,
            weights,
            include_top=include_top,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            name=model_name,
        )
    spec = check_weights(name, weights)
    info = spec if isinstance(spec, PretrainedModel) else None
    arch = ARCHITECTURES[info.architecture] if info else spec
    default_classes = info.classes if info else IMAGENET1K_CLASSES
    path = None if weights is None else _weights_path(weights, info)
    model = build_architecture(
        arch,
        include_top=include_top,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=default_classes if classes is None else classes,
        classifier_activation=classifier_activation,
        name=model_name or spec.keras_name,
    )
    if path is not None:
        if model.input_shape[-1] != 3:
            raise ValueError(
                "BiT weights take 3-channel (RGB) input. "
                f"Received: input_shape={model.input_shape[1:]}"
            )
        load_weights(model, path)
    return model


def _create_from_hub(source: str, weights, *, name: str | None, **kwargs) -> keras.Model:
    # `create_model("hf-hub:...")`, as timm takes it: the repository's weights say the
    # architecture and the head.
    if weights != DEFAULT_WEIGHTS:
        raise ValueError(
            f"An hf-hub: name brings its own weights: pass weights={DEFAULT_WEIGHTS!r}, or name "
            f"the architecture for other weights (create_model('R50x1', weights=...)). "
            f"Received: weights={weights!r}"
        )
    return model_from_checkpoint(source, name=name, **kwargs)


def _weights_path(source, info: PretrainedModel | None) -> str:
    # The one place a weights source becomes a local file: the entry's name, tag or
    # "default" is downloaded once (`fetch`); an hf-hub: name from the Hub; a folder in timm's
    # layout gives its model.safetensors; an existing file is used as it is.
    if info is not None and source in (info.name, info.weights, DEFAULT_WEIGHTS):
        return fetch(info)
    check_source(source)
    return local_weights_file(source)
