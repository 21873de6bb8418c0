r"""Embeds a data set's images with a BiT, or finds the nearest images to a query.

Writes one .npz: `embeddings` (N, D), `labels` where the data set has them, `paths` for image
files, `split`, `class_names` and `info` (how it was made). The pre-logits by default
(`--features=P2|P3|P4` pools a feature map instead). Progress lines give images/s and the
ETA; the work is kept in shards of --shard_size images (OUTPUT.parts/), so an interrupted run
(Ctrl-C, SIGTERM) resumes where it stopped when the same command is run again; the file is
written only when complete.

Example (offline, the main job's fine-tuned model on digits):
    bit-embed --model=/tmp/bit_digits/model.keras --dataset=digits \
        --output=/tmp/bit_digits_embeddings.npz

The nearest images to a query, from that file (by cosine similarity, embedded with the model,
resolution and features the file records):
    bit-embed --embeddings=/tmp/bit_photos.npz --query=cat.jpg --top_k=5

A published model on a folder of photos (no class sub-folders needed):
    bit-embed --model=BiT-M-R50x1 --dataset=folder:photos --output=photos.npz
"""

from __future__ import annotations

import dataclasses
import os

from absl import flags

from bit_keras.features.embedding_shards import DTYPES, SPLITS, EmbeddingJob, check_output
from bit_keras.programs.runner import run, start
from bit_keras.programs.shared_flags import DataFlags, ModelFlags, define, load_model, print_line

PROGRAM = "bit-embed"

_MODEL = ModelFlags.define()
_DATA = DataFlags.define(
    dataset_help="The images: `digits` (built in), `folder:PATH` (class sub-folders, or a "
    "folder of images without them: unlabelled), `csv:PATH` (a manifest), or a TFDS name."
)
_FEATURES = define("features", "pre_logits")
_BATCH_SIZE = define("batch_size", 64, "Images per batch.", lower_bound=1)
_JIT_COMPILE = define("jit_compile", False)
_OUTPUT = flags.DEFINE_string("output", None, "The embeddings file to write (.npz).")
_SPLIT = flags.DEFINE_enum(
    "split", "all", list(SPLITS), "`all` (the training split, then the test split), or one."
)
_DTYPE = flags.DEFINE_enum("dtype", "float32", list(DTYPES), "The file's embeddings.")
_SHARD_SIZE = flags.DEFINE_integer(
    "shard_size", 10_000, "Images per shard (what an interrupt can lose).", lower_bound=1
)
_OVERWRITE = define(
    "overwrite", False, "Replace --output, and the shards of an unfinished run of other settings."
)
_QUERY = flags.DEFINE_string(
    "query", None, "An image: print the --top_k nearest images in --embeddings instead."
)
_EMBEDDINGS = flags.DEFINE_string("embeddings", None, "The file --query searches.")
_TOP_K = flags.DEFINE_integer("top_k", 5, "How many nearest images --query prints.", lower_bound=1)


def _check_embed():
    spec = _MODEL.check(min_resolution=1)
    _DATA.check()
    if not _DATA.dataset.value:
        raise ValueError("--dataset is required to embed (or pass --query and --embeddings).")
    if not _OUTPUT.value:
        raise ValueError("--output is required: the .npz file to write.")
    job = EmbeddingJob(
        # A file by its absolute path, so that --query finds it from anywhere.
        model=os.path.abspath(spec.source) if os.path.exists(spec.source) else spec.source,
        dataset=_DATA.dataset.value,
        resolution=spec.resolution,
        split=_SPLIT.value,
        features=_FEATURES.value,
        batch_size=_BATCH_SIZE.value,
        dtype=_DTYPE.value,
        shard_size=_SHARD_SIZE.value,
    )
    check_output(_OUTPUT.value, job, overwrite=_OVERWRITE.value)
    return spec, job


def _embed(spec, job):
    from bit_keras.data.image_check import VERDICTS_FILE
    from bit_keras.features.embedder import Embedder, split_size, write_embeddings
    from bit_keras.features.embedding_shards import prepare_parts

    model = load_model(spec, out=print_line).model
    parts = prepare_parts(_OUTPUT.value, job, overwrite=_OVERWRITE.value)
    verdicts = os.path.join(parts, VERDICTS_FILE)  # kept for a resume
    source = _DATA.load(verdicts_file=verdicts, unlabelled=True, out=print_line)
    embedder = Embedder(model, job.features, _JIT_COMPILE.value)
    labels = f"{source.num_classes} classes" if source.labelled else "unlabelled"
    print_line(
        f"Embedding {split_size(source, job.split):,} images of {source.name} ({job.split}; "
        f"{labels}) with {model.name}: {job.features}, {embedder.width} features, "
        f"{job.resolution}x{job.resolution}, batch {job.batch_size}."
    )
    write_embeddings(_OUTPUT.value, job, embedder, source, out=print_line)


def _check_query():
    from bit_keras.features.embeddings_file import read_embeddings

    if not _EMBEDDINGS.value:
        raise ValueError("--query needs --embeddings: the file bit-embed wrote.")
    if not os.path.isfile(_QUERY.value):
        raise ValueError(f"No image file at {_QUERY.value!r}.")
    found = read_embeddings(_EMBEDDINGS.value)
    if _MODEL.resolution.value not in (None, found.info["resolution"]):
        raise ValueError(
            f"--resolution={_MODEL.resolution.value}, but {_EMBEDDINGS.value!r} was embedded at "
            f"{found.info['resolution']}: leave --resolution out."
        )
    spec = _MODEL.check(
        _MODEL.model.value or found.info["model"], found.info["resolution"], min_resolution=1
    )
    return dataclasses.replace(spec, resolution_from=_EMBEDDINGS.value), found


def _query(spec, found):
    from bit_keras.features.search import nearest_images

    model = load_model(spec, out=print_line).model
    neighbours = nearest_images(
        found, _QUERY.value, model, top_k=_TOP_K.value, jit_compile=_JIT_COMPILE.value
    )
    info = found.info
    print_line(
        f"The {len(neighbours)} nearest of {len(found.embeddings):,} images in "
        f"{_EMBEDDINGS.value} to {_QUERY.value} (cosine similarity; {info['model']}, "
        f"{info['features']}):"
    )
    for rank, neighbour in enumerate(neighbours, 1):
        print_line(f"  {rank}. {neighbour.similarity:.4f}  {neighbour.description}")


def _body() -> None:
    if _QUERY.value:
        run(PROGRAM, _check_query, _query)
    else:
        run(PROGRAM, _check_embed, _embed)


def main() -> None:
    """The `bit-embed` command (and tools/embed.py)."""
    start(__name__, _body)
