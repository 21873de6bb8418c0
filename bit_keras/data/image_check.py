"""Whether the image files of a data set can be read: by their first bytes, or decoded.

A JPEG whose header is fine but whose body is cut short (a failed copy, a full disk) passes a
look at its first bytes and fails only when TensorFlow decodes it, mid-training. By default
(`decode`) every file is decoded once when the data set is loaded, by the decoder training
uses (`image_io.read_image`), in parallel, with progress; the verdicts are kept in the run's
logdir, keyed by path, size and modification time, so a resume, or a second run on the same
files, decodes only what changed. `header` looks at the first bytes only; a file of
the training split that then fails to decode is named during training (`pipeline.Examples`
with `undecodable`), and either skipped or the run ends, as an interrupt does.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
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

# The verdicts of the decode check, in the run's logdir: two sorted arrays of 64-bit digests
# of (path, size, modification time), of the files that decode and of those that do not.
# 8 bytes a file (JSON keyed by path took 96: 92 MiB at 1,000,000 files, read in 1.6 s),
# looked up with numpy; a file that changed has another digest and is decoded again.
VERDICTS_FILE = "image_check.npz"
_VERDICTS_VERSION = 2
# The decode check's results are taken from tf.data this many at a time.
_DECODED_BATCH = 256
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
    digests, good, bad, known_good, known_bad = _looked_up(verdicts_file, files)
    todo = np.flatnonzero(~(known_good | known_bad))
    decoded = np.zeros(len(todo), bool)  # of `todo`, as they come
    checked = np.zeros(len(todo), bool)
    if len(todo):
        kept = f"; verdicts kept in {verdicts_file}" if verdicts_file else ""
        out(
            f"Checking that {len(todo):,} images decode (once{kept}; --image_check=header "
            "only reads their first bytes) ..."
        )
        try:
            _decode_all([files[i] for i in todo], decoded, checked, out, every_seconds)
        finally:  # an interrupted check keeps what it found
            if verdicts_file:
                new = digests[todo]
                _write_verdicts(
                    verdicts_file,
                    np.union1d(good, new[checked & decoded]),
                    np.union1d(bad, new[checked & ~decoded]),
                )
    failed = known_bad
    failed[todo] = ~decoded
    return {files[i]: DOES_NOT_DECODE for i in np.flatnonzero(failed)}


def kept_verdicts(verdicts_file: str, files: Iterable[str]) -> dict[str, bool]:
    """Of `files`, those with a verdict in `verdicts_file` as they are now (same size and
    time): whether each decodes."""
    files = [str(f) for f in files]
    *_, decodes, fails = _looked_up(verdicts_file, files)
    return {f: bool(d) for f, d, b in zip(files, decodes, fails, strict=True) if d or b}


def _looked_up(verdicts_file: str | None, files: list[str]):
    """`(digests, good, bad, decodes, fails)`: the files' digests, the kept verdicts' (sorted)
    and which of the files each holds."""
    digests = _digests(files)
    good, bad = _read_verdicts(verdicts_file)
    return digests, good, bad, _among(digests, good), _among(digests, bad)


def _decode_all(files: list[str], decoded, checked, out, every_seconds: float) -> None:
    # The files that decode come through; `ignore_errors` drops the others, whose indices
    # are then missing. Decoded in parallel by tf.data, in order, their indices taken a batch
    # at a time (one at a time, tf.data's Python side cost 4x the decoding of small images).
    # `decoded` and `checked` are filled as they come: an interrupted check keeps them.
    ds = tf.data.Dataset.from_tensor_slices((np.arange(len(files)), np.array(files)))
    ds = ds.map(
        lambda i, f: (i, tf.shape(read_image(f))[0]),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    ).ignore_errors()
    ds = ds.map(lambda i, _: i).batch(_DECODED_BATCH)
    began = last = time.monotonic()
    done = 0
    # The decoder's own lines (`Premature end of JPEG data`) are held: the error names the file.
    with contextlib.nullcontext() if logs_wanted() else held_stderr():
        for indices in ds.as_numpy_iterator():
            checked[done : indices[-1] + 1] = True
            decoded[indices] = True
            done = indices[-1] + 1
            now = time.monotonic()
            if now - last >= every_seconds:
                last = now
                rate = done / (now - began)
                eta = datetime.timedelta(seconds=round((len(files) - done) / rate))
                out(f"  {done:,}/{len(files):,} images decoded, {rate:.0f} images/s, ETA {eta}")
    checked[:] = True
    seconds = time.monotonic() - began
    out(f"  {len(files):,} images decoded in {seconds:.1f} s ({len(files) / seconds:.0f}/s).")


def _digests(files: list[str]) -> np.ndarray:
    """A 64-bit digest of each file's path, size and modification time (-1, -1 where it
    cannot be read): about 1 s a million files, besides reading their sizes and times."""

    def digest(file):
        size, mtime = fs.stamp(file)
        key = f"{file}\0{size}\0{mtime}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")

    return np.fromiter(map(digest, files), np.uint64, len(files))


def _among(digests: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Which of `digests` are in the sorted array `known`."""
    if not len(known):
        return np.zeros(len(digests), bool)
    at = np.minimum(np.searchsorted(known, digests), len(known) - 1)
    return known[at] == digests


def _read_verdicts(path: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The digests of the files found to decode and not to, sorted (none: empty)."""
    none = np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    if not path or not fs.isfile(path):
        return none
    try:
        with fs.open_file(path, "rb") as f:
            record = np.load(io.BytesIO(f.read()))
            if int(record["version"]) != _VERDICTS_VERSION:
                return none
            good, bad = record["decode"], record["do_not_decode"]
    except Exception:  # damaged or not ours: decode again
        return none
    if good.dtype != np.uint64 or bad.dtype != np.uint64:
        return none
    return _sorted(good), _sorted(bad)


def _sorted(digests: np.ndarray) -> np.ndarray:
    # Written sorted; sorted again only where something else wrote them.
    return digests if np.all(digests[1:] > digests[:-1]) else np.unique(digests)


def _write_verdicts(path: str, good: np.ndarray, bad: np.ndarray) -> None:
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, version=_VERDICTS_VERSION, decode=good, do_not_decode=bad)

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
