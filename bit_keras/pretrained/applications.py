"""`keras.applications`-style constructors, one per published BiT model and weight set.

Each takes the `keras.applications` arguments, with their defaults (a softmax head), and
defaults to its official checkpoint:

    model = bit_keras.applications.BiT_M_R50x1()                # ImageNet-21k, 21,843 classes
    model = bit_keras.applications.BiT_M_R50x1(classes=10)      # new zero head for transfer
    features = bit_keras.applications.BiT_S_R101x1(include_top=False, pooling="avg")

`bit_keras.create_model` builds the same models but returns logits, as timm and the official
code do.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from bit_keras.pretrained.builder import create_model
from bit_keras.pretrained.catalog import PRETRAINED

_DOC = """Instantiates {name}: {description}.

    Big Transfer (BiT): https://arxiv.org/abs/1912.11370. Weights: {origin}
    ({params} parameters with the head){mirror}. Trained and evaluated at
    {resolution}x{resolution} px; the model takes any size.

    Args:
        include_top: Whether to include the classification head.
        weights: {tag!r} (default) for the official checkpoint, downloaded once into the
            Keras cache (`bit_keras.pretrained.builder.fetch`); `None` for random initialisation;
            an `hf-hub:ORG/NAME` repository in timm's layout; or the path of a weights file of
            a BiT of this architecture: an official-layout `.npz`, timm's `model.safetensors`,
            a `.keras` model (a run's `model.keras`) or a `.weights.h5` file, with any head.
        input_tensor: Optional Keras tensor to use as the model's input.
        input_shape: Shape without the batch axis; defaults to `(None, None, 3)`, any size.
        pooling: With `include_top=False`: `None` (4D features), `"avg"` or `"max"`.
        classes: Head size; {classes} loads the checkpoint's head, any other size gets a new
            zero-initialised head (BiT's transfer recipe).
        classifier_activation: Activation of the head: `"softmax"` (default, as in
            `keras.applications`: probabilities, for Keras' string losses such as
            `"sparse_categorical_crossentropy"`), or `None` for BiT's raw logits (then use
            `from_logits=True`). With the checkpoint's own head, only `None` and `"softmax"`;
            a new head (other `classes`) takes any activation.
        name: Name of the model.

    Returns:
        A functional `keras.Model`. Inputs are RGB images scaled by
        `bit_keras.preprocess_input` to [-1, 1].

    Raises:
        ValueError: a `weights` value it cannot use, a bad `pooling` or `classes`, or an
            activation other than `None` or `"softmax"` on the checkpoint's own head.
    """


def _application(official_name: str) -> Callable[..., keras.Model]:
    info = PRETRAINED[official_name]

    def constructor(
        include_top: bool = True,
        weights=info.weights,
        input_tensor=None,
        input_shape=None,
        pooling: str | None = None,
        classes: int = info.classes,
        classifier_activation="softmax",
        name: str = info.keras_name,
    ) -> keras.Model:
        pretrained_head = include_top and weights is not None and classes == info.classes
        if pretrained_head and classifier_activation not in (None, "softmax"):
            # keras.applications' rule (imagenet_utils.validate_activation): a loaded head was
            # trained with a softmax.
            raise ValueError(
                "Only `None` and `softmax` activations are allowed for the "
                "`classifier_activation` argument when using pretrained weights with their own "
                f"head ({info.classes:,} classes); pass `classes` for a new head. "
                f"Received: classifier_activation={classifier_activation!r}"
            )
        return create_model(
            official_name,
            weights=weights,
            include_top=include_top,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            model_name=name,
        )

    constructor.__name__ = constructor.__qualname__ = official_name.replace("-", "_")
    constructor.__doc__ = _DOC.format(
        name=info.name,
        description=info.description,
        origin=info.origin,
        mirror=f"; timm's copy: {info.hub_name}" if info.hub_name else "",
        tag=info.weights,
        classes=f"{info.classes:,}",
        params=f"{info.params:,}",
        resolution=info.resolution,
    )
    return constructor


BiT_S_R50x1 = _application("BiT-S-R50x1")
BiT_M_R50x1 = _application("BiT-M-R50x1")
BiT_M_R50x1_ILSVRC2012 = _application("BiT-M-R50x1-ILSVRC2012")
BiT_S_R50x3 = _application("BiT-S-R50x3")
BiT_M_R50x3 = _application("BiT-M-R50x3")
BiT_M_R50x3_ILSVRC2012 = _application("BiT-M-R50x3-ILSVRC2012")
BiT_S_R101x1 = _application("BiT-S-R101x1")
BiT_M_R101x1 = _application("BiT-M-R101x1")
BiT_M_R101x1_ILSVRC2012 = _application("BiT-M-R101x1-ILSVRC2012")
BiT_S_R101x3 = _application("BiT-S-R101x3")
BiT_M_R101x3 = _application("BiT-M-R101x3")
BiT_M_R101x3_ILSVRC2012 = _application("BiT-M-R101x3-ILSVRC2012")
BiT_S_R152x2 = _application("BiT-S-R152x2")
BiT_M_R152x2 = _application("BiT-M-R152x2")
BiT_M_R152x2_ILSVRC2012 = _application("BiT-M-R152x2-ILSVRC2012")
BiT_S_R152x4 = _application("BiT-S-R152x4")
BiT_M_R152x4 = _application("BiT-M-R152x4")
BiT_M_R152x4_ILSVRC2012 = _application("BiT-M-R152x4-ILSVRC2012")
BiT_R50x1_distilled_224 = _application("BiT-R50x1-distilled-224")
BiT_R50x1_distilled_160 = _application("BiT-R50x1-distilled-160")
BiT_R152x2_teacher_224 = _application("BiT-R152x2-teacher-224")
BiT_R152x2_teacher_384 = _application("BiT-R152x2-teacher-384")

__all__ = [
    "BiT_M_R50x1",
    "BiT_M_R50x1_ILSVRC2012",
    "BiT_M_R50x3",
    "BiT_M_R50x3_ILSVRC2012",
    "BiT_M_R101x1",
    "BiT_M_R101x1_ILSVRC2012",
    "BiT_M_R101x3",
    "BiT_M_R101x3_ILSVRC2012",
    "BiT_M_R152x2",
    "BiT_M_R152x2_ILSVRC2012",
    "BiT_M_R152x4",
    "BiT_M_R152x4_ILSVRC2012",
    "BiT_R50x1_distilled_160",
    "BiT_R50x1_distilled_224",
    "BiT_R152x2_teacher_224",
    "BiT_R152x2_teacher_384",
    "BiT_S_R50x1",
    "BiT_S_R50x3",
    "BiT_S_R101x1",
    "BiT_S_R101x3",
    "BiT_S_R152x2",
    "BiT_S_R152x4",
]
