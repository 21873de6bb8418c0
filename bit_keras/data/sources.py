"""Where training images come from: TFDS data sets, image folders, CSV manifests,
scikit-learn's digits.

Every source gives unshuffled `tf.data` datasets of `(image, label)`, images uint8 (H, W, 3)
and labels int64, plus what BiT-HyperRule needs to know (size, image size, classes). A folder
of images without class sub-folders is an unlabelled data set (labels -1), for programs that
need no labels (`bit-embed`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from bit_keras._runtime import files as fs
from bit_keras.data.image_check import (
    bad_images_message,
    decode_failures,
    header_failures,
)
from bit_keras.data.image_io import IMAGE_EXTENSIONS, read_image
from bit_keras.data.manifest import read_manifest
from bit_keras.data.names import IMAGE_CHECKS, unknown_dataset_message
from bit_keras.data.pipeline import Examples
from bit_keras.data.tfds_files import record_files, split_part

# The built-in data set's split: a seeded, stratified 20% of scikit-learn's digits for test.
DIGITS_TEST_FRACTION = 0.2
FOLDER_TEST_FRACTION = 0.2
SPLIT_SEED = 0
# Folders and manifests whose test split is named so (the first one present).
TEST_SPLIT_NAMES = ("test", "val", "validation")


@dataclasses.dataclass(frozen=True)
class DataSource:
    """A labelled image data set with a train and a test split.

    Attributes:
        name: What the user asked for (`cifar10`, `folder:/data/x`, `digits`).
        num_classes: Number of classes.
        image_size: (height, width) of the images, or of the first test image when they vary.
        train_size: Examples in the training split.
        test_size: Examples in the test split.
        train_labels: Returns the labels of the training split in dataset order.
        train: Builds the training split, unshuffled, as `(image uint8, label int64)`, from
            its first example or, given `start` (and `stop`), its examples `start` to `stop`
            (without reading those before).
        test: Builds the test split, the same way.
        train_examples: The training split as `train_dataset` reads it (by index where the
            data allows it), for an exact resume.
        class_names: The name of each class, in label order.
        skipped_files: Files left out because they are not images or do not decode
            (`skip_bad_images`).
        multi_label: Whether an example may have several classes; its label is then its
            class ids padded with -1 (`pipeline.targets` makes them multi-hot).
        train_files: The image file of each training example, for folders and manifests.
        test_files: The same for the test split.
        labelled: False for a folder of images without class sub-folders: `num_classes` is
            0 and every label -1.
        origin: Where the examples come from, for the run's record: a TFDS data set's
            version and splits (`TFDS clevr/3.1.0, train train[:800]+..., test validation`).
    """

    name: str
    num_classes: int
    image_size: tuple[int, int]
    train_size: int
    test_size: int
    train_labels: Callable[[], np.ndarray]
    train: Callable[..., tf.data.Dataset]
    test: Callable[..., tf.data.Dataset]
    train_examples: Callable[[], Examples]
    class_names: tuple[str, ...] = ()
    skipped_files: tuple[str, ...] = ()
    multi_label: bool = False
    train_files: np.ndarray | None = None
    test_files: np.ndarray | None = None
    labelled: bool = True
    origin: str = ""


def load_source(
    spec: str,
    data_dir: str | None = None,
    *,
    download: bool = True,
    skip_bad_images: bool = False,
    image_check: str = "decode",
    verdicts_file: str | None = None,
    out: Callable[[str], None] = print,
    unlabelled: bool = False,
) -> DataSource:
    """Resolves a dataset flag: a TFDS name, `folder:PATH`, `csv:PATH`, `vtab:TASK` (a
    VTAB-1k task: `vtab_source`), or `digits`.

    Args:
        spec: The data set.
        data_dir: TFDS data folder (TFDS' default, `~/tensorflow_datasets`, when None).
        download: Download and prepare a TFDS data set that is not prepared yet.
        skip_bad_images: Leave out files of an image folder or manifest that are not images
            or do not decode, instead of refusing the data set.
        image_check: How the files of an image folder or manifest are checked
            (`image_check.py`): `decode` (each decoded once, now) or `header` (their first
            bytes; the test split is still decoded, and a training file that fails to decode
            later stops training, or is skipped with `skip_bad_images`).
        verdicts_file: Where the decode check keeps its verdicts (a run's logdir).
        out: Where lines announcing a download, the image check's progress and skipped
            files go.
        unlabelled: Accept a folder of images without class sub-folders, as an unlabelled
            data set (`unlabelled_folder_source`); else it is an error naming the layout.

    Raises:
        ValueError: unknown data set, TFDS data not prepared (with `download=False`), or an
            unusable folder.
    """
    if image_check not in IMAGE_CHECKS:
        raise ValueError(f"`image_check` must be one of {IMAGE_CHECKS}. Received: {image_check!r}")
    if spec == "digits":
        return digits_source()
    checks = _ImageChecks(image_check, skip_bad_images, verdicts_file, out)
    if spec.startswith("folder:"):
        path = spec.removeprefix("folder:")
        if unlabelled and _is_unlabelled_folder(path):
            return unlabelled_folder_source(path, checks=checks)
        return folder_source(path, checks=checks)
    if spec.startswith("csv:"):
        return csv_source(spec.removeprefix("csv:"), checks=checks)
    if spec.startswith("vtab:"):
        from bit_keras.data.vtab_source import vtab_source  # it builds on this module

        return vtab_source(spec.removeprefix("vtab:"), data_dir, download=download, out=out)
    return tfds_source(spec, data_dir, download=download, out=out)


@dataclasses.dataclass(frozen=True)
class _ImageChecks:
    """How the files of a folder or manifest are checked (`load_source`'s arguments)."""

    check: str = "decode"
    skip: bool = False
    verdicts_file: str | None = None
    out: Callable[[str], object] = print

    def bad_files(self, what: str, train: np.ndarray, test: np.ndarray) -> list[str]:
        """The files to leave out (with `skip`), in order; else an error naming them."""
        files = [str(f) for f in (*train, *test)]
        bad = header_failures(files)
        decoded = files if self.check == "decode" else [str(f) for f in test]
        bad.update(
            decode_failures(
                [f for f in decoded if f not in bad], verdicts_file=self.verdicts_file, out=self.out
            )
        )
        if bad and not self.skip:
            raise ValueError(bad_images_message(what, bad, self.check))
        return [f for f in files if f in bad]

    def late_test_failures(self, what: str, files: np.ndarray) -> list[str]:
        """Under `header`, the test files of a split made after the check, decoded now (the
        test split is decoded under both checks); under `decode`, none (decoded already)."""
        return self.bad_files(what, (), files) if self.check == "header" else []

    def examples(self, files: np.ndarray, labels: np.ndarray) -> Callable[[], Examples]:
        """The training split by index; under `header`, its files that fail to decode are
        named during training, and stop it or are skipped."""
        if self.check == "decode":
            return lambda: Examples.from_arrays(
                files, labels, decode=read_image, encoded=tf.io.read_file
            )
        named, out = set(), self.out

        def on_skip(path):
            if path not in named:  # once, though every epoch meets it
                named.add(path)
                out(
                    f"Skipped {path}: it does not decode (--skip_bad_images); the next image "
                    "takes its place."
                )

        return lambda: Examples.from_arrays(
            files,
            labels,
            decode=read_image,
            undecodable="skip" if self.skip else "stop",
            on_skip=on_skip,
            encoded=tf.io.read_file,
        )


def _stratified_split(labels: np.ndarray, test_fraction: float, seed: int):
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        n_test = round(len(idx) * test_fraction)
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    return np.sort(np.array(train, int)), np.sort(np.array(test, int))


def digits_source() -> DataSource:
    """scikit-learn's bundled handwritten digits: 1,797 8x8 images, 10 classes, no download.

    Pixel values 0-16 are scaled to 0-255 and repeated to RGB; a seeded, stratified 20% is the
    test split.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)
    images = np.repeat(images[..., None], 3, axis=-1)
    labels = digits.target.astype(np.int64)
    train_idx, test_idx = _stratified_split(labels, DIGITS_TEST_FRACTION, SPLIT_SEED)

    def split(idx):
        return lambda start=0, stop=None: tf.data.Dataset.from_tensor_slices(
            (images[idx[start:stop]], labels[idx[start:stop]])
        )

    return DataSource(
        "digits",
        10,
        (8, 8),
        len(train_idx),
        len(test_idx),
        lambda: labels[train_idx],
        split(train_idx),
        split(test_idx),
        lambda: Examples.from_arrays(images[train_idx], labels[train_idx]),
        tuple(str(d) for d in range(10)),
    )


def folder_source(path: str, *, checks: _ImageChecks = _ImageChecks()) -> DataSource:
    """An image folder: one sub-folder per class holding image files (`IMAGE_EXTENSIONS`).

    `PATH/train/<class>/` and `PATH/test/<class>/` (or `val/`) are used as the splits where
    they exist; otherwise a seeded, stratified 20% of `PATH/<class>/` is the test split.
    Every file is checked when the folder is loaded (`load_source`'s `image_check`): a file
    that is not a JPEG, PNG, GIF or BMP image (empty, unreadable, another format) or does not
    decode is an error listing the bad files, or is left out and listed in `skipped_files`
    with `skip_bad_images`.
    """
    if not fs.isdir(path):
        raise ValueError(f"Dataset folder {path!r} does not exist.")
    top = set(fs.scan(path, _is_image)[0])
    test_dir = next((fs.join(path, d) for d in TEST_SPLIT_NAMES if d in top), None)
    if "train" in top and test_dir:
        classes = _classes(fs.join(path, "train"))
        train_files, train_labels = _list_images(fs.join(path, "train"), classes)
        test_files, test_labels = _list_images(test_dir, classes)
        bad = checks.bad_files(f"Dataset folder {path!r}", train_files, test_files)
        train_files, train_labels = _without(bad, train_files, train_labels)
        test_files, test_labels = _without(bad, test_files, test_labels)
    else:
        classes = _classes(path)
        files, labels = _list_images(path, classes)
        # The split is made without the bad files; under `header` its test files are then
        # decoded (the test split is decoded under both checks).
        bad = checks.bad_files(f"Dataset folder {path!r}", files, ())
        files, labels = _without(bad, files, labels)
        train_idx, test_idx = _stratified_split(labels, FOLDER_TEST_FRACTION, SPLIT_SEED)
        train_files, train_labels = files[train_idx], labels[train_idx]
        test_files, test_labels = files[test_idx], labels[test_idx]
        late = checks.late_test_failures(f"Dataset folder {path!r}", test_files)
        test_files, test_labels = _without(late, test_files, test_labels)
        bad += late
    if not len(train_files) or not len(test_files):
        raise ValueError(f"Dataset folder {path!r} needs images in both splits.")
    image_size = tuple(read_image(test_files[0]).shape[:2])  # decoded by every check

    return DataSource(
        f"folder:{path}",
        len(classes),
        image_size,
        len(train_files),
        len(test_files),
        lambda: train_labels,
        _file_split(train_files, train_labels),
        _file_split(test_files, test_labels),
        checks.examples(train_files, train_labels),
        tuple(classes),
        tuple(bad),
        train_files=train_files,
        test_files=test_files,
    )


def _is_unlabelled_folder(path: str) -> bool:
    """A folder holding image files and no sub-folders."""
    if not fs.isdir(path):
        return False
    folders, names = fs.scan(path, _is_image)
    return not folders and any(_is_image(name) for name in names)


def unlabelled_folder_source(path: str, *, checks: _ImageChecks = _ImageChecks()) -> DataSource:
    """A folder of image files without class sub-folders: an unlabelled data set.

    Its files, sorted by name, are the training split and a fixed, seeded `minival_size` of
    them the test split (big_vision's `minival`); labels are -1 and `num_classes` 0. Files
    are checked as an image folder's are.
    """
    files = np.array(
        [fs.join(path, f) for f in fs.scan(path, _is_image)[1] if _is_image(f)], dtype=str
    )
    bad = checks.bad_files(f"Image folder {path!r}", files, ())
    files = files[~np.isin(files, bad)]
    if len(files) < 2:
        raise ValueError(f"Image folder {path!r} needs at least 2 images that decode.")
    train_idx, test_idx = minival_split(len(files))
    train_files, test_files = files[train_idx], files[test_idx]
    late = checks.late_test_failures(f"Image folder {path!r}", test_files)
    test_files = test_files[~np.isin(test_files, late)]
    bad += late
    train_labels = -np.ones(len(train_files), np.int64)
    test_labels = -np.ones(len(test_files), np.int64)
    return DataSource(
        f"folder:{path}",
        0,
        tuple(read_image(test_files[0]).shape[:2]),
        len(train_files),
        len(test_files),
        lambda: train_labels,
        _file_split(train_files, train_labels),
        _file_split(test_files, test_labels),
        checks.examples(train_files, train_labels),
        (),
        tuple(bad),
        train_files=train_files,
        test_files=test_files,
        labelled=False,
    )


def minival_size(train_size: int) -> int:
    """Examples held out of a training split that comes without a test split.

    1% of it, as big_vision's `minival` holds out `train[99%:]` of ILSVRC-2012, but at least
    a tenth of it up to 1,000 examples, so that small data sets are measured on more than a
    handful of images.
    """
    return max(-(-train_size // 100), min(train_size // 10, 1_000))


def minival_split(size: int, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices: a fixed, seeded `minival_size(size)` examples held out."""
    held_out = np.sort(np.random.default_rng(seed).permutation(size)[: minival_size(size)])
    keep = np.ones(size, bool)
    keep[held_out] = False
    return np.flatnonzero(keep), held_out


def csv_source(path: str, *, checks: _ImageChecks = _ImageChecks()) -> DataSource:
    """Images listed in CSV manifests (`manifest.py`): single- or multi-label.

    `PATH` is a CSV file, whose fixed, seeded `minival_size` rows are the test split (big_vision's
    `minival`), or a folder holding `train.csv` and `test.csv` (or `val.csv`,
    `validation.csv`). The classes are the labels of the training rows, sorted; an image with
    several labels makes the data set multi-label. Every image file is checked as an image
    folder's is.

    Raises:
        ValueError: missing files, bad rows (named by line), test labels the training rows do
            not have, or files that are not images (unless `skip_bad_images`).
    """
    if fs.isdir(path):
        present = set(fs.scan(path)[1])
        train_csv = fs.join(path, "train.csv")
        test_csv = next(
            (fs.join(path, f"{n}.csv") for n in TEST_SPLIT_NAMES if f"{n}.csv" in present),
            None,
        )
        if "train.csv" not in present or test_csv is None:
            raise ValueError(
                f"Manifest folder {path!r} needs train.csv and test.csv (or val.csv, "
                "validation.csv); or pass a CSV file, whose held-out rows are the test split."
            )
        train, test = read_manifest(train_csv), read_manifest(test_csv)
    elif path.endswith(".csv") or fs.isfile(path):
        whole = read_manifest(path)
        train_idx, test_idx = minival_split(len(whole.files))
        if not len(train_idx) or not len(test_idx):
            raise ValueError(f"CSV manifest {path!r} needs at least 2 images to hold one out.")
        train, test = whole.subset(train_idx), whole.subset(test_idx)
    else:
        raise ValueError(f"No CSV manifest or folder of manifests at {path!r}.")
    bad = checks.bad_files(f"CSV manifest {path!r}", train.files, test.files)
    if bad:
        train, test = (
            train.subset(~np.isin(train.files, bad)),
            test.subset(~np.isin(test.files, bad)),
        )
    classes = tuple(sorted({label for labels in train.labels for label in labels}))
    if len(classes) < 2:
        raise ValueError(f"CSV manifest {path!r} needs at least 2 classes. Found: {classes}")
    multi_label = any(len(labels) > 1 for labels in (*train.labels, *test.labels))
    train_labels = train.label_ids(classes, multi_label)
    test_labels = test.label_ids(classes, multi_label)
    image_size = tuple(read_image(test.files[0]).shape[:2])  # decoded by every check
    return DataSource(
        f"csv:{path}",
        len(classes),
        image_size,
        len(train.files),
        len(test.files),
        lambda: train_labels,
        _file_split(train.files, train_labels),
        _file_split(test.files, test_labels),
        checks.examples(train.files, train_labels),
        classes,
        tuple(bad),
        multi_label,
        train_files=train.files,
        test_files=test.files,
    )


def _file_split(files: np.ndarray, labels: np.ndarray):
    def build(start=0, stop=None):
        ds = tf.data.Dataset.from_tensor_slices((files[start:stop], labels[start:stop]))
        return ds.map(
            lambda f, y: (read_image(f), y),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    return build


def _without(bad: list[str], files: np.ndarray, labels: np.ndarray):
    keep = ~np.isin(files, bad)
    return files[keep], labels[keep]


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _classes(path: str) -> list[str]:
    classes = fs.scan(path, _is_image)[0]
    if len(classes) < 2:
        raise ValueError(
            f"Dataset folder {path!r} needs one sub-folder per class, at least 2. Found: {classes}"
        )
    return classes


def _list_images(path: str, classes: list[str]):
    files, labels = [], []
    for label, name in enumerate(classes):
        folder = fs.join(path, name)
        if not fs.isdir(folder):
            raise ValueError(f"Class folder {folder!r} is missing.")
        for fname in fs.scan(folder, _is_image)[1]:
            if _is_image(fname):
                files.append(fs.join(folder, fname))
                labels.append(label)
    return np.array(files, dtype=str), np.array(labels, dtype=np.int64)


def tfds_source(
    name: str,
    data_dir: str | None = None,
    *,
    download: bool = True,
    out: Callable[[str], None] = print,
) -> DataSource:
    """A TensorFlow Datasets data set by name, downloaded and prepared on first use.

    Prepared data is used as it is, offline. The splits are `train` and `test` (or
    `validation` where there is no `test`; where there is neither, a fixed slice at the end of
    `train`, `minival_size` examples, as big_vision's `minival`).

    Args:
        name: A TFDS name, with an optional version or config (`cifar10`, `mnist:3.*.*`).
        data_dir: The TFDS data folder (TFDS' default when None).
        download: With False, data that is not prepared is an error instead of a download.
        out: Where a line announcing a download goes.
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as e:
        raise ValueError(unknown_dataset_message(name)) from e
    root = os.fspath(builder.data_dir_root)
    if not builder.is_prepared():
        if not download:
            raise ValueError(
                f"TFDS dataset {name!r} is not prepared in {root!r}, and --nodownload forbids "
                f"fetching it: prepare it where there is network access (`tfds build {name} "
                f"--data_dir={root}`) and pass --data_dir={root}, or drop --nodownload."
            )
        out(f"Downloading and preparing TFDS dataset {name!r} into {root} (once) ...")
        try:
            builder.download_and_prepare()
        except Exception as e:  # network, disk and TFDS errors alike: say which data set
            raise ValueError(
                f"Could not download and prepare TFDS dataset {name!r} into {root!r} "
                f"({type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}). "
                f"Without network access, prepare it elsewhere (`tfds build {name}`), copy it "
                "into a folder here and pass that folder as --data_dir."
            ) from e
    supervised = builder.info.supervised_keys
    if not supervised or len(supervised) != 2:
        raise ValueError(f"TFDS dataset {name!r} has no (image, label) supervised keys.")
    image_key, label_key = supervised
    splits = set(builder.info.splits) or {"train", "test"}
    held_out = next((name_ for name_ in ("test", "validation") if name_ in splits), None)
    num_classes = builder.info.features[label_key].num_classes

    features = builder.info.features
    what = f"TFDS dataset {name!r}"

    def decode(record):
        return features.deserialize_example(record)[image_key]

    encoded = None
    if features[image_key].shape[-1:] == (3,):  # RGB: its bytes decode as `decode` does

        def encoded(record):
            spec = {image_key: tf.io.FixedLenFeature([], tf.string)}
            return tf.io.parse_single_example(record, spec)[image_key]

    def split(name_, images=True):
        def build(start=0, stop=None):
            part = split_part(name_, start, stop)
            files = record_files(builder, part, label_key, what)
            if files is not None:  # read from its files, those of this part alone
                ds = files.in_order()
                if not images:
                    return ds
                return ds.map(
                    lambda record, label: (decode(record), label),
                    num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=True,
                )
            try:  # no files (mock data): as TFDS reads it
                decoders = None if images else {image_key: tfds.decode.SkipDecoding()}
                ds = builder.as_dataset(split=part, shuffle_files=False, decoders=decoders)
            except AssertionError as e:  # TFDS' "could not find data in ..."
                raise ValueError(
                    f"TFDS dataset {name!r} is not prepared in {root!r}. Prepare it where "
                    f"there is network access (`tfds build {name} --data_dir={root}`) and "
                    f"pass --data_dir={root}."
                ) from e
            return ds.map(
                lambda ex: (ex[image_key], ex[label_key]), num_parallel_calls=tf.data.AUTOTUNE
            )

        return build

    def train_labels():
        labels = split(train_split, images=False)().map(lambda _, label: label)
        return np.array(list(labels.as_numpy_iterator()), np.int64)

    def size(split_name):
        if split_name in builder.info.splits:
            return builder.info.splits[split_name].num_examples
        return int(split(split_name, False)().reduce(0, lambda n, _: n + 1))  # e.g. mock data

    train_split, train_size = "train", size("train")
    if held_out is None:
        # No test or validation split: a fixed slice at the end of the training split is
        # held out (big_vision's `minival`, `train[99%:]`), sized by `minival_size`.
        cut = train_size - minival_size(train_size)
        train_split, held_out, test_size = f"train[:{cut}]", f"train[{cut}:]", train_size - cut
        train_size = cut
    else:
        test_size = size(held_out)

    def train_examples():
        files = record_files(builder, train_split, label_key, what)
        if files is None:  # no files to read (mock data): a stream
            return Examples(
                train_size,
                stream=split(train_split, images=False),
                decode=features[image_key].decode_example,
            )
        return Examples(files.size, files=files, decode=decode, encoded=encoded)

    shape = builder.info.features[image_key].shape
    if shape[0] is None or shape[1] is None:
        first = next(iter(split("train")()))[0]
        shape = first.shape
    return DataSource(
        name,
        num_classes,
        (int(shape[0]), int(shape[1])),
        train_size,
        test_size,
        train_labels,
        split(train_split),
        split(held_out),
        train_examples,
        tuple(builder.info.features[label_key].names),
        origin=f"TFDS {builder.info.full_name}, train {train_split}, test {held_out}",
    )
