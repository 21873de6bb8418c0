"""A TFDS data set written in several files, for tests of reading by file: its builder (no
download: the images are made) and a helper that prepares it in either format."""

import numpy as np
import tensorflow_datasets as tfds

TRAIN_SIZE, TEST_SIZE, FILES = 60, 12, 6


class BitKerasShardedShapes(tfds.core.GeneratorBasedBuilder):
    """Image i (8x8) is filled with i plus seeded noise in its last column; label i % 3."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(8, 8, 3)),
                    "label": tfds.features.ClassLabel(num_classes=3),
                }
            ),
            supervised_keys=("image", "label"),
        )

    def _split_generators(self, dl_manager):
        return {
            "train": self._generate_examples(0, TRAIN_SIZE),
            "test": self._generate_examples(100, TEST_SIZE),
        }

    def _generate_examples(self, first, count):
        for i in range(first, first + count):
            image = np.full((8, 8, 3), i, np.uint8)
            image[:, -1] = np.random.default_rng(i).integers(0, 256, (8, 3), np.uint8)
            yield i, {"image": image, "label": i % 3}


NAME = BitKerasShardedShapes.name


def prepare(data_dir: str, file_format: str = "tfrecord", files: int = FILES) -> str:
    """Prepares the data set in `files` files of `file_format` under `data_dir`."""
    builder = BitKerasShardedShapes(data_dir=data_dir, file_format=file_format)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(num_shards=files))
    return data_dir
