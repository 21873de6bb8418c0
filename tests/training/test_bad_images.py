"""Training on a folder with an image that does not decode: stopped before training with its
path (the default check), or met during training under --image_check=header: the run saves
the steps before it and ends naming it, or skips it the same way on every run."""

import json

import numpy as np
import pytest
import tensorflow as tf

from bit_keras import data
from bit_keras.data import pipeline
from bit_keras.data.image_check import VERDICTS_FILE, kept_verdicts
from bit_keras.training import shared, train
from bit_keras.training.interrupts import UndecodableImageError
from bit_test_utils import REPO, run_python, tiny_train_config


def _jpeg(value: int) -> bytes:
    ramp = np.linspace(0, 1, 16 * 16).reshape(16, 16, 1)
    image = np.clip(ramp * 100 + value, 0, 255).astype(np.uint8).repeat(3, axis=-1)
    return tf.io.encode_jpeg(image, quality=95).numpy()


def _folder(root):
    for split, count in (("train", 6), ("test", 2)):
        for c, name in enumerate(("dark", "light")):
            (root / split / name).mkdir(parents=True)
            for i in range(count):
                (root / split / name / f"{i}.jpg").write_bytes(_jpeg(100 * c + 10 * i))
    return root


def _cut_short(path) -> None:
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def _file_at(folder, position: int, seed: int = 0) -> str:
    # The training file the run reads at `position` (one input pipeline).
    examples = data.load_source(f"folder:{folder}", out=lambda _: None).train_examples()
    key = pipeline._key(seed, 0, pipeline._ORDER)
    index = pipeline._shuffled_index(tf.constant(position, tf.int64), key, examples.size)
    return examples.lookup(index)[0].numpy().decode()


def _config(folder, logdir, **overrides):
    return tiny_train_config(logdir, dataset=f"folder:{folder}", resize=12, crop=8, **overrides)


def _weights(logdir):
    reader = tf.train.load_checkpoint(str(logdir / "checkpoints"))
    names = sorted(k for k in reader.get_variable_to_shape_map() if k.startswith("model/"))
    return {k: reader.get_tensor(k) for k in names}


def test_header_check_stops_at_the_file_then_a_skipping_rerun_ends_as_one_run(tmp_path):
    folder = _folder(tmp_path / "images")
    bad = _file_at(folder, 9)  # in the batch of step 2 (batches of 8)
    _cut_short(tmp_path / bad)
    quiet = dict(out=lambda _: None)
    # The reference: one run that skips it from the start.
    skipped = []
    reference = train(
        _config(folder, tmp_path / "ref", image_check="header", skip_bad_images=True),
        out=skipped.append,
    )
    assert [line for line in skipped if line.startswith("Skipped ")] == [
        f"Skipped {bad}: it does not decode (--skip_bad_images); the next image takes its place."
    ]
    assert np.isfinite(reference["train_loss"])

    logdir = tmp_path / "run"
    with pytest.raises(UndecodableImageError) as error:
        train(_config(folder, logdir, image_check="header"), **quiet)
    stop = error.value
    assert (stop.path, stop.step) == (bad, 2)
    assert stop.checkpoint and stop.checkpoint.endswith("ckpt-1")
    assert f"Image {bad} does not decode" in str(stop) and "--skip_bad_images" in str(stop)
    assert tf.train.latest_checkpoint(str(logdir / "checkpoints")) == stop.checkpoint

    lines = []
    train(_config(folder, logdir, image_check="header", skip_bad_images=True), out=lines.append)
    assert f"Resumed from {stop.checkpoint} at step 1." in lines
    ours, theirs = _weights(logdir), _weights(tmp_path / "ref")
    assert ours.keys() == theirs.keys()
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)


def test_the_default_check_keeps_its_verdicts_in_the_logdir(tmp_path):
    folder = _folder(tmp_path / "images")
    bad = folder / "train" / "light" / "4.jpg"
    _cut_short(bad)
    logdir = tmp_path / "run"
    lines = []
    train(_config(folder, logdir, skip_bad_images=True, steps=2), out=lines.append)
    assert any(line.startswith("Checking that 16 images decode") for line in lines)
    assert any(line.startswith("Left out 1 file(s)") and str(bad) in line for line in lines)
    verdicts = kept_verdicts(str(logdir / VERDICTS_FILE), sorted(folder.glob("*/*/*.jpg")))
    assert verdicts[str(bad)] is False and len(verdicts) == 16
    lines.clear()
    train(_config(folder, logdir, skip_bad_images=True, steps=3), out=lines.append)
    assert not any(line.startswith("Checking") for line in lines)  # the resume decodes none


def test_every_worker_checks_every_image_and_keeps_its_own_verdicts(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "images")
    _cut_short(folder / "test" / "dark" / "0.jpg")
    config = _config(folder, tmp_path / "run", skip_bad_images=True)
    cluster = {"worker": ["localhost:1", "localhost:2"]}
    kept = {}
    for index in (1, 0):  # worker 0 is the chief: its verdicts are the logdir's
        task = {"type": "worker", "index": index}
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
        lines = []
        source = shared.load_data(config, lines.append)
        assert source.skipped_files == (str(folder / "test" / "dark" / "0.jpg"),)
        assert lines[0].startswith("Checking that 16 images decode")
        where = tmp_path / "run" / (".workers/worker1/" if index else "") / VERDICTS_FILE
        kept[index] = kept_verdicts(str(where), sorted(folder.glob("*/*/*.jpg")))
    assert kept[0] == kept[1] and len(kept[0]) == 16 and sum(kept[0].values()) == 15


def test_bit_train_stops_before_training_naming_the_file(tmp_path):
    folder = _folder(tmp_path / "images")
    bad = folder / "train" / "dark" / "2.jpg"
    _cut_short(bad)
    result = run_python(
        [
            str(REPO / "tools" / "train.py"),
            "--model=R14x1",
            "--weights=none",
            f"--dataset=folder:{folder}",
            f"--logdir={tmp_path / 'run'}",
            "--batch_size=8",
            "--steps=2",
        ],
        as_user=True,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "JPEG" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("bit-train: error:")]
    assert "has 1 file(s) that are not usable images" in line
    assert f"  {bad}: does not decode (cut short or damaged)" in result.stderr.splitlines()
    assert "Checking that 16 images decode" in result.stdout
    assert "step 1/" not in result.stdout
