import os

import pytest

from bit_keras._runtime.atomic_write import save_atomically, save_directory_atomically


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


def test_written_files_are_readable_by_others(tmp_path):
    previous = os.umask(0o022)
    try:
        save_atomically(tmp_path / "config.json", lambda p: open(p, "w").close())
    finally:
        os.umask(previous)
    assert (tmp_path / "config.json").stat().st_mode & 0o777 == 0o644


def _write_folder(files):
    def save(path):
        for name, text in files.items():
            with open(os.path.join(path, name), "w") as f:
                f.write(text)

    return save


def test_folder_written_whole_and_existing_one_kept_unless_overwrite(tmp_path):
    target = tmp_path / "saved_model"
    previous = os.umask(0o022)
    try:
        save_directory_atomically(target, _write_folder({"a.txt": "1"}))
    finally:
        os.umask(previous)
    assert (target / "a.txt").read_text() == "1"
    assert target.stat().st_mode & 0o777 == 0o755
    with pytest.raises(FileExistsError):
        save_directory_atomically(target, _write_folder({"b.txt": "2"}))
    save_directory_atomically(target, _write_folder({"b.txt": "2"}), overwrite=True)
    assert os.listdir(target) == ["b.txt"]
    assert os.listdir(tmp_path) == ["saved_model"]


def test_failed_folder_write_keeps_the_old_one_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "saved_model"
    save_directory_atomically(target, _write_folder({"a.txt": "old"}))

    def fail(path):
        _write_folder({"a.txt": "half"})(path)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_directory_atomically(target, fail, overwrite=True)
    assert (target / "a.txt").read_text() == "old"
    with pytest.raises(KeyboardInterrupt):
        save_directory_atomically(tmp_path / "new", fail)
    assert os.listdir(tmp_path) == ["saved_model"]
