import os

import pytest

from bit_keras.atomic_write import save_atomically


def test_writes_through_a_temporary_file_with_the_same_suffix(tmp_path):
    seen = []

    def save(path):
        seen.append(path)
        with open(path, "w") as f:
            f.write("new")

    save_atomically(tmp_path / "model.weights.h5", save)
    assert seen[0].endswith(".weights.h5") and seen[0] != str(tmp_path / "model.weights.h5")
    assert (tmp_path / "model.weights.h5").read_text() == "new"
    assert os.listdir(tmp_path) == ["model.weights.h5"]


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "config.json"
    target.write_text("old")

    def save(path):
        with open(path, "w") as f:
            f.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_atomically(target, save)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["config.json"]
