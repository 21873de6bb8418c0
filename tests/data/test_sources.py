import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from bit_keras import data


def test_digits_split_is_deterministic_and_stratified():
    a, b = data.digits_source(), data.digits_source()
    assert (a.train_size, a.test_size, a.num_classes, a.image_size) == (1438, 359, 10, (8, 8))
    assert a.class_names == tuple("0123456789")
    np.testing.assert_array_equal(a.train_labels(), b.train_labels())
    from sklearn.datasets import load_digits

    per_class = np.bincount(load_digits().target)
    expected_train = per_class - np.round(per_class * 0.2).astype(int)
    np.testing.assert_array_equal(np.bincount(a.train_labels()), expected_train)
    image, label = next(iter(a.train()))
    assert image.shape == (8, 8, 3) and image.dtype == tf.uint8 and label.dtype == tf.int64
    test_images = np.stack([x for x, _ in a.test().as_numpy_iterator()])
    train_images = np.stack([x for x, _ in a.train().as_numpy_iterator()])
    assert len(test_images) + len(train_images) == 1797
    assert train_images.max() == 255 and train_images.min() == 0  # 0-16 scaled to 0-255


def _write_images(folder, classes, per_class):
    for c, name in enumerate(classes):
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            image = np.full((6, 9, 3), 30 * c + i, np.uint8)
            encode = tf.io.encode_png if i % 2 else tf.io.encode_jpeg
            suffix = ".png" if i % 2 else ".jpg"
            (folder / name / f"{i}{suffix}").write_bytes(encode(image).numpy())
    (folder / classes[0] / "notes.txt").write_text("not an image")


def test_folder_source_split_by_seed(tmp_path):
    _write_images(tmp_path, ["cat", "dog", "emu"], 5)
    source = data.load_source(f"folder:{tmp_path}")
    assert source.num_classes == 3 and source.image_size == (6, 9)
    assert source.class_names == ("cat", "dog", "emu")
    assert source.train_size == 12 and source.test_size == 3
    labels = [int(y) for _, y in source.train()]
    assert labels == source.train_labels().tolist()
    assert sorted(set(labels)) == [0, 1, 2]


def test_folder_source_with_train_and_test(tmp_path):
    _write_images(tmp_path / "train", ["a", "b"], 4)
    _write_images(tmp_path / "test", ["a", "b"], 2)
    source = data.folder_source(str(tmp_path))
    assert (source.train_size, source.test_size) == (8, 4)


@pytest.mark.parametrize("spec", ["folder:/no/such/dir", "not_a_dataset_anywhere"])
def test_unknown_datasets(spec):
    with pytest.raises(ValueError, match=r"does not exist|Unknown dataset"):
        data.load_source(spec)


def test_tfds_source_on_mock_data():
    with tfds.testing.mock_data(num_examples=20, policy=tfds.testing.MockPolicy.USE_CODE):
        source = data.load_source("cifar10")
        assert source.num_classes == 10 and source.image_size == (32, 32)
        # Mock cifar10 has no label file: its ClassLabel names are the indices.
        assert source.class_names == tuple(str(i) for i in range(10))
        assert source.train_size == 20 and len(source.train_labels()) == 20
        image, _ = next(iter(source.train()))
        assert image.shape == (32, 32, 3)


def test_tfds_not_prepared_with_nodownload_names_the_folder(tmp_path):
    with pytest.raises(ValueError, match="not prepared") as error:
        data.load_source("mnist", data_dir=str(tmp_path), download=False)
    assert f"--data_dir={tmp_path}" in str(error.value) and "--nodownload" in str(error.value)
    assert not any(tmp_path.iterdir())  # nothing fetched, nothing written


class BitKerasTinyShapes(tfds.core.GeneratorBasedBuilder):
    """A TFDS builder defined here: its "download" makes images, so preparing needs no network."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(10, 10, 3)),
                    "label": tfds.features.ClassLabel(names=["dark", "light"]),
                }
            ),
            supervised_keys=("image", "label"),
        )

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(14, 0), "test": self._generate_examples(6, 100)}

    def _generate_examples(self, count, first):
        for i in range(first, first + count):
            yield i, {"image": np.full((10, 10, 3), 20 + 10 * i % 200, np.uint8), "label": i % 2}


def test_tfds_downloads_and_prepares_on_first_use_only(tmp_path):
    name = BitKerasTinyShapes.name
    lines = []
    source = data.load_source(name, data_dir=str(tmp_path), out=lines.append)
    assert lines == [f"Downloading and preparing TFDS dataset {name!r} into {tmp_path} (once) ..."]
    assert (source.train_size, source.test_size, source.num_classes) == (14, 6, 2)
    assert source.class_names == ("dark", "light") and source.image_size == (10, 10)
    assert (tmp_path / name / "1.0.0" / "dataset_info.json").is_file()
    lines.clear()
    again = data.load_source(name, data_dir=str(tmp_path), download=False, out=lines.append)
    assert lines == [] and again.train_size == 14
    # Read as a stream (records undecoded until the order is fixed): decoded, full epochs.
    examples = again.train_examples()
    assert examples.lookup is None and examples.size == 14
    labels = [int(np.argmax(y)) for y in _labels_of(examples, steps=7)]
    assert sorted(labels) == sorted(again.train_labels().tolist())


def _labels_of(examples, steps):
    ds = data.train_dataset(
        examples, batch_size=2, resize=10, crop=10, num_classes=2, mixup_alpha=0.0, seed=0
    )
    return np.concatenate([y.numpy() for _, y in ds.take(steps)])


def test_tfds_download_failure_names_the_data_set_and_folder(tmp_path, monkeypatch):
    def offline(self, *args, **kwargs):
        raise OSError("Failed to resolve 'storage.googleapis.com'")

    monkeypatch.setattr(BitKerasTinyShapes, "download_and_prepare", offline)
    with pytest.raises(ValueError, match="Could not download and prepare") as error:
        data.load_source(BitKerasTinyShapes.name, data_dir=str(tmp_path), out=lambda _: None)
    assert str(tmp_path) in str(error.value) and "storage.googleapis.com" in str(error.value)


def test_bad_image_files_are_listed_by_path_or_skipped(tmp_path):
    _write_images(tmp_path, ["cat", "dog"], 5)
    bad = [tmp_path / "cat" / "broken.jpg", tmp_path / "dog" / "empty.png"]
    bad[0].write_text("<html>404 Not Found</html>")
    bad[1].write_bytes(b"")
    with pytest.raises(ValueError, match="--skip_bad_images") as error:
        data.load_source(f"folder:{tmp_path}")
    message = str(error.value)
    assert "has 2 file(s) that are not" in message
    assert all(str(path) in message for path in bad)
    assert str(tmp_path / "cat" / "0.jpg") not in message

    source = data.load_source(f"folder:{tmp_path}", skip_bad_images=True)
    assert sorted(source.skipped_files) == sorted(map(str, bad))
    assert source.train_size + source.test_size == 10
    images = [x for x, _ in source.train()] + [x for x, _ in source.test()]
    assert len(images) == 10  # every file left in decodes


class BitKerasTinyTrainOnly(BitKerasTinyShapes):
    """The same images with a train split only."""

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(30, 0)}


def test_tfds_without_a_test_split_holds_out_a_fixed_minival_slice(tmp_path):
    source = data.load_source(BitKerasTinyTrainOnly.name, data_dir=str(tmp_path), out=print)
    held_out = data.sources.minival_size(30)
    assert (source.train_size, source.test_size) == (30 - held_out, held_out)
    train = [int(y) for _, y in source.train()]
    test = [int(y) for _, y in source.test()]
    assert len(train) == 27 and len(test) == 3
    assert len(source.train_labels()) == 27
    # The slice is the end of the train split, in TFDS' fixed order: together, every example.
    everything = sorted(int(x[0, 0, 0]) for x, _ in (*source.train(), *source.test()))
    assert everything == sorted(20 + 10 * i % 200 for i in range(30))


def test_tfds_splits_start_where_asked():
    from bit_keras.data.tfds_files import split_part as _from

    assert _from("train", 0) == "train"
    assert _from("train", 500) == "train[500:]"
    assert _from("train[:900]", 100) == "train[100:900]"
    assert _from("train[900:]", 5) == "train[905:]"
    assert _from("train", 10, 20) == "train[10:20]"
    assert _from("train[900:]", 5, 10) == "train[905:910]"
    assert _from("train[:900]", 100, 950) == "train[100:900]"
