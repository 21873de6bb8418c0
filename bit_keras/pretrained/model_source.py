"""A BiT model named by a program's `--model`, with its resolution, class names and provenance.

`--model` of the export programs, `bit-embed` and `bit-fewshot` is a published name, an
official `.npz` file, a Keras `.keras` file (such as a fine-tuning run's `model.keras`), or
weights in timm's layout: a `model.safetensors`, a folder holding one, or an
`hf-hub:ORG/NAME[@REVISION]` repository.
`check_model_spec` validates that without building anything (an `hf-hub:` repository is
fetched into the Hugging Face cache there, so a missing one fails first), so bad flags fail
before any work; `load_model_source` builds it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import TYPE_CHECKING

from bit_keras._runtime import files
from bit_keras.checkpoint.hub import is_timm_source
from bit_keras.predictions import class_ids, class_names
from bit_keras.pretrained import catalog

if TYPE_CHECKING:
    import keras

# A run's record beside its `model.keras` (written by `bit_keras.training`).
RUN_CONFIG_FILE = "config.json"
# Below this, the five stride-2 stages of a BiT ResNet leave no feature map worth pooling.
MIN_RESOLUTION = 32


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A checked `--model`: its kind, where its weights are and the resolution to use.

    Attributes:
        source: What the user passed.
        kind: `"published"`, `"npz"`, `"keras"` or `"timm"` (timm's layout: a file, a
            folder or an `hf-hub:` repository).
        resolution: Square input size: the registry's serving resolution, the crop a run
            trained at, the input size of timm's config, or the one passed.
        resolution_from: Where `resolution` came from, in words.
        info: The registry entry of a published model (also of an official file name).
        run_config: A `.keras` file's run record (`config.json` beside it), if any.
    """

    source: str
    kind: str
    resolution: int
    resolution_from: str
    info: catalog.PretrainedModel | None = None
    run_config: dict | None = None


@dataclasses.dataclass(frozen=True)
class ModelSource:
    """A built model, with what the exporters and the feature programs say about it.

    Attributes:
        spec: The checked `--model`.
        model: The Keras model (logits out, inputs preprocessed to [-1, 1]).
        class_names: One label per output class, in head order.
        name: Short name for files and the model card (`bit_m_r50x1`).
        description: One line on what the model is.
    """

    spec: ModelSpec
    model: keras.Model
    class_names: tuple[str, ...]
    name: str
    description: str

    @classmethod
    def read(cls, source: str, resolution: int | None = None) -> ModelSource:
        """The model `source` names, built: a published name, an official `.npz`, a `.keras`
        file (a run's `model.keras`: its class names and crop from the run's config.json), or
        timm's layout (`model.safetensors`, its folder, `hf-hub:ORG/NAME`). `resolution` as
        the exporters' `--resolution` (default: the one the source is known to take).

        Example:
            >>> source = ModelSource.read("/tmp/bit_digits/model.keras")
            >>> bit_keras.export.export_tflite(source, "digits.tflite", check_images=...)
        """
        return load_model_source(check_model_spec(source, resolution))


def check_model_spec(
    source: str,
    resolution: int | None = None,
    *,
    min_resolution: int = MIN_RESOLUTION,
    default_resolution: int | None = None,
) -> ModelSpec:
    """Checks `--model` and `--resolution` without building or downloading anything.

    `min_resolution` is the smallest `resolution` accepted: 32 for the exporters, whose
    serving models pool the last feature map; the feature programs take any. Where no
    resolution is given or known, `default_resolution` is taken (None: an error).

    Raises:
        ValueError: unknown name (with suggestions), a missing or unreadable file, a file of
            another kind, no resolution to be found, or a resolution below 32.
    """
    if resolution is not None and resolution < min_resolution:
        raise ValueError(
            f"--resolution must be at least {min_resolution}. Received: resolution={resolution}"
        )
    source = os.fspath(source)
    default = default_resolution
    if source.endswith((".keras", ".npz", ".safetensors")):
        if not files.isfile(source):
            raise ValueError(f"Model file {source!r} does not exist.")
        if not files.is_remote(source) and not os.access(source, os.R_OK):
            raise ValueError(f"Model file {source!r} is not readable.")
    if is_timm_source(source):
        info = catalog.find_model_for_hub(source)
        known_from = "the registry" if info else "timm's config.json"
        known = None if resolution is not None else _known_resolution(source)
        return _spec(source, "timm", resolution, known, known_from, None, info, default)
    if source.endswith(".keras"):
        run_config = _read_run_config(source)
        crop = ((run_config or {}).get("resolved") or {}).get("crop")
        known_from = f"the run's {RUN_CONFIG_FILE}"
        return _spec(source, "keras", resolution, crop, known_from, run_config, None, default)
    if source.endswith(".npz"):
        info = catalog.find_model_for_file(source)
        known = info.resolution if info else None
        return _spec(source, "npz", resolution, known, "the registry", None, info, default)
    info = catalog.get_model_info(source)  # ValueError with suggestions
    return _spec(source, "published", resolution, info.resolution, "the registry", None, info)


def load_model_source(spec: ModelSpec) -> ModelSource:
    """Builds (and for published names downloads once) the model a `ModelSpec` names."""
    import keras

    from bit_keras.pretrained.builder import checkpoint_path
    from bit_keras.pretrained.from_checkpoint import model_from_checkpoint

    if spec.kind == "keras":
        try:
            model = keras.saving.load_model(spec.source)
        except Exception as e:  # Keras raises many kinds for a file that is not a model
            raise ValueError(f"Cannot load {spec.source!r} as a Keras model: {e}") from e
        name = _snake(model.name)
        labels = (spec.run_config or {}).get("class_names")
        config = (spec.run_config or {}).get("config") or {}
        what = f"fine-tuned from {config['model']} on {config['dataset']}" if config else ""
        description = f"BiT ResNet-v2 {what}".strip() + f" ({os.path.basename(spec.source)})."
    else:
        timm = spec.kind == "timm"  # a folder or hf-hub: name, which names the model
        path = spec.source if timm else checkpoint_path(spec.source)
        model = model_from_checkpoint(path)
        info = spec.info
        name = _snake(info.name if info else model.name)
        labels = None
        if info:
            description = info.description
        elif timm:
            description = f"BiT in timm's layout, {spec.source}."
        else:
            description = f"BiT checkpoint {os.path.basename(path)}."
    classes = model.output_shape[-1]
    return ModelSource(spec, model, _class_names(classes, labels), name, description)


def _spec(
    source, kind, resolution, known, known_from, run_config, info=None, default=None
) -> ModelSpec:
    if resolution is not None:
        return ModelSpec(source, kind, resolution, "--resolution", info, run_config)
    if known is None and default is not None:
        return ModelSpec(source, kind, default, "the default", info, run_config)
    if known is None:
        raise ValueError(
            f"No resolution is known for {source!r} (not a published model, no "
            f"{RUN_CONFIG_FILE} of a run beside it): pass --resolution."
        )
    return ModelSpec(source, kind, int(known), known_from, info, run_config)


def _read_run_config(path: str) -> dict | None:
    config_path = files.join(files.parent(files.absolute(path)), RUN_CONFIG_FILE)
    if not files.isfile(config_path):
        return None
    try:
        with files.open_file(config_path) as f:
            return json.load(f)
    except Exception as e:  # OSError, JSON's ValueError; TensorFlow's errors for gs://
        raise ValueError(f"Cannot read the run record {config_path!r}: {e}") from e


def _class_names(classes: int, labels) -> tuple[str, ...]:
    if labels is not None and len(labels) == classes:
        return tuple(str(label) for label in labels)
    try:
        names = class_names()
        return tuple(f"{wnid} {names.get(wnid, '')}".strip() for wnid in class_ids(classes))
    except ValueError:  # not an ImageNet head: a fine-tuned one without recorded names
        return tuple(str(i) for i in range(classes))


def _snake(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_").lower()


def _known_resolution(source: str) -> int | None:
    from bit_keras.pretrained.builder import known_resolution  # loads Keras

    return known_resolution(source)
