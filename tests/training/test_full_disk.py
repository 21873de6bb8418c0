"""A logdir on a disk that fills up: while the run takes its lock, writes a checkpoint,
creates TensorBoard's events file, `model.keras`, `model.npz` and the report, and while
`bit-embed` writes a shard. Each time: one error naming the file and the reason, nothing
written before lost, nothing half-written left; after space is freed, the same call goes on
exactly where it stopped.

The disk is a tmpfs mounted for the test (root only: CI runs as root); it is filled at the
moment under test, by a file that takes every free block.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bit_keras._runtime import atomic_write
from bit_keras._runtime.files import WriteError
from bit_keras.training import checkpoints, pretrain
from bit_test_utils import REPO, tiny_pretrain_config

STEPS = 6  # tiny_pretrain_config's
NO_SPACE = "(No space left on device)"


class Disk:
    """A small filesystem of its own, filled and freed on demand."""

    def __init__(self, root):
        self.root = root
        self.filler = root / ".filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for chunk in (1 << 20, 4096):
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError:
                    pass
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()

    def full(self) -> bool:
        return self.filler.exists()


@pytest.fixture
def disk(tmp_path):
    root = tmp_path / "disk"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600m", "tmpfs", str(root)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs needs root (CI runs as root): {mounted.stderr.strip()}")
    try:
        yield Disk(root)
    finally:
        subprocess.run(["umount", "--lazy", str(root)], check=True)


def _config(logdir, **overrides):
    return tiny_pretrain_config(logdir, checkpoint_every=2, log_every=1, **overrides)


def _filling_before(disk, write, when):
    """`write`, after filling the disk where `when(*its arguments)` holds (once)."""

    def filled_first(*args, **kwargs):
        if not disk.full() and when(*args, **kwargs):
            disk.fill()
        return write(*args, **kwargs)

    return filled_first


def _weights(logdir) -> dict[str, np.ndarray]:
    reader = tf.train.load_checkpoint(str(logdir / "checkpoints"))
    names = sorted(k for k in reader.get_variable_to_shape_map() if k.startswith("model/"))
    return {k: reader.get_tensor(k) for k in names}


def _leftovers(folder) -> list[str]:
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.name.startswith((".tmp-", ".old-")) or "_temp" in path.name
    )


def test_a_full_disk_stops_a_run_at_each_file_it_writes_and_it_goes_on_after(
    disk, tmp_path, monkeypatch
):
    logdir, lines = disk.root / "run", []
    config = _config(logdir, report=True)
    ckpt = logdir / "checkpoints"
    # The lock, from the program: one line, and no lock left to block the next start.
    disk.fill()
    program = [
        sys.executable,
        str(REPO / "tools" / "pretrain.py"),
        f"--logdir={logdir}",
        "--model=R14x1",
        "--dataset=digits",
    ]
    result = subprocess.run(program, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"bit-pretrain: error: Could not write {logdir / 'run.lock'} {NO_SPACE}."
    ]
    assert not logdir.exists()
    disk.free()

    # A checkpoint: the one before is kept, nothing of the new one.
    with monkeypatch.context() as patch:
        save = _filling_before(disk, checkpoints.Checkpoints.save, lambda _, step: step == 4)
        patch.setattr(checkpoints.Checkpoints, "save", save)
        with pytest.raises(WriteError) as error:
            pretrain(config, out=lines.append)
    assert str(error.value) == (
        f"Could not write {ckpt / 'ckpt-4'} {NO_SPACE}; the checkpoints before it are kept "
        f"({ckpt / 'ckpt-2'}). Free space there, then run the same command again to resume "
        "from the newest."
    )
    assert sorted(os.listdir(ckpt)) == [
        "checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index"
    ]  # fmt: skip
    assert checkpoints.damage(str(ckpt / "ckpt-2")) is None
    events = sorted(logdir.glob("events.out.tfevents.*"))
    assert len(events) == 1 and events[0].stat().st_size > 0  # flushed with ckpt-2
    disk.free()

    # TensorBoard's events file, created by the next start.
    with monkeypatch.context() as patch:
        create = _filling_before(disk, tf.summary.create_file_writer, lambda *_: True)
        patch.setattr(tf.summary, "create_file_writer", create)
        with pytest.raises(WriteError) as error:
            pretrain(config, out=lines.append)
    assert str(error.value).startswith(f"Could not write {logdir / 'events.out.tfevents.'}")
    assert str(error.value).endswith(
        f"{NO_SPACE}; the last checkpoint is {ckpt / 'ckpt-2'}. Free space there, then run the "
        "same command again to resume."
    )
    disk.free()

    # model.keras, once training is over; then model.npz.
    for name, target in (
        ("model.keras", "bit_keras.training.loop.save_atomically"),
        ("model.npz", "bit_keras.checkpoint.npz_file.save_atomically"),
    ):
        with monkeypatch.context() as patch:
            named = lambda path, _, name=name: str(path).endswith(name)  # noqa: E731
            patch.setattr(target, _filling_before(disk, atomic_write.save_atomically, named))
            with pytest.raises(WriteError) as error:
                pretrain(config, out=lines.append)
        assert str(error.value) == (
            f"Could not write {logdir / name} {NO_SPACE}; the last checkpoint is "
            f"{ckpt / f'ckpt-{STEPS}'}. Free space there, then run the same command again to "
            "resume."
        )
        assert not (logdir / name).exists() and not _leftovers(logdir)
        disk.free()
    assert (logdir / "model.keras").exists()  # written before model.npz failed

    # The report: the run is complete without it (a warning); the next start writes it.
    with monkeypatch.context() as patch:
        write = _filling_before(disk, atomic_write.save_directory_atomically, lambda *_, **__: True)
        patch.setattr("bit_keras.training.report.save_directory_atomically", write)
        lines.clear()
        pretrain(config, out=lines.append)
    (warning,) = [line for line in lines if line.startswith("WARNING")]
    assert f"Could not write {logdir / 'report'} {NO_SPACE}" in warning, warning
    assert not (logdir / "report.html").exists() and not _leftovers(logdir)
    disk.free()
    lines.clear()
    pretrain(config, out=lines.append)
    assert f"Resumed from {ckpt / f'ckpt-{STEPS}'} at step {STEPS}." in lines
    assert (logdir / "report.html").exists() and (logdir / "model.npz").exists()

    # Every stop on the way, and the weights are those of a run with room to spare.
    whole = tmp_path / "whole"
    pretrain(_config(whole), out=lambda line: None)
    resumed, reference = _weights(logdir), _weights(whole)
    assert resumed.keys() == reference.keys()
    for key, value in resumed.items():
        np.testing.assert_array_equal(value, reference[key], err_msg=key)


def test_a_full_disk_stops_embedding_after_its_last_shard_and_it_goes_on_after(disk, tmp_path):
    import keras

    import bit_keras
    from bit_keras import data
    from bit_keras.features import Embedder, EmbeddingJob, read_embeddings, write_embeddings
    from bit_keras.features.embedding_shards import parts_folder

    keras.utils.set_random_seed(3)
    embedder = Embedder(bit_keras.create_model("R14x1", weights=None, classes=10))
    digits = data.digits_source()
    job = EmbeddingJob(
        model="R14x1", dataset="digits", resolution=16, batch_size=96, shard_size=400
    )
    whole = write_embeddings(str(tmp_path / "whole.npz"), job, embedder, digits, out=print)

    output = str(disk.root / "embeddings.npz")
    parts = parts_folder(output)

    def fill_after_two(line):
        if line.startswith("Wrote shard 2/"):
            disk.fill()

    with pytest.raises(WriteError) as error:
        write_embeddings(output, job, embedder, digits, out=fill_after_two)
    assert str(error.value) == (
        f"Could not write {parts}/shard-00002-of-00005.npz {NO_SPACE}; 2 of 5 shard(s) (800 "
        f"images) are kept in {parts}. Free space there, then run the same command again to "
        "resume."
    )
    assert sorted(os.listdir(parts)) == [
        "job.json", "shard-00000-of-00005.npz", "shard-00001-of-00005.npz"
    ]  # fmt: skip
    disk.free()
    lines = []
    write_embeddings(output, job, embedder, digits, out=lines.append)
    assert lines[0] == f"Resuming: 2 of 5 shard(s) (800 images) in {parts} are kept."
    resumed = read_embeddings(output)
    np.testing.assert_array_equal(resumed.embeddings, whole.embeddings)
    np.testing.assert_array_equal(resumed.labels, whole.labels)
