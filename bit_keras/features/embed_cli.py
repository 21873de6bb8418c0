"""The `bit-embed` program: absl flags in, one call into `bit_keras.features`.

Run it as `bit-embed` (installed with the package) or `python tools/embed.py`; see the module
docstring of tools/embed.py for examples.
"""

from __future__ import annotations

import dataclasses
import os

from absl import app, flags

from bit_keras.checked_run import run_checked
from bit_keras.features.cli import (
    check_feature_flags,
    define_feature_flags,
    load_feature_model,
    load_feature_source,
    print_line,
    register_key_flags,
)
from bit_keras.features.embedding_job import DTYPES, SPLITS, EmbeddingJob, check_output

_FLAGS = define_feature_flags()
_OUTPUT = flags.DEFINE_string("output", None, "The embeddings file to write (.npz).")
_SPLIT = flags.DEFINE_enum(
    "split", "all", list(SPLITS), "`all` (the training split, then the test split), or one."
)
_DTYPE = flags.DEFINE_enum("dtype", "float32", list(DTYPES), "The file's embeddings.")
_SHARD_SIZE = flags.DEFINE_integer(
    "shard_size", 10_000, "Images per shard (what an interrupt can lose).", lower_bound=1
)
_OVERWRITE = flags.DEFINE_boolean(
    "overwrite", False, "Replace --output, and the shards of an unfinished run of other settings."
)
_QUERY = flags.DEFINE_string(
    "query", None, "An image: print the --top_k nearest images in --embeddings instead."
)
_EMBEDDINGS = flags.DEFINE_string("embeddings", None, "The file --query searches.")
_TOP_K = flags.DEFINE_integer("top_k", 5, "How many nearest images --query prints.", lower_bound=1)

PROGRAM = "tools/embed.py"


def _check_embed():
    spec = check_feature_flags(_FLAGS)
    if not _FLAGS.dataset.value:
        raise ValueError("--dataset is required to embed (or pass --query and --embeddings).")
    if not _OUTPUT.value:
        raise ValueError("--output is required: the .npz file to write.")
    job = EmbeddingJob(
        # A file by its absolute path, so that --query finds it from anywhere.
        model=os.path.abspath(spec.source) if os.path.exists(spec.source) else spec.source,
        dataset=_FLAGS.dataset.value,
        resolution=spec.resolution,
        split=_SPLIT.value,
        features=_FLAGS.features.value,
        batch_size=_FLAGS.batch_size.value,
        dtype=_DTYPE.value,
        shard_size=_SHARD_SIZE.value,
    )
    check_output(_OUTPUT.value, job, overwrite=_OVERWRITE.value)
    return spec, job


def _embed(spec, job):
    from bit_keras.features.embedding_job import prepare_parts
    from bit_keras.features.embedding_run import Embedder, split_size, write_embeddings

    model = load_feature_model(spec, out=print_line).model
    parts = prepare_parts(_OUTPUT.value, job, overwrite=_OVERWRITE.value)
    verdicts = os.path.join(parts, "image_check.json")  # kept for a resume
    source = load_feature_source(_FLAGS, verdicts_file=verdicts, unlabelled=True, out=print_line)
    embedder = Embedder(model, job.features, _FLAGS.jit_compile.value)
    labels = f"{source.num_classes} classes" if source.labelled else "unlabelled"
    print_line(
        f"Embedding {split_size(source, job.split):,} images of {source.name} ({job.split}; "
        f"{labels}) with {model.name}: {job.features}, {embedder.width} features, "
        f"{job.resolution}x{job.resolution}, batch {job.batch_size}."
    )
    write_embeddings(_OUTPUT.value, job, embedder, source, out=print_line)


def _check_query():
    from bit_keras.features.embeddings_file import read_embeddings
    from bit_keras.pretrained.model_source import check_model_spec

    if not _EMBEDDINGS.value:
        raise ValueError("--query needs --embeddings: the file bit-embed wrote.")
    if not os.path.isfile(_QUERY.value):
        raise ValueError(f"No image file at {_QUERY.value!r}.")
    found = read_embeddings(_EMBEDDINGS.value)
    if _FLAGS.resolution.value not in (None, found.info["resolution"]):
        raise ValueError(
            f"--resolution={_FLAGS.resolution.value}, but {_EMBEDDINGS.value!r} was embedded at "
            f"{found.info['resolution']}: leave --resolution out."
        )
    spec = check_model_spec(
        _FLAGS.model.value or found.info["model"], found.info["resolution"], min_resolution=1
    )
    return dataclasses.replace(spec, resolution_from=_EMBEDDINGS.value), found


def _query(spec, found):
    import tensorflow as tf

    from bit_keras.data.image_io import read_image
    from bit_keras.features.embedding_run import Embedder
    from bit_keras.features.embeddings_file import nearest

    info = found.info
    model = load_feature_model(spec, out=print_line).model
    embedder = Embedder(model, info["features"], _FLAGS.jit_compile.value)
    image = tf.data.Dataset.from_tensors((read_image(_QUERY.value), tf.constant(-1, tf.int64)))
    ((query, _),) = embedder.embed(image, resolution=info["resolution"], batch_size=1)
    indices, similarity = nearest(found.embeddings, query[0], _TOP_K.value)
    print_line(
        f"The {len(indices)} nearest of {len(found.embeddings):,} images in {_EMBEDDINGS.value} "
        f"to {_QUERY.value} (cosine similarity; {info['model']}, {info['features']}):"
    )
    for rank, (index, score) in enumerate(zip(indices, similarity, strict=True), 1):
        print_line(f"  {rank}. {score:.4f}  {found.describe(int(index))}")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    if _QUERY.value:
        run_checked(PROGRAM, _check_query, _query)
    else:
        run_checked(PROGRAM, _check_embed, _embed)


def run() -> None:
    """Entry point of the `bit-embed` console command (and of tools/embed.py)."""
    register_key_flags(__name__)
    app.run(main)
