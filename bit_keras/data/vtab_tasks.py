"""The 19 tasks of VTAB-1k, as task_adaptation defines them: data set, label, splits.

Zhai et al., *A Large-scale Study of Representation Learning with the Visual Task Adaptation
Benchmark*, https://arxiv.org/abs/1910.04867; the definitions are those of its reference
runner, google-research/task_adaptation (`task_adaptation/data/*.py`, the task list of
`scripts/run_all_tasks.sh`). Each task's `source` names the file it follows. Every task
trains on its 1,000 examples of `train800val200` (BiT's VTAB-1k protocol, no tuning on
`val200`) and is scored on `test`.

Task names are those of the fine-tuned VTAB checkpoints big_transfer published
(`BiT-M-R50x1-run0-clevr-count.npz`). Loads no TensorFlow until a label is computed.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
from collections.abc import Callable, Mapping

GROUPS = ("natural", "specialized", "structured")
# The four VTAB-1k splits of every task (task_adaptation's `num_samples_splits` sizes).
SPLIT_SIZES = {"train800": 800, "val200": 200, "train800val200": 1000}
TRAIN_SPLIT = "train800val200"
TEST_SPLIT = "test"


@dataclasses.dataclass(frozen=True)
class OwnValidation:
    """A data set with its own validation split: the first 800 training and 200 validation
    examples; its test split as it is (task_adaptation: dtd, flowers, sun397, camelyon,
    retinopathy, dmlab, kitti; smallnorb, whose "validation" is the first half of `test`)."""

    validation: str = "validation"
    test: str = "test"

    def resolve(self, counts: Mapping[str, int]) -> dict[str, str]:
        val200 = f"{self.validation}[:200]"
        return _splits(val200, _absolute(self.test, counts))


@dataclasses.dataclass(frozen=True)
class HeldOut:
    """`train_percent`% of the training split is `train`, the rest `val`; the test split as
    it is (task_adaptation: caltech101, cifar, pets, svhn, clevr)."""

    train_percent: int
    test: str = "test"

    def resolve(self, counts: Mapping[str, int]) -> dict[str, str]:
        cut = self.train_percent * counts["train"] // 100
        return _splits(f"train[{cut}:{cut + 200}]", self.test)


@dataclasses.dataclass(frozen=True)
class Carved:
    """All three splits carved from the training split: `train_percent`% train, then
    `val_percent`% validation, the rest test (task_adaptation: eurosat, resisc45, dsprites)."""

    train_percent: int
    val_percent: int

    def resolve(self, counts: Mapping[str, int]) -> dict[str, str]:
        cut = counts["train"] * self.train_percent // 100
        val = counts["train"] * self.val_percent // 100
        return _splits(f"train[{cut}:{cut + 200}]", f"train[{cut + val}:]")


def _splits(val200: str, test: str) -> dict[str, str]:
    return {
        "train800": "train[:800]",
        "val200": val200,
        TRAIN_SPLIT: f"train[:800]+{val200}",
        TEST_SPLIT: test,
    }


def _absolute(split: str, counts: Mapping[str, int]) -> str:
    """`test[50%:]` as `test[12150:]`: TFDS' percent slicing (its `closest` rounding) in
    examples, so that every split is sliced in examples."""
    match = re.fullmatch(r"(\w+)\[(\d+)%:\]", split)
    if not match:
        return split
    name, percent = match[1], int(match[2])
    return f"{name}[{round(percent * counts[name] / 100)}:]"


def split_size(split: str, counts: Mapping[str, int]) -> int:
    """Examples in a split string (`train[:800]+validation[:200]`, `train[21600:]`) given
    the sizes of the data set's own splits."""
    total = 0
    for part in split.split("+"):
        match = re.fullmatch(r"(\w+)(?:\[(\d*):(\d*)\])?", part)
        if not match:
            raise ValueError(f"Cannot size split {part!r} (of {split!r}).")
        size = counts[match[1]]
        start, stop = int(match[2] or 0), int(match[3]) if match[3] else size
        total += max(0, min(stop, size) - min(start, size))
    return total


# Structured tasks' labels, derived from each example's annotations as task_adaptation does.
# Each takes the TFDS example (a dict of tensors) and returns an int64 scalar.


def _bin(value, thresholds):
    """The index of the last threshold below `value` (thresholds ascending): task_adaptation's
    `tf.reduce_max(tf.where(thresholds - value < 0))`."""
    import tensorflow as tf

    below = tf.constant(thresholds, value.dtype) < value
    return tf.reduce_sum(tf.cast(below, tf.int64)) - 1


# CLEVR's closest-object distance: the smallest depth (pixel_coords[:, 2]) of the objects.
CLEVR_DISTANCE_BINS = (0.0, 8.0, 8.5, 9.0, 9.5, 10.0, 100.0)
# KITTI's closest-vehicle distance (metres): 3 bins and "no vehicle" (depth 1,000).
KITTI_DISTANCE_BINS = (-100.0, 8.0, 20.0, 999.0)
KITTI_NO_VEHICLE = 1000.0
KITTI_VEHICLES = 3  # object types 0-2: Car, Van, Truck


def clevr_count(example):
    """The number of objects (3 to 10) less 3: 8 classes."""
    import tensorflow as tf

    return tf.cast(tf.size(example["objects"]["size"]) - 3, tf.int64)


def clevr_distance(example):
    """The closest object's depth, in 6 bins (`CLEVR_DISTANCE_BINS`)."""
    import tensorflow as tf

    return _bin(tf.reduce_min(example["objects"]["pixel_coords"][:, 2]), CLEVR_DISTANCE_BINS)


def kitti_distance(example):
    """The closest vehicle's depth, in 3 bins, or 3 where there is no vehicle."""
    import tensorflow as tf

    objects = example["objects"]
    depth = tf.boolean_mask(objects["location"][:, 2], objects["type"] < KITTI_VEHICLES)
    closest = tf.reduce_min(tf.concat([depth, [KITTI_NO_VEHICLE]], 0))
    return _bin(closest, KITTI_DISTANCE_BINS)


@dataclasses.dataclass(frozen=True)
class VtabTask:
    """One VTAB-1k task.

    Attributes:
        name: The published checkpoints' name of the task (`clevr-count`).
        group: `natural`, `specialized` or `structured`.
        tfds: TFDS name, config and version as task_adaptation asks for it.
        splits: How `train800`, `val200`, `train800val200` and `test` are cut.
        label: The TFDS feature that is the label, or a function deriving it from the
            example (structured tasks).
        num_classes: Classes of a derived label (else the TFDS feature's).
        class_names: Names of a derived label's classes.
        bins: A label feature of more classes grouped into this many (dSprites: 16).
        image: The TFDS image feature.
        gray: Its images have one channel, repeated to RGB.
        scale: Pixel values multiplied by this (dSprites' 0/1 masks: 255).
        random_flip: Whether a left-right flip keeps the label: not for a position or an
            orientation (BiT omits flips and crops where they would destroy the label).
        random_crop: Whether a random crop keeps the label: not for positions and counts
            (a crop moves the objects or cuts some off); without it the image is resized
            to the crop size.
        manual: Where the files of a data set that TFDS cannot download go (its
            instructions are the builder's).
        source: The task_adaptation file and lines this definition follows.
    """

    name: str
    group: str
    tfds: str
    splits: OwnValidation | HeldOut | Carved
    label: str | Callable = "label"
    num_classes: int | None = None
    class_names: tuple[str, ...] = ()
    bins: int | None = None
    image: str = "image"
    gray: bool = False
    scale: int = 1
    random_flip: bool = True
    random_crop: bool = True
    manual: bool = False
    source: str = ""

    @property
    def tfds_name(self) -> str:
        """The TFDS name without the version (`clevr`, `sun397/tfds`)."""
        return self.tfds.partition(":")[0]


def _ranges(bounds, unit=""):
    return tuple(f"{a:g}-{b:g}{unit}" for a, b in itertools.pairwise(bounds))


_TA = "task_adaptation/data/"
# In VTAB's order: natural, specialized, structured (the paper's table).
TASKS: tuple[VtabTask, ...] = (
    VtabTask(
        "caltech101",
        "natural",
        "caltech101:3.*.*",
        HeldOut(90),
        source=_TA + "caltech.py:28,51,68-77",
    ),
    VtabTask(
        "cifar100",
        "natural",
        "cifar100:3.*.*",
        HeldOut(90),
        source=_TA + "cifar.py:28,48,71-81 (num_classes=100: scripts/run_all_tasks.sh:23)",
    ),
    VtabTask("dtd", "natural", "dtd:3.*.*", OwnValidation(), source=_TA + "dtd.py:38,42-50"),
    VtabTask(
        "oxford_flowers102",
        "natural",
        "oxford_flowers102:2.*.*",
        OwnValidation(),
        source=_TA + "oxford_flowers102.py:36,68-76",
    ),
    VtabTask(
        "oxford_iiit_pet",
        "natural",
        # task_adaptation asks for 3.*.*, which TFDS 4.9 no longer builds (only 4.0.0).
        "oxford_iiit_pet:4.*.*",
        HeldOut(80),
        source=_TA + "oxford_iiit_pet.py:28,45,63-73",
    ),
    VtabTask(
        "sun397",
        "natural",
        "sun397/tfds:4.*.*",
        OwnValidation(),
        source=_TA + "sun397.py:37,40-48",
    ),
    VtabTask(
        "svhn", "natural", "svhn_cropped:3.*.*", HeldOut(90), source=_TA + "svhn.py:28,48,71-88"
    ),
    VtabTask(
        "patch_camelyon",
        "specialized",
        "patch_camelyon:2.*.*",
        OwnValidation(),
        source=_TA + "patch_camelyon.py:32,36-44",
    ),
    VtabTask(
        "eurosat",
        "specialized",
        "eurosat/rgb:2.*.*",
        Carved(60, 20),
        source=_TA + "eurosat.py:25-26,41-67 (subset rgb: its default)",
    ),
    VtabTask(
        "resisc45",
        "specialized",
        "resisc45:3.*.*",
        Carved(60, 20),
        manual=True,
        source=_TA + "resisc45.py:25-26,43,52-67",
    ),
    VtabTask(
        "diabetic_retinopathy",
        "specialized",
        "diabetic_retinopathy_detection/btgraham-300:3.*.*",
        OwnValidation(),
        manual=True,
        source=_TA + "diabetic_retinopathy.py:42,53-54,61-69 (config btgraham-300, no "
        "heavy augmentation: its defaults; scripts/run_all_tasks.sh:40)",
    ),
    VtabTask(
        "clevr-count",
        "structured",
        "clevr:3.*.*",
        HeldOut(90, test="validation"),
        label=clevr_count,
        num_classes=8,
        class_names=tuple(f"{n} objects" for n in range(3, 11)),
        random_crop=False,
        source=_TA + "clevr.py:29,32-34,57-59,86,103-113 (scripts/run_all_tasks.sh:39)",
    ),
    VtabTask(
        "clevr-distance",
        "structured",
        "clevr:3.*.*",
        HeldOut(90, test="validation"),
        label=clevr_distance,
        num_classes=6,
        class_names=_ranges(CLEVR_DISTANCE_BINS),
        source=_TA + "clevr.py:29,45-53,65-67,86,103-113 (scripts/run_all_tasks.sh:38)",
    ),
    VtabTask("dmlab", "structured", "dmlab:2.0.1", OwnValidation(), source=_TA + "dmlab.py:42-52"),
    VtabTask(
        "dsprites-xpos",
        "structured",
        "dsprites:2.*.*",
        Carved(80, 10),
        label="label_x_position",
        num_classes=16,
        bins=16,
        gray=True,
        scale=255,
        random_flip=False,
        random_crop=False,
        source=_TA + "dsprites.py:30-31,47,58,82-103 (scripts/run_all_tasks.sh:36)",
    ),
    VtabTask(
        "dsprites-orientation",
        "structured",
        "dsprites:2.*.*",
        Carved(80, 10),
        label="label_orientation",
        num_classes=16,
        bins=16,
        gray=True,
        scale=255,
        random_flip=False,
        source=_TA + "dsprites.py:30-31,47,58,82-103 (scripts/run_all_tasks.sh:37)",
    ),
    VtabTask(
        "kitti-distance",
        "structured",
        "kitti:3.1.0",
        OwnValidation(),
        label=kitti_distance,
        num_classes=4,
        class_names=("up to 8 m", "8-20 m", "20-999 m", "no vehicle"),
        source=_TA + "kitti.py:90-103,147-150,172-183 (scripts/run_all_tasks.sh:33)",
    ),
    VtabTask(
        "smallnorb-azimuth",
        "structured",
        "smallnorb:2.*.*",
        OwnValidation(validation="test", test="test[50%:]"),
        label="label_azimuth",
        gray=True,
        random_flip=False,
        source=_TA + "smallnorb.py:29,47,55-63,79-82 (scripts/run_all_tasks.sh:34)",
    ),
    VtabTask(
        "smallnorb-elevation",
        "structured",
        "smallnorb:2.*.*",
        OwnValidation(validation="test", test="test[50%:]"),
        label="label_elevation",
        gray=True,
        source=_TA + "smallnorb.py:29,47,55-63,79-82 (scripts/run_all_tasks.sh:35)",
    ),
)

TASK_NAMES = tuple(task.name for task in TASKS)


def label_function(task: VtabTask, feature_classes: int | None = None) -> Callable:
    """The task's label of a TFDS example (a dict of tensors), as an int64 scalar.

    Args:
        task: The task.
        feature_classes: Classes of its label feature, for a task that bins them (dSprites:
            32 x-positions, 40 orientations; task_adaptation reads them off the data set).
    """
    import tensorflow as tf

    if callable(task.label):
        return task.label
    key = task.label
    if task.bins is None:
        return lambda example: tf.cast(example[key], tf.int64)
    if not feature_classes:
        raise ValueError(f"Task {task.name} bins {key}: pass its number of classes.")
    factor = feature_classes / task.bins  # dsprites.py's class_division_factor

    def binned(example):
        value = tf.math.floordiv(tf.cast(example[key], tf.float32), factor)
        return tf.cast(value, tf.int64)

    return binned


_BY_NAME = {task.name: task for task in TASKS}


def get_task(name: str) -> VtabTask:
    """The task of that name; ValueError naming close names for another."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    close = difflib.get_close_matches(name, TASK_NAMES, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"Unknown VTAB-1k task {name!r}.{hint} The tasks: {', '.join(TASK_NAMES)}.")


def select_tasks(names: str | None) -> tuple[VtabTask, ...]:
    """The tasks a comma-separated list names (all 19, in VTAB's order, for None or ''), or
    a group's (`natural`, `specialized`, `structured`)."""
    if not names:
        return TASKS
    chosen: list[VtabTask] = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        group = [t for t in TASKS if t.group == name]
        for task in group or [get_task(name)]:
            if task not in chosen:
                chosen.append(task)
    return tuple(chosen)
