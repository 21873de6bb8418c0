"""csv: data sets: manifests of image paths with one or more labels each."""

import numpy as np
import pytest
import tensorflow as tf

from bit_keras import data
from bit_keras.data.sources import minival_size


def _image(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(np.full((6, 9, 3), value, np.uint8)).numpy())


def _images(folder, n):
    for i in range(n):
        _image(folder / "img" / f"{i}.png", i * 7 % 256)


def test_single_label_manifest_with_header_and_held_out_rows(tmp_path):
    _images(tmp_path, 30)
    rows = ["path,label"] + [f"img/{i}.png,{'cat' if i % 3 else 'dog'}" for i in range(30)]
    (tmp_path / "all.csv").write_text("\n".join(rows) + "\n\n")
    source = data.load_source(f"csv:{tmp_path / 'all.csv'}")
    assert source.class_names == ("cat", "dog") and not source.multi_label
    assert source.test_size == minival_size(30) == 3 and source.train_size == 27
    assert source.image_size == (6, 9)
    pairs = [(x.numpy(), int(y)) for x, y in source.train()] + [
        (x.numpy(), int(y)) for x, y in source.test()
    ]
    assert len(pairs) == 30
    # Each image keeps its row's label: the value written into image i gives back i.
    for image, label in pairs:
        i = next(j for j in range(30) if j * 7 % 256 == image[0, 0, 0])
        assert label == (0 if i % 3 else 1)
    # The held-out rows are fixed.
    again = data.load_source(f"csv:{tmp_path / 'all.csv'}")
    np.testing.assert_array_equal(again.train_labels(), source.train_labels())


def test_multi_label_rows_pad_their_class_ids(tmp_path):
    _images(tmp_path, 12)
    rows = [f"img/{i}.png,{'a' if i % 2 else 'b'}" + (",c" if i % 3 == 0 else "") for i in range(8)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "test.csv").write_text("img/8.png,c,a\nimg/9.png,b\n")
    source = data.load_source(f"csv:{tmp_path}")
    assert source.multi_label and source.class_names == ("a", "b", "c")
    assert (source.train_size, source.test_size) == (8, 2)
    labels = source.train_labels()
    assert labels.shape == (8, 2)
    np.testing.assert_array_equal(labels[0], [1, 2])  # img/0: b, c
    np.testing.assert_array_equal(labels[1], [0, -1])  # img/1: a
    test = [y.numpy().tolist() for _, y in source.test()]
    assert test == [[2, 0], [1, -1]]
    batch = next(
        iter(
            data.train_dataset(
                source.train_examples(),
                batch_size=8,
                resize=None,
                crop=4,
                num_classes=3,
                mixup_alpha=0.0,
                seed=0,
                random_flip=False,
            )
        )
    )[1].numpy()
    assert sorted(batch.sum(axis=1).tolist()) == sorted(
        float(len([v for v in row if v >= 0])) for row in labels
    )


def test_bad_rows_are_named_by_line(tmp_path):
    _images(tmp_path, 3)
    (tmp_path / "bad.csv").write_text(
        "image,label\nimg/0.png,x\nimg/1.png\nimg/missing.png,y\n,z\nimg/0.png,y\nimg/2.png,y\n"
    )
    with pytest.raises(ValueError) as error:
        data.load_source(f"csv:{tmp_path / 'bad.csv'}")
    message = str(error.value)
    assert "4 bad row(s)" in message
    assert "line 3: 'img/1.png' has no label" in message
    assert f"line 4: no image file at {str(tmp_path / 'img' / 'missing.png')!r}" in message
    assert "line 5: no image path" in message
    assert "line 6: 'img/0.png' is listed again (line 2)" in message


def test_test_labels_must_be_training_classes_and_bad_images_are_named(tmp_path):
    _images(tmp_path, 6)
    (tmp_path / "train.csv").write_text("img/0.png,a\nimg/1.png,b\nimg/2.png,a\n")
    (tmp_path / "val.csv").write_text("img/3.png,a\nimg/4.png,zebra\n")
    with pytest.raises(ValueError, match=r"line 2: label 'zebra'"):
        data.load_source(f"csv:{tmp_path}")
    (tmp_path / "val.csv").write_text("img/3.png,a\nimg/4.png,b\nimg/5.png,b\n")
    (tmp_path / "img" / "5.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="--skip_bad_images") as error:
        data.load_source(f"csv:{tmp_path}")
    assert str(tmp_path / "img" / "5.png") in str(error.value)
    source = data.load_source(f"csv:{tmp_path}", skip_bad_images=True)
    assert source.test_size == 2 and source.skipped_files == (str(tmp_path / "img" / "5.png"),)


@pytest.mark.parametrize(
    ("n", "held_out"), [(2, 1), (30, 3), (1_000, 100), (20_000, 1_000), (1_281_167, 12_812)]
)
def test_minival_size(n, held_out):
    assert minival_size(n) == held_out


def test_missing_manifests(tmp_path):
    with pytest.raises(ValueError, match=r"does not exist|No CSV manifest"):
        data.load_source(f"csv:{tmp_path / 'none.csv'}")
    with pytest.raises(ValueError, match=r"needs train\.csv and test\.csv"):
        data.load_source(f"csv:{tmp_path}")
