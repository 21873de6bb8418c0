"""What checking a folder's images costs: the decode check (`data.image_check`) against the
header check, on synthetic JPEGs of a given size written to a temporary folder.

The images are made here (smooth colour ramps with noise, encoded at quality 90, about the
bytes per pixel of photographs); no data set is downloaded. The figure is per 10,000 images,
the README's unit.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from bit_keras.data.image_check import decode_failures, header_failures

PER = 10_000


@dataclasses.dataclass(frozen=True)
class ImageCheckBenchmark:
    """What was measured: images, their size and file size, and seconds of each check."""

    images: int
    height: int
    width: int
    mean_file_bytes: float
    decode_seconds: float
    header_seconds: float

    def per_10000(self, seconds: float) -> float:
        return seconds * PER / self.images


def write_images(folder: str, count: int, height: int, width: int, seed: int = 0) -> list[str]:
    """Writes `count` synthetic JPEGs (a few distinct ones, each written many times)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, height * width).reshape(height, width, 1)
    distinct = []
    for _ in range(8):
        colours = rng.uniform(0, 255, (1, 1, 3))
        image = ramp * colours + (1 - ramp) * colours[..., ::-1]
        image = image + rng.normal(0, 12, image.shape)
        encoded = tf.io.encode_jpeg(np.clip(image, 0, 255).astype(np.uint8), quality=90)
        distinct.append(encoded.numpy())
    files = []
    for i in range(count):
        path = os.path.join(folder, f"{i:06d}.jpg")
        with open(path, "wb") as f:
            f.write(distinct[i % len(distinct)])
        files.append(path)
    return files


def run(
    images: int, height: int, width: int, out: Callable[[str], object] = print
) -> ImageCheckBenchmark:
    """Times both checks on `images` synthetic JPEGs of `height` x `width` and prints them."""
    if images < 1 or height < 1 or width < 1:
        raise ValueError(
            f"`images`, `height` and `width` must be positive. Received: images={images}, "
            f"height={height}, width={width}"
        )
    with tempfile.TemporaryDirectory(prefix="bit_keras_image_check_") as folder:
        out(f"Writing {images:,} synthetic {width}x{height} JPEGs into {folder} ...")
        files = write_images(folder, images, height, width)
        size = float(np.mean([os.path.getsize(f) for f in files[:8]]))
        began = time.perf_counter()
        header_failures(files)
        header = time.perf_counter() - began
        began = time.perf_counter()
        bad = decode_failures(files, out=out)
        decode = time.perf_counter() - began
    if bad:
        raise RuntimeError(f"{len(bad)} synthetic images did not decode.")
    result = ImageCheckBenchmark(images, height, width, size, decode, header)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    out(
        f"{images:,} images of {width}x{height} ({size / 1024:.0f} KiB each) on {cores} CPU "
        f"core(s): decode check {decode:.2f} s ({images / decode:.0f} images/s, "
        f"{result.per_10000(decode):.1f} s per 10,000); header check {header:.3f} s "
        f"({result.per_10000(header):.2f} s per 10,000)."
    )
    return result
