"""The few-shot linear evaluation of a model on a data set (`bit-fewshot`): the frozen
features of both splits computed once, then `fewshot.fewshot_accuracy` at each number of shots.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras

from bit_keras.data.sources import DataSource
from bit_keras.features.embedder import Embedder
from bit_keras.features.fewshot import (
    FEWSHOT_L2_REG,
    FEWSHOT_SEEDS,
    FEWSHOT_SHOTS,
    fewshot_accuracy,
)
from bit_keras.features.pooled import PRE_LOGITS


def evaluate_fewshot(
    model: keras.Model,
    source: DataSource,
    *,
    resolution: int,
    features: str = PRE_LOGITS,
    shots: Sequence[int] = FEWSHOT_SHOTS,
    seeds: int | Sequence[int] = FEWSHOT_SEEDS,
    l2_reg: float = FEWSHOT_L2_REG,
    batch_size: int = 64,
    jit_compile: bool = False,
    out: Callable[[str], object] = print,
) -> dict[int, dict]:
    """BiT's few-shot linear evaluation of `model`'s frozen features on `source`.

    Args:
        model: A BiT (with or without its head).
        source: A labelled data set with one class per image (`bit_keras.data.load_source`).
        resolution: Square size the images are resized to, whole (as BiT evaluates).
        features: `pre_logits`, or the feature map `P2`..`P5` averaged over space.
        shots: Training examples per class of each evaluation.
        seeds: How many draws of the examples (0, 1, ...), or the seeds themselves.
        l2_reg: The ridge penalty (big_vision's 2¹⁰).
        batch_size: Images per forward pass.
        jit_compile: Compile the forward pass with XLA.
        out: Where the progress lines go.

    Returns:
        `{shots: {"mean": ..., "std": ..., "seeds": [test accuracy of each seed]}}`
        (`fewshot.fewshot_table` prints it).

    Example:
        >>> source = bit_keras.data.load_source("digits")
        >>> model = bit_keras.create_model("R14x1", weights=None, classes=10)
        >>> evaluate_fewshot(model, source, resolution=16, shots=[1, 5], seeds=1)[5]["mean"]
    """
    if source.multi_label or not source.labelled:
        raise ValueError(
            f"The few-shot evaluation needs one class per image; {source.name} is "
            f"{'multi-label' if source.labelled else 'unlabelled'}."
        )
    embedder = Embedder(model, features, jit_compile)
    computed = {}
    for split in ("train", "test"):
        what = f"the {features} ({embedder.width} features) of {source.name}'s {split} split"
        out(f"Computing {what} ...")
        computed[split] = embedder.features_of(
            source, split, resolution=resolution, batch_size=batch_size
        )
    return fewshot_accuracy(
        *computed["train"],
        *computed["test"],
        shots=shots,
        seeds=seeds,
        l2_reg=l2_reg,
        num_classes=source.num_classes,
    )
