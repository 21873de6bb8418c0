"""Whether the image files of a data set can be read: by their first bytes, or decoded.

A JPEG whose header is fine but whose body is cut short (a failed copy, a full disk) passes a
look at its first bytes and fails only when TensorFlow decodes it, mid-training. By default
(`decode`) every file is decoded once when the data set is loaded, by the decoder training
uses (`image_io.read_image`), in parallel, with progress; the verdicts are kept in a JSON file
(the run's logdir) keyed by path, size and modification time, so a resume, or a second run on
the same files, decodes only what changed. `header` looks at the first bytes only; a file of
the training split that then fails to decode is named during training (`pipeline.Examples`
with `undecodable`), and either skipped or the run ends, as an interrupt does.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import time
from collections.abc import Callable, Iterable

import numpy as np
import tensorflow as tf

from bit_keras._runtime import files as fs
from bit_keras._runtime.atomic_write import save_atomically
from bit_keras._runtime.tf_logs import held_stderr, logs_wanted
from bit_keras.data.image_io import image_format, read_image

# The verdicts of the decode check, in the run's logdir.
VERDICTS_FILE = "image_check.json"
_VERDICTS_VERSION = 1
# What a file that did not decode during training is called in the error TensorFlow passes
# on (a py_function's exception), followed by its path as a JSON string.
_UNDECODABLE_MARKER = "bit_keras-undecodable-image="
NOT_AN_IMAGE = "not a JPEG, PNG, GIF or BMP image (by its first bytes)"
DOES_NOT_DECODE = "does not decode (cut short or damaged)"


def header_failures(files: Iterable[str]) -> dict[str, str]:
    """The files whose first bytes are not those of a JPEG, PNG, GIF or BMP image, with why."""
    bad = {}
    for file in files:
        try:
            with fs.open_file(file, "rb") as f:
                header = f.read(16)
        except Exception as e:  # OSError here, TensorFlow's errors for gs://
            why = getattr(e, "strerror", None) or type(e).__name__
            bad[str(file)] = f"cannot be read ({why})"
            continue
        if image_format(header) is None:
            bad[str(file)] = NOT_AN_IMAGE
    return bad


def decode_failures(
    files: Iterable[str],
    *,
    verdicts_file: str | None = None,
    out: Callable[[str], object] = print,
    every_seconds: float = 5.0,
) -> dict[str, str]:
    """Decodes every file once (in parallel) and returns those that do not decode, with why.

    Args:
        files: Image files (their headers already checked: `header_failures`).
        verdicts_file: Where earlier verdicts are read and these are kept (None: nowhere).
            A file whose size or modification time changed is decoded again.
        out: Where the progress lines go.
        every_seconds: At most one progress line per this many seconds.
    """
    files = [str(f) for f in files]
    stamps = {f: _stamp(f) for f in files}
    known = _read_verdicts(verdicts_file)
    verdicts = {f: known[f][2] for f in files if f in known and known[f][:2] == stamps[f]}
    todo = [f for f in files if f not in verdicts]
    if todo:
        kept = f"; verdicts kept in {verdicts_file}" if verdicts_file else ""
        out(
            f"Checking that {len(todo):,} images decode (once{kept}; --image_check=header "
            "only reads their first bytes) ..."
        )
        try:
            _decode_all(todo, verdicts, out, every_seconds)
        finally:  # an interrupted check keeps what it found
            if verdicts_file:
                _write_verdicts(verdicts_file, verdicts, stamps, known)
    return {f: DOES_NOT_DECODE for f in files if not verdicts[f]}


def _decode_all(files: list[str], verdicts: dict, out, every_seconds: float) -> None:
    # The files that decode come through; `ignore_errors` drops the others, whose indices
    # are then missing. Decoded in parallel by tf.data, in order. `verdicts` is filled as
    # they come, so an interrupted check keeps what it decided.
    ds = tf.data.Dataset.from_tensor_slices((np.arange(len(files)), np.array(files)))
    ds = ds.map(
        lambda i, f: (i, tf.shape(read_image(f))[0]),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    ).ignore_errors()
    began = last = time.monotonic()
    done = 0
    # The decoder's own lines (`Premature end of JPEG data`) are held: the error names the file.
    with contextlib.nullcontext() if logs_wanted() else held_stderr():
        for i, _ in ds.as_numpy_iterator():
            verdicts.update(dict.fromkeys(files[done:i], False))
            verdicts[files[i]] = True
            done = i + 1
            now = time.monotonic()
            if now - last >= every_seconds:
                last = now
                rate = done / (now - began)
                eta = datetime.timedelta(seconds=round((len(files) - done) / rate))
                out(f"  {done:,}/{len(files):,} images decoded, {rate:.0f} images/s, ETA {eta}")
    verdicts.update(dict.fromkeys(files[done:], False))
    seconds = time.monotonic() - began
    out(f"  {len(files):,} images decoded in {seconds:.1f} s ({len(files) / seconds:.0f}/s).")


def _stamp(file: str) -> list[int]:
    return list(fs.stamp(file))


def _read_verdicts(path: str | None) -> dict[str, list]:
    if not path or not fs.isfile(path):
        return {}
    try:
        with fs.open_file(path) as f:
            record = json.load(f)
    except Exception:  # damaged or not ours: decode again
        return {}
    if record.get("version") != _VERDICTS_VERSION:
        return {}
    return {k: v for k, v in record.get("files", {}).items() if isinstance(v, list) and len(v) == 3}


def _write_verdicts(path: str, verdicts: dict, stamps: dict, known: dict) -> None:
    kept = dict(known)
    kept.update({f: [*stamps[f], bool(ok)] for f, ok in verdicts.items()})
    record = {"version": _VERDICTS_VERSION, "files": kept}

    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(record, f)

    save_atomically(path, write)


def undecodable_error(path: str) -> ValueError:
    """The error a training pipeline raises for a file that did not decode (see
    `undecodable_image`)."""
    return ValueError(f"{_UNDECODABLE_MARKER}{json.dumps(path)}")


def undecodable_image(error: BaseException) -> str | None:
    """The file named by a training pipeline's error for an image that did not decode, as
    TensorFlow passes it on (`tf.errors.OpError`); None for any other error."""
    match = re.search(re.escape(_UNDECODABLE_MARKER) + r'("(?:[^"\\]|\\.)*")', str(error))
    return json.loads(match.group(1)) if match else None


def bad_images_message(what: str, bad: dict[str, str], check: str) -> str:
    """The error for files of a data set that are not usable images, listed with why."""
    listed = [f"{path}: {why}" for path, why in bad.items()]
    shown = "\n  ".join(listed[:20])
    if len(listed) > 20:
        shown += f"\n  ... and {len(listed) - 20} more"
    how = (
        "each one decoded" if check == "decode" else "by their first bytes; the test split decoded"
    )
    return (
        f"{what} has {len(bad)} file(s) that are not usable images ({how}); remove or replace "
        f"them, or pass --skip_bad_images to leave them out:\n  {shown}"
    )
