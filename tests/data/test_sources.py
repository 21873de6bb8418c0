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


def test_tfds_not_prepared(tmp_path):
    with pytest.raises(ValueError, match="not prepared"):
        data.load_source("mnist", data_dir=str(tmp_path))
