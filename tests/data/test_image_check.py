"""Images that do not decode: found before training (decode check, verdicts kept), or named
during training (header check) and skipped the same way on every run, or stopping it."""

import os

import numpy as np
import pytest
import tensorflow as tf

from bit_keras import data
from bit_keras.data import image_check
from bit_keras.data.image_io import read_image
from bit_keras.data.pipeline import Examples
from bit_keras.training.config import IMAGE_CHECKS


def _jpeg(value: int) -> bytes:
    ramp = np.linspace(0, 1, 24 * 32).reshape(24, 32, 1)
    image = np.clip(ramp * 100 + value, 0, 255).astype(np.uint8).repeat(3, axis=-1)
    return tf.io.encode_jpeg(image, quality=95).numpy()


def cut_short(path) -> None:
    """Keeps the first half of a file: its header is whole, its body is not."""
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def write_folder(root, classes=("cat", "dog"), per_class=6):
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            (root / name / f"{i}.jpg").write_bytes(_jpeg(40 * c + 5 * i))


def test_the_checks_are_the_flags_choices():
    # One home: the flags of bit-train, bit-embed and bit-fewshot take the data layer's.
    from bit_keras.data import names
    from bit_keras.programs import shared_flags

    assert names.IMAGE_CHECKS is IMAGE_CHECKS is shared_flags.CHOICES["image_check"]
    assert IMAGE_CHECKS == ("decode", "header")


def test_a_cut_short_jpeg_stops_loading_with_its_path(tmp_path):
    write_folder(tmp_path)
    bad = tmp_path / "dog" / "3.jpg"
    cut_short(bad)
    assert image_check.header_failures([str(bad)]) == {}  # its first bytes are a JPEG's
    lines = []
    with pytest.raises(ValueError, match="--skip_bad_images") as error:
        data.load_source(f"folder:{tmp_path}", out=lines.append)
    assert f"{bad}: does not decode" in str(error.value)
    assert "has 1 file(s)" in str(error.value)
    assert lines[0].startswith("Checking that 12 images decode")
    assert lines[-1].startswith("  12 images decoded in")


def test_skip_bad_images_leaves_it_out_and_the_rest_decodes(tmp_path):
    write_folder(tmp_path)
    bad = tmp_path / "cat" / "1.jpg"
    cut_short(bad)
    source = data.load_source(f"folder:{tmp_path}", skip_bad_images=True, out=lambda _: None)
    assert source.skipped_files == (str(bad),)
    assert source.train_size + source.test_size == 11
    assert len([x for x, _ in source.train()] + [x for x, _ in source.test()]) == 11


def test_verdicts_are_kept_and_only_changed_files_decoded_again(tmp_path):
    folder, verdicts = tmp_path / "images", tmp_path / "run" / image_check.VERDICTS_FILE
    write_folder(folder)
    bad = folder / "dog" / "2.jpg"
    cut_short(bad)
    lines = []

    def load():
        lines.clear()
        return data.load_source(
            f"folder:{folder}", skip_bad_images=True, verdicts_file=str(verdicts), out=lines.append
        )

    assert load().skipped_files == (str(bad),)
    files = sorted(folder.glob("*/*.jpg"))
    kept = image_check.kept_verdicts(str(verdicts), files)
    assert kept[str(bad)] is False and sum(kept.values()) == 11 and len(kept) == 12
    assert load().skipped_files == (str(bad),) and lines == []  # nothing decoded again
    bad.write_bytes(_jpeg(99))  # mended: a new size and time
    os.utime(bad, ns=(1, 1))
    assert load().skipped_files == ()
    assert lines[0].startswith("Checking that 1 images decode")
    assert image_check.kept_verdicts(str(verdicts), files)[str(bad)] is True
    assert verdicts.stat().st_size < 1000  # 8 bytes a file and the npz's own


def test_damaged_verdicts_are_decoded_again(tmp_path):
    write_folder(tmp_path / "images")
    verdicts = tmp_path / image_check.VERDICTS_FILE
    verdicts.write_bytes(b"PK\x03\x04 not an npz")
    lines = []
    data.load_source(f"folder:{tmp_path / 'images'}", verdicts_file=str(verdicts), out=lines.append)
    assert lines[0].startswith("Checking that 12 images decode")
    files = sorted((tmp_path / "images").glob("*/*.jpg"))
    assert len(files) == 12 and image_check.kept_verdicts(str(verdicts), files) == {
        str(f): True for f in files
    }


def test_verdicts_written_unsorted_are_still_found(tmp_path):
    write_folder(tmp_path / "images")
    files = [str(f) for f in sorted((tmp_path / "images").glob("*/*.jpg"))]
    digests = image_check._digests(files)
    verdicts = tmp_path / image_check.VERDICTS_FILE
    with open(verdicts, "wb") as f:  # as another writer might: in the files' order
        np.savez(f, version=2, decode=digests[1:], do_not_decode=digests[:1])
    assert not np.all(digests[1:-1] < digests[2:])
    assert image_check.kept_verdicts(str(verdicts), files) == {
        f: i > 0 for i, f in enumerate(files)
    }


def test_header_check_decodes_the_test_split_only(tmp_path):
    for split in ("train", "test"):
        write_folder(tmp_path / split, per_class=4)
    cut_short(tmp_path / "train" / "cat" / "0.jpg")  # found in training, not now
    lines = []
    source = data.load_source(f"folder:{tmp_path}", image_check="header", out=lines.append)
    assert source.train_size == 8 and source.skipped_files == ()
    assert lines[0].startswith("Checking that 8 images decode")  # the test split's
    test_file = tmp_path / "test" / "dog" / "1.jpg"
    cut_short(test_file)
    with pytest.raises(ValueError, match="the test split decoded") as error:
        data.load_source(f"folder:{tmp_path}", image_check="header", out=lines.append)
    assert str(test_file) in str(error.value)
    assert str(tmp_path / "train" / "cat" / "0.jpg") not in str(error.value)


def test_an_unknown_check_is_named(tmp_path):
    with pytest.raises(ValueError, match="image_check"):
        data.load_source("digits", image_check="pixels")


def _files(tmp_path, n=7, bad=3):
    files = []
    for i in range(n):
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(_jpeg(10 * i))
        files.append(str(path))
    cut_short(tmp_path / f"{bad}.jpg")
    return files


def _means(dataset, n):
    # Which file each element came from (their brightness differs by 10), and its position.
    return [
        (round((float(tf.reduce_mean(tf.cast(x, tf.float32))) - 50) / 10), int(y), int(p))
        for x, y, p in dataset.take(n)
    ]


def test_skipping_gives_the_next_image_the_place_the_same_way_after_a_resume(tmp_path):
    files = _files(tmp_path)
    skipped = []
    examples = Examples.from_arrays(
        files, np.arange(7), decode=read_image, undecodable="skip", on_skip=skipped.append
    )
    whole = _means(examples.ordered(5), 21)
    assert [p for *_, p in whole] == list(range(21))  # every place filled, in order
    assert all(i == label for i, label, _ in whole)  # each image with its own label
    assert 3 not in [i for i, *_ in whole]
    assert set(skipped) == {files[3]} and len(skipped) == 3  # once in each of 3 epochs
    # The order is that of the same files without damage, where the next one fills the gap.
    healthy = Examples.from_arrays(files, np.arange(7), decode=lambda f: tf.zeros((1, 1, 3)))
    order = [int(y) for _, y, _ in healthy.ordered(5).take(22)]
    # (the bad one's place goes to the next good one)
    expected = [next(order[j] for j in range(k, 22) if order[j] != 3) for k in range(21)]
    assert [label for _, label, _ in whole] == expected
    for start in range(1, 21):
        assert _means(examples.ordered(5, start), 21 - start) == whole[start:]


def test_stopping_names_the_file_in_the_error(tmp_path):
    files = _files(tmp_path)
    examples = Examples.from_arrays(files, np.arange(7), decode=read_image, undecodable="stop")
    with pytest.raises(tf.errors.OpError) as error:
        _means(examples.ordered(5), 7)
    assert image_check.undecodable_image(error.value) == files[3]
    assert image_check.undecodable_image(ValueError("another error")) is None


def test_a_path_with_quotes_survives_the_error(tmp_path):
    path = str(tmp_path / 'a "quoted", odd\\name.jpg')
    assert image_check.undecodable_image(image_check.undecodable_error(path)) == path


def test_undecodable_needs_files_by_index():
    ds = tf.data.Dataset.from_tensor_slices((["a"], [0]))
    with pytest.raises(ValueError, match="needs `lookup`"):
        Examples(1, stream=lambda: ds, undecodable="skip")
    with pytest.raises(ValueError, match="undecodable"):
        Examples.from_arrays(["a"], [0], undecodable="ignore")
