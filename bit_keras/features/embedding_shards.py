"""What `bit-embed` computes, and the folder of shards that makes it resumable.

Loads neither Keras nor TensorFlow: the program checks its flags with it first.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

from bit_keras._runtime.atomic_write import save_atomically

SPLITS = ("all", "train", "test")
DTYPES = ("float32", "float16")
PRE_LOGITS = "pre_logits"
# What an embedding can be: the pre-logits (= P5 pooled) or a pyramid level pooled.
EMBEDDING_FEATURES = (PRE_LOGITS, "P2", "P3", "P4", "P5")
PARTS_SUFFIX = ".parts"
JOB_FILE = "job.json"


@dataclasses.dataclass(frozen=True)
class EmbeddingJob:
    """What `bit-embed` computes; a resume must ask for the same.

    Attributes:
        model: The model source (published name, `.npz`, `.keras`, timm's layout).
        dataset: The data set (`digits`, `folder:PATH`, `csv:PATH`, a TFDS name).
        resolution: Square size the images are resized to.
        split: `all` (the training split, then the test split), `train` or `test`.
        features: `pre_logits`, or `P2`..`P5` pooled (`pooled.py`).
        batch_size: Images per batch.
        dtype: `float32` or `float16` (the file's; the model computes in float32).
        shard_size: Images per shard of a resumable run.
    """

    model: str
    dataset: str
    resolution: int
    split: str = "all"
    features: str = PRE_LOGITS
    batch_size: int = 64
    dtype: str = "float32"
    shard_size: int = 10_000

    def __post_init__(self):
        for name, value, allowed in (
            ("split", self.split, SPLITS),
            ("features", self.features, EMBEDDING_FEATURES),
            ("dtype", self.dtype, DTYPES),
        ):
            if value not in allowed:
                raise ValueError(f"`{name}` must be one of {allowed}. Received: {value!r}")
        for name in ("resolution", "batch_size", "shard_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be positive. Received: {getattr(self, name)}")


def parts_folder(output: str) -> str:
    """Where the shards of `output` are kept until it is written."""
    return os.fspath(output) + PARTS_SUFFIX


def check_output(output: str, job: EmbeddingJob, *, overwrite: bool = False) -> None:
    """Checks `--output` before any work: a `.npz` path in a folder that exists, not written
    yet (unless `overwrite`), and shards left there by the same job only.

    With `overwrite`, the existing file and shards are removed later, by `write_embeddings`.

    Raises:
        ValueError: naming the problem.
    """
    output = os.fspath(output)
    if not output.endswith(".npz"):
        raise ValueError(f"--output must end in .npz. Received: {output!r}")
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise ValueError(f"The folder of --output, {folder!r}, does not exist.")
    if os.path.exists(output) and not overwrite:
        raise ValueError(f"{output!r} exists; pass --overwrite to replace it.")
    recorded, wanted = _recorded_job(parts_folder(output)), job_record(job)
    if recorded is not None and recorded != wanted and not overwrite:
        changed = sorted(k for k in {*recorded, *wanted} if recorded.get(k) != wanted.get(k))
        raise ValueError(
            f"{parts_folder(output)!r} holds the shards of an unfinished run with other "
            "settings ("
            + "; ".join(f"{k}: {recorded.get(k)!r} then, {wanted.get(k)!r} now" for k in changed)
            + "): run that command again to finish it, or pass --overwrite to start this one "
            "afresh."
        )


def job_record(job: EmbeddingJob) -> dict:
    """`job` as recorded in the shards' folder and the written file's `info`."""
    return dataclasses.asdict(job)


def _recorded_job(parts: str) -> dict | None:
    try:
        with open(os.path.join(parts, JOB_FILE)) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # damaged: another job as far as a resume is concerned


def prepare_parts(output: str, job: EmbeddingJob, *, overwrite: bool = False) -> str:
    """The shards' folder of `output` for `job`, created (or emptied, with `overwrite` or
    when it held another job's shards), with the job recorded in it."""
    parts = parts_folder(output)
    if overwrite or _recorded_job(parts) not in (None, job_record(job)):
        shutil.rmtree(parts, ignore_errors=True)
    os.makedirs(parts, exist_ok=True)
    record = json.dumps(job_record(job), indent=2, sort_keys=True)

    def write(tmp):
        with open(tmp, "w") as f:
            f.write(record)

    save_atomically(os.path.join(parts, JOB_FILE), write)
    return parts


def shard_path(parts: str, index: int, count: int) -> str:
    """The file of shard `index` of `count` in the folder `parts`."""
    return os.path.join(parts, f"shard-{index:05d}-of-{count:05d}.npz")
