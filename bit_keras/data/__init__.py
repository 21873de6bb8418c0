"""Input data for fine-tuning: sources (TFDS, folders, digits) and tf.data pipelines.

It imports the helpers below every layer (`preprocessing`, `image_io`) and may use
`bit_keras.pretrained` and below; never `training` or `export`, which build on it.
"""

from bit_keras.data.image_check import IMAGE_CHECKS, VERDICTS_FILE, undecodable_image
from bit_keras.data.pipeline import (
    EVAL_RESIZE_RATIO,
    Examples,
    eval_dataset,
    eval_steps,
    few_shot_indices,
    inception_box,
    inception_crop,
    select,
    targets,
    test_dataset,
    train_dataset,
)
from bit_keras.data.sources import (
    DataSource,
    digits_source,
    folder_source,
    load_source,
    tfds_source,
)

__all__ = [
    "EVAL_RESIZE_RATIO",
    "IMAGE_CHECKS",
    "VERDICTS_FILE",
    "DataSource",
    "Examples",
    "digits_source",
    "eval_dataset",
    "eval_steps",
    "few_shot_indices",
    "folder_source",
    "inception_box",
    "inception_crop",
    "load_source",
    "select",
    "targets",
    "test_dataset",
    "tfds_source",
    "train_dataset",
    "undecodable_image",
]
