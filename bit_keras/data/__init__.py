"""Input data for fine-tuning: sources (TFDS, folders, digits) and tf.data pipelines.

It imports the helpers below every layer (`preprocessing`, `image_io`) and may use
`bit_keras.pretrained` and below; never `training` or `export`, which build on it.

Its names load on first use (`lazy_names.py`), so that a program checks names and files
before TensorFlow loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras._runtime.lazy_names import lazy_names

__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "DataSource": "bit_keras.data.sources",
        "EVAL_RESIZE_RATIO": "bit_keras.data.pipeline",
        "Examples": "bit_keras.data.pipeline",
        "digits_source": "bit_keras.data.sources",
        "eval_dataset": "bit_keras.data.pipeline",
        "few_shot_indices": "bit_keras.data.pipeline",
        "folder_source": "bit_keras.data.sources",
        "inference_dataset": "bit_keras.data.pipeline",
        "inception_crop": "bit_keras.data.pipeline",
        "load_source": "bit_keras.data.sources",
        "test_dataset": "bit_keras.data.pipeline",
        "tfds_source": "bit_keras.data.sources",
        "unlabelled_folder_source": "bit_keras.data.sources",
        "train_dataset": "bit_keras.data.pipeline",
    },
)

__all__ = [
    "EVAL_RESIZE_RATIO",
    "DataSource",
    "Examples",
    "digits_source",
    "eval_dataset",
    "few_shot_indices",
    "folder_source",
    "inception_crop",
    "inference_dataset",
    "load_source",
    "test_dataset",
    "tfds_source",
    "train_dataset",
    "unlabelled_folder_source",
]


if TYPE_CHECKING:
    from bit_keras.data.pipeline import (
        EVAL_RESIZE_RATIO,
        Examples,
        eval_dataset,
        few_shot_indices,
        inception_crop,
        inference_dataset,
        test_dataset,
        train_dataset,
    )
    from bit_keras.data.sources import (
        DataSource,
        digits_source,
        folder_source,
        load_source,
        tfds_source,
        unlabelled_folder_source,
    )
