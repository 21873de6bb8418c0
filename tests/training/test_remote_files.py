"""Data, weights and every output on a filesystem reached through TensorFlow, as on `gs://`:
here TensorFlow's in-memory `ram://` (no network). In-process runs: `ram://` is this
process's memory."""

import dataclasses
import io
import json
import uuid

import keras
import numpy as np
import pytest
import tensorflow as tf

from bit_keras.checkpoint.npz_file import read_npz
from bit_keras.data.image_check import VERDICTS_FILE, kept_verdicts
from bit_keras.training import PretrainConfig, pretrain, train
from bit_test_utils import OFFICIAL_CKPT, tiny_train_config

gfile = tf.io.gfile


def _write(path: str, content: bytes) -> None:
    gfile.makedirs(path.rsplit("/", 1)[0])
    with gfile.GFile(path, "wb") as f:
        f.write(content)


@pytest.fixture(scope="module")
def remote():
    """`ram://...`: an image folder of two classes, a CSV manifest of the same images (paths
    relative to it) and the official-layout fixture weights."""
    root = f"ram://bit_keras_{uuid.uuid4().hex}"
    rng = np.random.default_rng(0)
    rows = ["image,label"]
    for label, base in (("dark", 40), ("light", 200)):
        for i in range(12):
            image = np.clip(base + rng.normal(0, 20, (12, 12, 3)), 0, 255).astype(np.uint8)
            _write(f"{root}/images/{label}/{i}.png", tf.io.encode_png(image).numpy())
            rows.append(f"images/{label}/{i}.png,{label}")
    _write(f"{root}/manifest.csv", ("\n".join(rows) + "\n").encode())
    _write(f"{root}/weights/bit.npz", OFFICIAL_CKPT.read_bytes())
    yield root
    gfile.rmtree(root)


def _names(folder: str) -> set[str]:
    return {name.rstrip("/") for name in gfile.listdir(folder)}


def test_fine_tuning_reads_and_writes_only_there_and_resumes(remote):
    logdir, lines = f"{remote}/runs/finetune", []
    config = tiny_train_config(
        logdir,
        dataset=f"folder:{remote}/images",
        weights=f"{remote}/weights/bit.npz",
        steps=4,
        checkpoint_every=2,
        report=True,
    )
    metrics = train(config, out=lines.append)
    assert metrics["step"] == 4 and metrics["test_examples"] == 4  # 20% of each class
    assert "Weights: " in "\n".join(lines) and "bit.npz" in "\n".join(lines)
    written = _names(logdir)
    expected = {"model.keras", "config.json", "checkpoints", "report.html", "report"}
    assert expected | {"predictions.npz", VERDICTS_FILE} <= written
    assert any(n.startswith("events.out.tfevents.") for n in written)
    assert not [n for n in written if n.startswith(".tmp-")] and "run.lock" not in written
    assert {"confusion.png", "confusion.csv"} <= _names(f"{logdir}/report")
    record = json.loads(gfile.GFile(f"{logdir}/config.json").read())
    assert record["metrics"]["test_accuracy"] == metrics["test_accuracy"]
    images = [f"{remote}/images/{c}/{i}.png" for c in ("dark", "light") for i in range(12)]
    assert kept_verdicts(f"{logdir}/{VERDICTS_FILE}", images) == dict.fromkeys(images, True)
    with gfile.GFile(f"{logdir}/model.keras", "rb") as f:
        local = io.BytesIO(f.read())
    assert local.getvalue()[:2] == b"PK"  # a .keras zip

    lines.clear()
    again = train(dataclasses.replace(config, steps=6), out=lines.append)
    assert f"Resumed from {logdir}/checkpoints/ckpt-4 at step 4." in lines
    assert again["step"] == 6
    model = keras.saving.load_model(f"{logdir}/model.keras")
    assert model.output_shape == (None, 2)


def test_pretraining_on_a_manifest_there_writes_its_npz_there(remote):
    logdir = f"{remote}/runs/pretrain"
    config = PretrainConfig(
        model="R14x1",
        weights="none",
        dataset=f"csv:{remote}/manifest.csv",
        logdir=logdir,
        batch_size=8,
        steps=2,
        crop=8,
        log_every=1,
        report=False,
    )
    pretrain(config, out=lambda _: None)
    assert {"model.npz", "model.keras", "checkpoints"} <= _names(logdir)
    arrays = read_npz(f"{logdir}/model.npz")
    assert any(key.endswith("head/conv2d/kernel") for key in arrays)
    assert "run.lock" not in _names(logdir)  # taken there, and released


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dataset": "folder:ram://bit_keras_nothing/images"}, "does not exist"),
        ({"dataset": "csv:ram://bit_keras_nothing/manifest.csv"}, "does not exist"),
        ({"weights": "ram://bit_keras_nothing/bit.npz"}, "the path of an existing weights file"),
    ],
)
def test_a_path_there_that_does_not_exist_is_one_error(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message) as error:
        train(tiny_train_config(tmp_path / "run", **overrides), out=lambda _: None)
    assert "ram://bit_keras_nothing/" in str(error.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"dataset": "folder:gs://bit-keras-no-such-bucket/images"},
        {"dataset": "csv:gs://bit-keras-no-such-bucket/manifest.csv"},
        {"weights": "gs://bit-keras-no-such-bucket/bit.npz"},
        {"logdir": "gs://bit-keras-no-such-bucket/run"},
    ],
)
def test_a_gs_path_that_cannot_be_had_is_one_error_naming_it(tmp_path, overrides):
    # No network here (nor in CI): Cloud Storage cannot be reached, and a program says so in
    # one line (an OSError); where it can be, the bucket does not exist (a ValueError).
    config = tiny_train_config(overrides.pop("logdir", tmp_path / "run"), **overrides)
    with pytest.raises((OSError, ValueError)) as error:
        train(config, out=lambda _: None)
    message = str(error.value)
    assert "gs://bit-keras-no-such-bucket/" in message and "\n" not in message
    assert "cannot be reached" in message or "does not exist" in message
