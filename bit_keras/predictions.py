"""Decoding BiT predictions into ImageNet-1k (ILSVRC-2012) and ImageNet-21k class names.

The home of the ImageNet label spaces (class counts and label lists); the registry's head
sizes come from here. It imports no other part of bit_keras.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

IMAGENET1K_CLASSES = 1000
IMAGENET21K_CLASSES = 21843
# Label lists in head order: sorted WordNet ids (ILSVRC-2012; ImageNet-21k fall 2011).
_SYNSET_FILES = {
    IMAGENET1K_CLASSES: "imagenet1k_synsets.txt",
    IMAGENET21K_CLASSES: "imagenet21k_synsets.txt",
}


@functools.cache
def class_ids(num_classes: int) -> tuple[str, ...]:
    """WordNet ids of the classes of a 1,000- or 21,843-way BiT head, in head order."""
    if num_classes not in _SYNSET_FILES:
        raise ValueError(
            f"BiT heads have {IMAGENET1K_CLASSES} (ILSVRC-2012) or {IMAGENET21K_CLASSES} "
            f"(ImageNet-21k) classes. Received: num_classes={num_classes}"
        )
    ids = tuple(_read_data(_SYNSET_FILES[num_classes]).split())
    if len(ids) != num_classes:
        raise RuntimeError(
            f"{_SYNSET_FILES[num_classes]} lists {len(ids)} classes, not {num_classes}."
        )
    return ids


@functools.cache
def class_names() -> dict[str, str]:
    """WordNet id to its names ("tench, Tinca tinca") for every ImageNet-21k and 1k class."""
    names = {}
    for line in _read_data("synset_to_lemma.txt").splitlines():
        wnid, _, lemma = line.partition("\t")
        names[wnid] = lemma
    return names


def decode_predictions(preds, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """Turns a batch of BiT predictions into the top classes, best first.

    Args:
        preds: Scores, shape (batch, 1000) or (batch, 21843): logits or probabilities.
        top: How many classes to return per example.

    Returns:
        For each example, a list of `(wordnet_id, names, score)` tuples, best first.

    Example:
    >>> scores = np.zeros((1, 1000), "float32"); scores[0, 1] = 5.0
    >>> decode_predictions(scores, top=1)[0][0][:2]
    ('n01443537', 'goldfish, Carassius auratus')
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] not in _SYNSET_FILES:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions of shape (batch, 1000) or "
            f"(batch, 21843). Received: preds of shape {preds.shape}"
        )
    if not isinstance(top, int) or not 1 <= top <= preds.shape[1]:
        raise ValueError(f"`top` must be an int from 1 to {preds.shape[1]}. Received: top={top}")
    ids, names = class_ids(preds.shape[1]), class_names()
    results = []
    for row in preds:
        best = np.argsort(-row, kind="stable")[:top]
        results.append([(ids[i], names[ids[i]], float(row[i])) for i in best])
    return results


def top_classes(preds, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """Like `decode_predictions`, for any head: heads of other sizes get `class <i>` names.

    Args:
        preds: Scores of shape (batch, classes).
        top: How many classes to return per example.

    Returns:
        For each example, a list of `(class_id, name, score)` tuples, best first.
    """
    preds = np.asarray(preds)
    if preds.ndim == 2 and preds.shape[1] in _SYNSET_FILES:
        return decode_predictions(preds, top=top)
    if preds.ndim != 2:
        raise ValueError(f"Expected predictions of shape (batch, classes). Received: {preds.shape}")
    top = min(top, preds.shape[1])
    return [
        [(str(i), f"class {i}", float(row[i])) for i in np.argsort(-row, kind="stable")[:top]]
        for row in preds
    ]


def _read_data(fname: str) -> str:
    return resources.files("bit_keras").joinpath("assets", fname).read_text(encoding="utf-8")
