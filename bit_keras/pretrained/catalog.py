"""The published BiT weights by their official names: the registry's entries, listing and
checking names, without building anything.

An entry joins an architecture (`bit_keras.models.architectures`) to a weight set: its tag,
the URL of its official `.npz` file, timm's mirror of it on the Hugging Face Hub where there
is one, its head size, the resolution it was trained and evaluated at, and its parameter
count. This module loads neither Keras nor TensorFlow: `tools/list_models.py` and the
programs' checks of `--model` and `--weights` use it before TensorFlow loads.
`builder.py` builds models and downloads their weights.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import os

from bit_keras._runtime import files
from bit_keras.checkpoint.fetch import BIT_MODELS_URL
from bit_keras.checkpoint.formats import SUFFIXES as WEIGHTS_SUFFIXES
from bit_keras.checkpoint.hub import HUB_PREFIX, SAFETENSORS_FILE, is_hub_name, parse_hub_name
from bit_keras.models.architectures import (
    ARCHITECTURES,
    Architecture,
    architecture,
    is_architecture_name,
)
from bit_keras.predictions import IMAGENET1K_CLASSES, IMAGENET21K_CLASSES

# The `weights=` value that loads an entry's own checkpoint, whatever its tag.
DEFAULT_WEIGHTS = "default"
# Where a published name's file comes from: the official bucket, falling back to timm's Hub


@dataclasses.dataclass(frozen=True)
class PretrainedModel:
    """A published BiT checkpoint: its architecture, its weight set and where it lives.

    Attributes:
        name: Official name, e.g. `BiT-M-R50x1`.
        architecture: Key of `bit_keras.models.ARCHITECTURES`, e.g. `R50x1`.
        weights: Tag of the weight set, the value of `weights=` that loads it.
        classes: Size of the checkpoint's head.
        origin: URL of the official `.npz` file.
        description: What the weights were trained on, in one line.
        resolution: Square input size the weights were trained (upstream) or fine-tuned and
            evaluated at; predictions and exports default to it.
        params: Parameter count of the model with its head.
        hub_id: timm's copy of the same weights on the Hugging Face Hub
            (`timm/resnetv2_50x1_bit.goog_in21k`), None where timm has none (BiT-S, the
            160 px student).
    """

    name: str
    architecture: str
    weights: str
    classes: int
    origin: str
    description: str
    resolution: int
    params: int
    hub_id: str | None = None

    @property
    def hub_name(self) -> str | None:
        """`hf-hub:` + `hub_id`, as `weights=` and the programs take it; None without one."""
        return f"{HUB_PREFIX}{self.hub_id}" if self.hub_id else None

    @property
    def fname(self) -> str:
        """File name of the checkpoint in the Keras cache."""
        return f"{self.name}.npz"

    @property
    def keras_name(self) -> str:
        """Default Keras model name, e.g. `bit_m_r50x1`."""
        return self.name.lower().replace("-", "_")


# Parameter counts with the head, (1,000 classes, 21,843 classes). R50x1 (both heads),
# R101x1, R50x3 and R152x2 with 1,000 classes are the published counts (big_transfer); every
# figure equals an architecture-only count and the built Keras model's (tests/pretrained).
_PARAMS = {
    "R50x1": (25_549_352, 68_256_659),
    "R50x3": (217_319_080, 345_399_315),
    "R101x1": (44_541_480, 87_248_787),
    "R101x3": (387_934_888, 516_015_123),
    "R152x2": (236_335_208, 321_728_979),
    "R152x4": (936_533_224, 1_107_299_923),
}
# Resolutions. BiT-S and BiT-M were trained upstream on 224x224 crops (arXiv 1912.11370,
# Section 3.1). The BiT-M models fine-tuned on ILSVRC-2012 (BiT-HyperRule: resize 512, crop
# 480) are served at 448, R152x4 at 480: the sizes timm evaluates the same files at
# (timm/models/resnetv2.py, `*_bit.goog_in21k_ft_in1k`). The distilled students name theirs
# (big_transfer README, "Distilled models").
UPSTREAM_RESOLUTION = 224
ILSVRC2012_RESOLUTION = {"R152x4": 480}
ILSVRC2012_DEFAULT_RESOLUTION = 448
DISTILLED_RESOLUTIONS = (224, 160)
# The two teachers the students were distilled from: BiT-M-R152x2 fine-tuned on ILSVRC-2012
# with Inception crops at 224 px and with resized crops at 384 px (big_vision,
# configs/proj/distill/common.py: 'BiT-M R152x2 imagenet2012 ic224' and 'rc384').
TEACHER_RESOLUTIONS = (224, 384)
# timm's copies on the Hugging Face Hub (timm/models/resnetv2.py, `default_cfgs`): timm's
# architecture name, then the weight tag, by registry tag.
_TIMM_TAGS = {
    "bit-m": "goog_in21k",
    "bit-m-ilsvrc2012": "goog_in21k_ft_in1k",
    "distilled-224": "goog_distilled_in1k",
    "teacher-224": "goog_teacher_in21k_ft_in1k",
    "teacher-384": "goog_teacher_in21k_ft_in1k_384",
}
# For a checkpoint the registry does not know: the input size of keras.applications' ResNets.
FALLBACK_RESOLUTION = 224


def _published() -> dict[str, PretrainedModel]:
    models = {}
    for arch, (params_1k, params_21k) in _PARAMS.items():
        fine_tuned = ILSVRC2012_RESOLUTION.get(arch, ILSVRC2012_DEFAULT_RESOLUTION)
        for name, tag, classes, resolution, params, description in (
            (
                f"BiT-S-{arch}",
                "bit-s",
                IMAGENET1K_CLASSES,
                UPSTREAM_RESOLUTION,
                params_1k,
                "BiT-S: trained on ILSVRC-2012",
            ),
            (
                f"BiT-M-{arch}",
                "bit-m",
                IMAGENET21K_CLASSES,
                UPSTREAM_RESOLUTION,
                params_21k,
                "BiT-M: trained on ImageNet-21k (fall 2011 release)",
            ),
            (
                f"BiT-M-{arch}-ILSVRC2012",
                "bit-m-ilsvrc2012",
                IMAGENET1K_CLASSES,
                fine_tuned,
                params_1k,
                "BiT-M trained on ImageNet-21k, then fine-tuned on ILSVRC-2012",
            ),
        ):
            models[name] = PretrainedModel(
                name=name,
                architecture=arch,
                weights=tag,
                classes=classes,
                origin=f"{BIT_MODELS_URL}{name}.npz",
                description=description,
                resolution=resolution,
                params=params,
                hub_id=_timm_hub_id(arch, tag),
            )
    # Students distilled from BiT-M-R152x2 on ILSVRC-2012 (Beyer et al., arXiv 2106.05237),
    # and their two teachers.
    for arch, kind, resolutions, file_stem, description in (
        (
            "R50x1",
            "distilled",
            DISTILLED_RESOLUTIONS,
            "R50x1",
            "R50x1 distilled from BiT-M-R152x2 on ILSVRC-2012 at {0}x{0} px",
        ),
        (
            "R152x2",
            "teacher",
            TEACHER_RESOLUTIONS,
            "R152x2_T",
            "BiT-M-R152x2 fine-tuned on ILSVRC-2012 at {0}x{0} px, the teacher of the "
            "distilled R50x1",
        ),
    ):
        for resolution in resolutions:
            name, tag = f"BiT-{arch}-{kind}-{resolution}", f"{kind}-{resolution}"
            models[name] = PretrainedModel(
                name=name,
                architecture=arch,
                weights=tag,
                classes=IMAGENET1K_CLASSES,
                origin=f"{BIT_MODELS_URL}distill/{file_stem}_{resolution}.npz",
                description=description.format(resolution),
                resolution=resolution,
                params=_PARAMS[arch][0],
                hub_id=_timm_hub_id(arch, tag),
            )
    return models


def _timm_hub_id(arch: str, tag: str) -> str | None:
    timm_tag = _TIMM_TAGS.get(tag)
    return f"timm/resnetv2_{arch[1:]}_bit.{timm_tag}" if timm_tag else None


PRETRAINED: dict[str, PretrainedModel] = _published()


def list_models(pattern: str = "*", *, details: bool = False) -> list:
    """Lists the published BiT models, sorted by name.

    Args:
        pattern: Shell-style filter, e.g. `"BiT-M-*"` or `"*R50x1*"`.
        details: Return the registry entries (`PretrainedModel`: architecture, weights tag,
            URL, head size, resolution, parameter count, description) instead of the names.
            `model_table` prints them.

    Example:
    >>> list_models("BiT-S-R50*")
    ['BiT-S-R50x1', 'BiT-S-R50x3']
    >>> list_models("BiT-R50x1-distilled-160", details=True)[0].resolution
    160
    """
    names = sorted(name for name in PRETRAINED if fnmatch.fnmatchcase(name, pattern))
    return [PRETRAINED[name] for name in names] if details else names


def model_table(pattern: str = "*") -> str:
    """The published models matching `pattern` as a plain-text table, one line each."""
    header = ("name", "architecture", "weights", "classes", "resolution", "parameters")
    rows = [header] + [
        (m.name, m.architecture, m.weights, f"{m.classes:,}", str(m.resolution), f"{m.params:,}")
        for m in list_models(pattern, details=True)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {3, 4, 5}  # numbers

    def line(row):
        cells = (
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        return "  ".join(cells).rstrip()

    return "\n".join(line(row) for row in rows)


def get_model_info(name: str) -> PretrainedModel:
    """Returns the registry entry of a published model; raises ValueError for unknown names."""
    try:
        return PRETRAINED[name]
    except KeyError:
        raise ValueError(
            f"Unknown BiT model {name!r}.{_did_you_mean(name)} Known models: "
            f"{', '.join(list_models())}."
        ) from None


def find_model_for_file(path: str | os.PathLike) -> PretrainedModel | None:
    """The entry whose official file `path` is, by file name (`BiT-M-R50x1.npz`,
    `R50x1_224.npz`), or None."""
    fname = os.path.basename(os.fspath(path))
    return next(
        (m for m in PRETRAINED.values() if fname in (m.fname, os.path.basename(m.origin))),
        None,
    )


def find_model_for_hub(source: str) -> PretrainedModel | None:
    """The entry timm's Hub repository `source` (`hf-hub:timm/...`, any revision) mirrors,
    or None."""
    if not is_hub_name(source):
        return None
    repo_id = parse_hub_name(source).repo_id
    return next((m for m in PRETRAINED.values() if m.hub_id == repo_id), None)


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(str(name), [*PRETRAINED, *ARCHITECTURES], n=3)
    return f" Did you mean {', '.join(close)}?" if close else ""


def resolve_model(name: str) -> PretrainedModel | Architecture:
    """The registry entry for a published name, the architecture for an architecture name.

    Raises:
        ValueError: unknown published name or architecture, with suggestions.
    """
    if name in PRETRAINED:
        return PRETRAINED[name]
    if is_architecture_name(name):
        return architecture(name)
    if is_hub_name(name):
        raise ValueError(
            f"{name!r} is a weights source: name the architecture or a published model and "
            f"give it as the weights, e.g. --model=R50x1 --weights={name} "
            f"(create_model('R50x1', weights={name!r}))."
        )
    raise ValueError(
        f"Unknown BiT model {name!r}.{_did_you_mean(name)} Known: a published name "
        f"({', '.join(list_models())}) or an architecture R<depth>x<width> (R50x1, R14x1)."
    )


def check_weights(name: str, weights) -> PretrainedModel | Architecture:
    """Checks a `create_model(name, weights=...)` pair without building or downloading.

    Returns:
        What `name` resolves to (`resolve_model`).

    Raises:
        ValueError: unknown name, or `weights` is neither None, the entry's own weights
            (`"default"` or its tag) nor an existing file.
    """
    spec = resolve_model(name)
    if weights is None:
        return spec
    if is_hub_name(weights):
        parse_hub_name(weights)  # its form; the download comes with the build
        return spec
    if _existing_file(weights):
        if files.isfile(os.fspath(weights)) and not os.fspath(weights).endswith(WEIGHTS_SUFFIXES):
            raise ValueError(
                f"Weights files must end in one of {', '.join(WEIGHTS_SUFFIXES)} (an "
                "official-layout .npz, timm's model.safetensors, a Keras model or Keras "
                f"weights). Received: weights={os.fspath(weights)!r}"
            )
        return spec
    if isinstance(spec, PretrainedModel):
        if weights in (DEFAULT_WEIGHTS, spec.weights):
            return spec
        raise ValueError(
            f"`weights` for {spec.name} must be {spec.weights!r} (the official checkpoint), "
            f"{DEFAULT_WEIGHTS!r}, None, an hf-hub:ORG/NAME name or the path of an existing "
            f"weights file. Received: weights={weights!r}"
        )
    if weights == DEFAULT_WEIGHTS:
        raise ValueError(
            f"{spec.name!r} is an architecture without published weights: pass weights=None "
            "(--weights=none), a weights file or an hf-hub:ORG/NAME name, or a published name "
            "such as BiT-M-R50x1."
        )
    raise ValueError(
        f"`weights` for the architecture {spec.name} must be None, an hf-hub:ORG/NAME name or "
        "the path of an existing weights file (`.npz`, `.safetensors`, `.keras`, "
        f"`.weights.h5`). Received: weights={weights!r}"
    )


def _entry(source) -> PretrainedModel | None:
    # A published name's entry; None for paths and other names.
    return PRETRAINED.get(source) if isinstance(source, str) else None


def _existing_file(source) -> bool:
    # A weights file, or a folder in timm's Hub layout (its model.safetensors).
    if not isinstance(source, (str, os.PathLike)):
        return False
    source = os.fspath(source)
    return files.isfile(source) or files.isfile(files.join(source, SAFETENSORS_FILE))


def check_source(source) -> None:
    """Raises ValueError unless `source` can name a checkpoint: a published name, an
    `hf-hub:` name of the right form, or an existing file or timm-layout folder. Nothing is
    read or downloaded (the programs check `--checkpoint` so before TensorFlow loads)."""
    if _entry(source) is not None or _existing_file(source):
        return
    if is_hub_name(source):
        parse_hub_name(source)
        return
    raise ValueError(
        f"{source!r} is neither a published BiT model, an hf-hub:ORG/NAME name nor an existing "
        f"checkpoint file.{_did_you_mean(str(source))}"
    )
