"""What a very large `csv:` or `folder:` data set costs before training starts: the seconds and
the peak memory from the command to its first step (`bit-pretrain --image_check=header`).

The images are made here: one small JPEG (a crop of a scikit-learn sample photograph) written
under `images` names, in 1,000 class folders (`folder:`) listed again by a manifest (`csv:`).
The run is a real `tools/pretrain.py` process of one step of a tiny model; its peak memory
is the child's maximum resident set (`wait4`). Then the decode check's kept verdicts for every
file: their size, and the time to write them and to read them back for a resume.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

CLASSES = 1_000  # fewer for fewer images: at least 100 images a class


@dataclasses.dataclass(frozen=True)
class StartupFigure:
    """Seconds from the command to its first step, and the process's peak memory (bytes)."""

    data: str
    images: int
    seconds: float
    peak_bytes: int


@dataclasses.dataclass(frozen=True)
class VerdictFigure:
    """The decode check's kept verdicts for `files` files: their size in bytes, the seconds
    to write them, and to read them and match every file (its size and time read again)."""

    files: int
    bytes: int
    write_seconds: float
    read_seconds: float


def time_verdicts(files: list[str], folder: str) -> VerdictFigure:
    """Keeps a verdict for each of `files` (all decode: the check itself is not timed), then
    reads them back for the same files, as a resume does."""
    from bit_keras.data import image_check

    path = os.path.join(folder, image_check.VERDICTS_FILE)
    digests = np.sort(image_check._digests(files))
    began = time.perf_counter()
    image_check._write_verdicts(path, digests, np.zeros(0, np.uint64))
    written = time.perf_counter()
    kept = image_check.kept_verdicts(path, files)
    read = time.perf_counter()
    if len(kept) != len(files) or not all(kept.values()):
        raise RuntimeError(f"{len(files) - len(kept)} of {len(files)} verdicts were not found")
    return VerdictFigure(len(files), os.path.getsize(path), written - began, read - written)


def _classes(images: int) -> int:
    return min(CLASSES, images // 100)


def write_images(folder: str, images: int) -> list[str]:
    """`images` copies of one small JPEG in `CLASSES` class folders (fewer for fewer than
    100,000 images), and `manifest.csv` listing them (relative paths); returns the images'
    paths."""
    from bit_keras.benchmark.input_speed import photo_jpegs

    jpeg = photo_jpegs(1, 24, 32)[0]
    rows, classes, paths = ["path,label"], _classes(images), []
    for c in range(classes):
        os.makedirs(os.path.join(folder, "images", f"c{c:04d}"), exist_ok=True)
    for i in range(images):
        name = f"images/c{i % classes:04d}/{i:08d}.jpg"
        paths.append(os.path.join(folder, name))
        with open(paths[-1], "wb") as f:
            f.write(jpeg)
        rows.append(f"{name},c{i % classes:04d}")
    with open(os.path.join(folder, "manifest.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    return paths


def time_to_first_step(data: str, logdir: str, repository: str) -> tuple[float, int]:
    """Seconds until a one-step `tools/pretrain.py` run on `data` prints its first step, and
    its peak resident memory in bytes."""
    command = [
        sys.executable,
        os.path.join(repository, "tools", "pretrain.py"),
        "--model=R14x1",
        "--weights=none",
        f"--dataset={data}",
        f"--logdir={logdir}",
        "--image_check=header",
        "--steps=1",
        "--batch_size=8",
        "--crop=16",
        "--noreport",
    ]
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds, output = None, []
    for line in process.stdout:
        output.append(line)
        if re.match(r"step 1/1\b", line):
            seconds = time.perf_counter() - began
            process.kill()  # measured; a stop request would still wait for the final evaluation
            break
    process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak memory
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, -signal.SIGKILL) or seconds is None:
        raise RuntimeError(f"The run failed ({process.returncode}):\n{''.join(output[-20:])}")
    return seconds, usage.ru_maxrss * 1024  # kilobytes on Linux


def run(
    images: int = 1_000_000,
    repository: str | None = None,
    out: Callable[[str], object] = print,
) -> tuple[list[StartupFigure], VerdictFigure]:
    """Writes the images, then times a first step on them as `folder:` and as `csv:`, and
    the decode check's verdicts for all of them."""
    if images < 2 * CLASSES:
        raise ValueError(f"Need at least {2 * CLASSES} images. Received: images={images}")
    repository = repository or os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    figures = []
    with tempfile.TemporaryDirectory(prefix="bit_keras_startup_") as folder:
        out(f"Writing {images:,} JPEGs in {_classes(images):,} class folders and a manifest ...")
        paths = write_images(folder, images)
        for data in (f"csv:{os.path.join(folder, 'manifest.csv')}", f"folder:{folder}/images"):
            logdir = tempfile.mkdtemp(prefix="run_", dir=folder)
            seconds, peak = time_to_first_step(data, logdir, repository)
            figure = StartupFigure(data.split(":")[0] + ":", images, seconds, peak)
            figures.append(figure)
            out(
                f"{figure.data} {images:,} images: the first step {seconds:.1f} s after the "
                f"command, peak memory {peak / 2**30:.2f} GiB (--image_check=header)"
            )
        verdicts = time_verdicts(sorted(paths), folder)
        out(
            f"Verdicts of the decode check for {images:,} files: "
            f"{verdicts.bytes / 2**20:.1f} MiB, written in {verdicts.write_seconds:.2f} s, "
            f"read and matched in {verdicts.read_seconds:.2f} s (the files' sizes and times "
            "read again)"
        )
    return figures, verdicts
