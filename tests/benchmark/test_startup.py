"""The start-up benchmark at a toy size: real pre-training commands timed to their first step."""

import pytest

from bit_keras.benchmark import startup


def test_both_data_kinds_reach_their_first_step_and_are_measured():
    lines = []
    figures, verdicts = startup.run(2000, out=lines.append)
    assert [f.data for f in figures] == ["csv:", "folder:"]
    for figure in figures:
        assert 0 < figure.seconds < 300 and 100 * 2**20 < figure.peak_bytes < 8 * 2**30
    assert lines[0].startswith("Writing 2,000 JPEGs in 20 class folders")
    assert lines[1].startswith("csv: 2,000 images: the first step ")
    assert verdicts.files == 2000 and 16_000 <= verdicts.bytes < 20_000  # 8 bytes a file
    assert lines[-1].startswith("Verdicts of the decode check for 2,000 files: 0.0 MiB")


def test_too_few_images_is_named():
    with pytest.raises(ValueError, match="images=10"):
        startup.run(10)
