import errno
import os

import pytest

from bit_keras._runtime import files
from bit_keras._runtime.atomic_write import save_atomically, save_directory_atomically
from bit_keras._runtime.files import WriteError


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


@pytest.mark.parametrize(
    ("number", "named"), [(errno.ENOSPC, True), (errno.EDQUOT, True), (errno.ENOENT, False)]
)
def test_a_write_the_filesystem_refuses_names_the_target(tmp_path, number, named):
    target = tmp_path / "model.keras"
    target.write_text("old")

    def save(path):
        raise OSError(number, os.strerror(number))  # what a write() says: no file named

    with pytest.raises(OSError) as error:
        save_atomically(target, save)
    if named:  # the filesystem failed: the file named; else the caller's own error
        assert isinstance(error.value, WriteError)
        assert str(error.value) == f"Could not write {target} ({os.strerror(number)})."
    else:
        assert not isinstance(error.value, WriteError)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["model.keras"]


@pytest.mark.parametrize(
    ("message", "path", "reason"),
    [
        (
            "{{function_node __wrapped__SaveV2_dtypes_94_device_/job:localhost/replica:0/task:0"
            "/device:CPU:0}} /logs/checkpoints/ckpt-8_temp/part-00000-of-00001.data-00000-of-"
            "00001.tempstate13839664000325523057; No space left on device [Op:SaveV2]",
            "/logs/checkpoints/ckpt-8_temp/part-00000-of-00001.data-00000-of-00001",
            "No space left on device",
        ),
        (
            "{{function_node __wrapped__WriteSummary_device_/job:localhost/replica:0/task:0/"
            "device:CPU:0}} /logs/events.out.tfevents.1.vm.2.0.v2; Disk quota exceeded\n\tFailed "
            "to flush 11 events to /logs/events.out.tfevents.1.vm.2.0.v2\n\tCould not flush "
            "events file. [Op:WriteSummary]",
            "/logs/events.out.tfevents.1.vm.2.0.v2",
            "Disk quota exceeded",
        ),
        # The same class of error from an op that writes nothing: a device out of memory.
        ("OOM when allocating tensor with shape[64,2048] [Op:MatMul]", None, None),
    ],
)
def test_tensorflows_write_errors_are_read_for_the_file_and_the_reason(message, path, reason):
    import tensorflow as tf

    error = files.tf_write_error(tf.errors.ResourceExhaustedError(None, None, message))
    if path is None:
        assert error is None
    else:
        assert (error.path, error.reason) == (path, reason)
