"""The published BiT models by their official names: architectures and weight sets apart."""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import os
import re
from collections.abc import Sequence

import keras

from bit_keras.checkpoint.fetch import BIT_MODELS_URL, fetch_checkpoint
from bit_keras.models.bit_resnet_v2 import BiTResNetV2


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A BiT ResNet-v2 shape: units per block and width factor."""

    name: str
    block_units: tuple[int, ...]
    width_factor: int


# Depths of ResNet-50/101/152 (He et al., 2016); the BiT widths are those published in
# github.com/google-research/big_transfer.
_DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
# Small, unpublished depths for training from scratch and smoke runs (2 + 3 * units layers).
_SMALL_DEPTHS = {14: (1, 1, 1, 1), 26: (2, 2, 2, 2)}
ARCHITECTURES: dict[str, Architecture] = {
    f"R{depth}x{width}": Architecture(f"R{depth}x{width}", _DEPTHS[depth], width)
    for depth, width in ((50, 1), (50, 3), (101, 1), (101, 3), (152, 2), (152, 4))
}

_ARCH_NAME = re.compile(r"^R(\d+)x(\d+)$")


def architecture(name: str) -> Architecture:
    """An architecture by name: a published one (`R50x1` ... `R152x4`), or any width of
    depth 14, 26, 50, 101 or 152 (`R14x1`, `R26x2`), published weights or not."""
    if name in ARCHITECTURES:
        return ARCHITECTURES[name]
    match = _ARCH_NAME.match(name)
    depths = {**_SMALL_DEPTHS, **_DEPTHS}
    if not match or int(match[1]) not in depths or int(match[2]) < 1:
        raise ValueError(
            f"Unknown architecture {name!r}: expected R<depth>x<width> with depth in "
            f"{sorted(depths)}, e.g. R50x1."
        )
    return Architecture(name, depths[int(match[1])], int(match[2]))


IMAGENET1K_CLASSES = 1000
IMAGENET21K_CLASSES = 21843


@dataclasses.dataclass(frozen=True)
class PretrainedModel:
    """A published BiT checkpoint: its architecture, its weight set and where it lives.

    Attributes:
        name: Official name, e.g. `BiT-M-R50x1`.
        architecture: Key of `ARCHITECTURES`.
        weights: Tag of the weight set, the value of `weights=` that loads it.
        classes: Size of the checkpoint's head.
        origin: URL of the official `.npz` file.
        description: What the weights were trained on.
    """

    name: str
    architecture: str
    weights: str
    classes: int
    origin: str
    description: str

    @property
    def fname(self) -> str:
        """File name of the checkpoint in the Keras cache."""
        return f"{self.name}.npz"

    @property
    def keras_name(self) -> str:
        """Default Keras model name, e.g. `bit_m_r50x1`."""
        return self.name.lower().replace("-", "_")


def _published() -> dict[str, PretrainedModel]:
    models = {}
    for arch in ARCHITECTURES:
        for name, tag, classes, description in (
            (f"BiT-S-{arch}", "bit-s", IMAGENET1K_CLASSES, "BiT-S: trained on ILSVRC-2012"),
            (
                f"BiT-M-{arch}",
                "bit-m",
                IMAGENET21K_CLASSES,
                "BiT-M: trained on ImageNet-21k (fall 2011 release)",
            ),
            (
                f"BiT-M-{arch}-ILSVRC2012",
                "bit-m-ilsvrc2012",
                IMAGENET1K_CLASSES,
                "BiT-M trained on ImageNet-21k, then fine-tuned on ILSVRC-2012",
            ),
        ):
            models[name] = PretrainedModel(
                name, arch, tag, classes, f"{BIT_MODELS_URL}{name}.npz", description
            )
    # Students distilled from BiT-M-R152x2 on ILSVRC-2012 (Beyer et al., arXiv 2106.05237).
    for resolution in (224, 160):
        name = f"BiT-R50x1-distilled-{resolution}"
        models[name] = PretrainedModel(
            name,
            "R50x1",
            f"distilled-{resolution}",
            IMAGENET1K_CLASSES,
            f"{BIT_MODELS_URL}distill/R50x1_{resolution}.npz",
            f"R50x1 distilled from BiT-M-R152x2 on ILSVRC-2012 at {resolution}x{resolution} px",
        )
    return models


PRETRAINED: dict[str, PretrainedModel] = _published()


def list_models(pattern: str = "*") -> list[str]:
    """Lists the official names of the published BiT models, sorted.

    Args:
        pattern: Shell-style filter, e.g. `"BiT-M-*"` or `"*R50x1*"`.

    Example:
    >>> list_models("BiT-S-R50*")
    ['BiT-S-R50x1', 'BiT-S-R50x3']
    """
    return sorted(name for name in PRETRAINED if fnmatch.fnmatchcase(name, pattern))


def get_model_info(name: str) -> PretrainedModel:
    """Returns the registry entry of a published model; raises ValueError for unknown names."""
    try:
        return PRETRAINED[name]
    except KeyError:
        raise ValueError(
            f"Unknown BiT model {name!r}.{_did_you_mean(name)} Known models: "
            f"{', '.join(list_models())}."
        ) from None


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, PRETRAINED, n=3)
    return f" Did you mean {', '.join(close)}?" if close else ""


def create_model(
    name: str,
    *,
    weights: str | os.PathLike | None = "default",
    include_top: bool = True,
    input_tensor=None,
    input_shape: Sequence[int | None] | None = None,
    pooling: str | None = None,
    classes: int | None = None,
    classifier_activation=None,
    model_name: str | None = None,
) -> keras.Model:
    """Creates a published BiT model by its official name.

    Args:
        name: Official name, see `list_models()`, e.g. `"BiT-M-R50x1"`.
        weights: `"default"` or the model's weight tag (`"bit-m"`, `"bit-s"`, ...) for the
            official checkpoint (downloaded into the Keras cache once), `None` for random
            initialisation, or the path of an official `.npz` or a `.weights.h5` file.
        include_top: Whether to include the classification head.
        input_tensor: Optional Keras tensor to use as the input.
        input_shape: Shape without the batch axis; defaults to `(None, None, 3)`.
        pooling: Without the top: `None`, `"avg"` or `"max"`.
        classes: Head size; defaults to the checkpoint's. Another size gets a new
            zero-initialised head (BiT's transfer recipe).
        classifier_activation: Activation of the head; `None` returns logits.
        model_name: Keras name of the model; defaults to the official name in snake case.

    Returns:
        A functional `keras.Model`.

    Example:
    >>> model = create_model("BiT-M-R50x1", weights=None, classes=10)
    >>> model.output_shape
    (None, 10)
    """
    info = get_model_info(name)
    arch = ARCHITECTURES[info.architecture]
    weights_path = resolve_weights(info, weights)
    return BiTResNetV2(
        arch.block_units,
        arch.width_factor,
        include_top=include_top,
        weights=weights_path,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=info.classes if classes is None else classes,
        classifier_activation=classifier_activation,
        name=model_name or info.keras_name,
    )


def checkpoint_path(source: str | os.PathLike) -> str:
    """Local path of an official checkpoint given a published model's name or a file path.

    A name (see `list_models()`) is downloaded into the Keras cache once.

    Raises:
        ValueError: `source` is neither a published model's name nor an existing file.
    """
    if isinstance(source, str) and source in PRETRAINED:
        info = PRETRAINED[source]
        return fetch_checkpoint(info.fname, info.origin)
    if os.path.isfile(source):
        return os.fspath(source)
    raise ValueError(
        f"{source!r} is neither a published BiT model nor an existing checkpoint file."
        f"{_did_you_mean(str(source))}"
    )


def resolve_weights(info: PretrainedModel, weights) -> str | None:
    """Turns a `weights=` argument into a local file path (downloading if needed) or None."""
    if weights is None:
        return None
    if weights in ("default", info.weights):
        return fetch_checkpoint(info.fname, info.origin)
    if isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights):
        return os.fspath(weights)
    raise ValueError(
        f"`weights` for {info.name} must be {info.weights!r} (the official checkpoint), "
        f"'default', None, or the path of an existing weights file. Received: weights={weights!r}"
    )
