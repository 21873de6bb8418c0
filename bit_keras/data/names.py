"""Data set names as the programs take them, checked without loading TensorFlow.

`digits`, `folder:PATH`, `csv:PATH`, `vtab:TASK` (a VTAB-1k task), or a TFDS name: a
registered TFDS builder (TFDS imports TensorFlow lazily, so its registry is read in a
fraction of a second) or a data set prepared in the TFDS data folder without code.
`bit-train` and `bit-pretrain` check `--dataset` here before TensorFlow loads; `load_source`
does the rest.
"""

from __future__ import annotations

import difflib
import os

from bit_keras._runtime import files
from bit_keras.data.vtab_tasks import get_task

BUILT_IN = "digits"
# How the files of a folder or manifest are checked (`image_check.py`): `decode` every file
# once at loading; `header` its first bytes only.
IMAGE_CHECKS = ("decode", "header")


def unknown_dataset_message(name: str, known: list[str] | tuple[str, ...] = ()) -> str:
    """The error for a data set name that is none of the kinds, with close names if any."""
    close = difflib.get_close_matches(name, [BUILT_IN, *known], n=3, cutoff=0.75)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return (
        f"Unknown dataset {name!r}: not `{BUILT_IN}`, not `folder:PATH` or `csv:PATH`, and not "
        f"a TFDS name.{hint}"
    )


def check_dataset_name(spec: str, data_dir: str | None = None) -> None:
    """Raises ValueError for a `--dataset` that cannot name a data set: a missing folder or
    manifest, or a name that is neither built in nor a TFDS data set.

    Args:
        spec: The data set flag.
        data_dir: The TFDS data folder (`$TFDS_DATA_DIR`, else `~/tensorflow_datasets`,
            when None), where a data set prepared without code may be.
    """
    if spec == BUILT_IN:
        return
    if spec.startswith("folder:"):
        path = spec.removeprefix("folder:")
        if not files.isdir(path):
            raise ValueError(f"Dataset folder {path!r} does not exist.")
        return
    if spec.startswith("vtab:"):
        get_task(spec.removeprefix("vtab:"))
        return
    if spec.startswith("csv:"):
        path = spec.removeprefix("csv:")
        if path.endswith(".csv") and not files.exists(path):
            raise ValueError(f"CSV manifest {path!r} does not exist.")  # read_manifest's words
        if not files.exists(path):
            raise ValueError(f"No CSV manifest or folder of manifests at {path!r}.")
        return
    from tensorflow_datasets.core import naming, registered

    try:
        name = naming.parse_builder_name_kwargs(spec)[0]
    except (ValueError, TypeError) as e:
        raise ValueError(f"{unknown_dataset_message(spec)} ({e})") from e
    if name.namespace:
        return  # a community data set: TFDS finds it when it loads
    try:
        registered.imported_builder_cls(name.name)
        return
    except registered.DatasetNotFoundError:
        pass
    root = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
    if files.isdir(files.join(os.path.expanduser(root), name.name)):
        return  # prepared without code: TFDS reads it from its files
    raise ValueError(unknown_dataset_message(spec, registered.list_imported_builders()))
