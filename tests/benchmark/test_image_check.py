"""The image check's benchmark: both checks timed on synthetic JPEGs, figures per 10,000."""

import os

import pytest

from bit_keras.benchmark import image_check
from bit_keras.data.image_check import decode_failures


def test_both_checks_are_timed_and_printed():
    lines = []
    result = image_check.run(40, 24, 32, out=lines.append)
    assert (result.images, result.height, result.width) == (40, 24, 32)
    assert result.decode_seconds > 0 and result.header_seconds > 0
    assert result.per_10000(result.decode_seconds) == pytest.approx(result.decode_seconds * 250)
    assert 100 < result.mean_file_bytes < 24 * 32 * 3
    assert lines[0].startswith("Writing 40 synthetic 32x24 JPEGs into ")
    assert lines[-1].startswith("40 images of 32x24 (")
    assert f"{result.per_10000(result.decode_seconds):.1f} s per 10,000" in lines[-1]


def test_the_synthetic_images_decode(tmp_path):
    files = image_check.write_images(str(tmp_path), 10, 16, 20)
    assert len(files) == 10 and all(os.path.getsize(f) > 0 for f in files)
    assert decode_failures(files, out=lambda _: None) == {}


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match="images=0"):
        image_check.run(0, 8, 8)
