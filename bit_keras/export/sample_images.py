"""Images an exporter calibrates int8 quantization on and checks its results with."""

from __future__ import annotations

import dataclasses

import numpy as np

from bit_keras import data
from bit_keras.data import image_io

# Images are drawn from a shuffle buffer of this many (at least 4x the count asked for), so
# class-sorted folders still give every class without reading the whole data set.
MIN_SHUFFLE_BUFFER = 1000


@dataclasses.dataclass(frozen=True)
class SampleImages:
    """A batch of float32 images in [0, 1], square, and what they are.

    Attributes:
        images: `(count, resolution, resolution, 3)` float32 in [0, 1].
        description: Where they come from, in words (printed with the figures).
    """

    images: np.ndarray
    description: str


def dataset_images(
    dataset: str,
    split: str,
    count: int,
    resolution: int,
    *,
    data_dir: str | None = None,
    seed: int = 0,
) -> SampleImages:
    """`count` images of a data set's split, seeded-shuffled, resized as the exports resize.

    Args:
        dataset: A TFDS name, `folder:PATH` or `digits` (`bit_keras.data.load_source`).
        split: `"train"` (calibration) or `"test"` (checks: images the model was not
            fitted or calibrated on).
        count: How many; fewer if the split is smaller.
        resolution: Square output size.
        data_dir: TFDS data folder.
        seed: Shuffle seed.
    """
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test'. Received: split={split!r}")
    source = data.load_source(dataset, data_dir)
    size = source.train_size if split == "train" else source.test_size
    ds = source.train() if split == "train" else source.test()
    buffer = min(size, max(MIN_SHUFFLE_BUFFER, 4 * count))
    ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=False).take(count)
    ds = ds.map(lambda image, _: image_io.resize_images(image, resolution) / 255.0)
    images = np.stack(list(ds.as_numpy_iterator())).astype(np.float32)
    what = "held-out (test split)" if split == "test" else "training"
    return SampleImages(images, f"{len(images)} {what} images of {dataset}")


def synthetic_images(count: int, resolution: int, *, seed: int = 0) -> SampleImages:
    """`count` made-up pictures: `image_io.synthetic_image` shifted, flipped, tinted, noised.

    For numeric checks of float exports without a data set; they show nothing real.
    """
    rng = np.random.default_rng(seed)
    base = image_io.synthetic_image(resolution) / 255.0
    images = []
    for i in range(count):
        image = np.roll(base, rng.integers(resolution, size=2), axis=(0, 1))
        image = image[:, ::-1] if i % 2 else image
        image = image * rng.uniform(0.5, 1.0, size=3) + rng.normal(0, 0.05, image.shape)
        images.append(np.clip(image, 0.0, 1.0))
    images = np.stack(images).astype(np.float32)
    return SampleImages(images, f"{count} synthetic images (made in memory, not real data)")
