"""The file `bit-embed` writes, and the nearest images to a query in it.

One `.npz` (NumPy, no pickles): `embeddings` (N, D) float32 or float16; `labels` (N,) int64
where the data set is labelled (a multi-label one's (N, L) class ids padded with -1);
`paths` (N,) for images read from files; `split` (N,) `train` or `test`; `class_names`; and
`info`, a JSON string: the model, features, resolution, data set and split it was made with
(`--query` embeds its image with the same model).
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

# The keys of the file; `info`'s keys are `EmbeddingJob`'s fields.
EMBEDDINGS_KEYS = ("embeddings", "labels", "paths", "split", "class_names", "info")


@dataclasses.dataclass(frozen=True)
class Embeddings:
    """The contents of an embeddings file.

    Attributes:
        embeddings: (N, D) float32 or float16.
        labels: (N,) class ids, (N, L) padded with -1 for multi-label data, or None.
        paths: (N,) image files, or None (TFDS, digits).
        split: (N,) `train` or `test`.
        class_names: The name of each class.
        info: How the file was made (model, features, resolution, dataset, split, ...).
    """

    embeddings: np.ndarray
    labels: np.ndarray | None
    paths: np.ndarray | None
    split: np.ndarray
    class_names: tuple[str, ...]
    info: dict

    def describe(self, index: int) -> str:
        """One example in words: its file (or split and index) and its label."""
        where = (
            str(self.paths[index]) if self.paths is not None else f"{self.split[index]} #{index}"
        )
        if self.labels is None:
            return where
        ids = np.atleast_1d(self.labels[index])
        names = [self._name(int(i)) for i in ids if i >= 0]
        return f"{where} (label {', '.join(names)})"

    def _name(self, label: int) -> str:
        return self.class_names[label] if label < len(self.class_names) else str(label)


def save_embeddings(path: str, embeddings: Embeddings) -> None:
    """Writes `embeddings` to `path` (`np.savez`; use `atomic_write.save_atomically`)."""
    arrays = {
        "embeddings": embeddings.embeddings,
        "split": np.asarray(embeddings.split, str),
        "class_names": np.asarray(embeddings.class_names, str),
        "info": np.asarray(json.dumps(embeddings.info, sort_keys=True)),
    }
    if embeddings.labels is not None:
        arrays["labels"] = embeddings.labels
    if embeddings.paths is not None:
        arrays["paths"] = np.asarray(embeddings.paths, str)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def read_embeddings(path: str | os.PathLike) -> Embeddings:
    """Reads a file `bit-embed` wrote.

    Raises:
        ValueError: no such file, not a `.npz`, or not one of `bit-embed`'s.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"No embeddings file at {path!r}.")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in f.files}
    except (OSError, ValueError) as e:
        raise ValueError(f"{path!r} is not a readable .npz file: {e}") from e
    missing = [k for k in ("embeddings", "split", "info") if k not in arrays]
    if missing:
        raise ValueError(
            f"{path!r} is not an embeddings file of bit-embed: it lacks {', '.join(missing)}."
        )
    return Embeddings(
        arrays["embeddings"],
        arrays.get("labels"),
        arrays.get("paths"),
        arrays["split"],
        tuple(str(name) for name in arrays.get("class_names", ())),
        json.loads(str(arrays["info"])),
    )


def nearest(embeddings: np.ndarray, query: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `top_k` rows of `embeddings` most similar to `query` by cosine similarity.

    Args:
        embeddings: (N, D).
        query: (D,).
        top_k: How many to return (at most N).

    Returns:
        `(indices, similarities)`, most similar first; ties keep the file's order.
    """
    rows = np.asarray(embeddings, np.float32)
    query = np.asarray(query, np.float32).reshape(-1)
    if rows.ndim != 2 or rows.shape[1] != query.shape[0]:
        raise ValueError(
            f"The query has {query.shape[0]} features and the file's embeddings "
            f"{rows.shape[-1]}: embed the query with the file's model and features."
        )
    norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(query)
    similarity = rows @ query / np.maximum(norms, np.finfo(np.float32).tiny)
    order = np.argsort(-similarity, kind="stable")[:top_k]
    return order, similarity[order]
