"""bit-pretrain's recipe end to end at toy sizes, its outputs, and transfer from its models."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import bit_keras
from bit_keras.checkpoint import layout
from bit_keras.checkpoint.layout import HEAD_BIAS, HEAD_KERNEL
from bit_keras.checkpoint.npz_file import read_npz
from bit_keras.training import TrainConfig, finetuning, pretrain, pretraining
from bit_test_utils import tiny_pretrain_config


def _config(logdir, **overrides):
    return tiny_pretrain_config(logdir, **overrides)


@pytest.fixture(scope="module")
def pretrained_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("pretrain")
    lines = []
    metrics = pretrain(_config(logdir, eval_every=3), out=lines.append)
    return logdir, metrics, lines


def test_a_pretraining_run_writes_its_model_its_npz_and_its_record(pretrained_run):
    logdir, metrics, lines = pretrained_run
    text = "\n".join(lines)
    assert "Pre-training R14x1 (weights: none) on digits" in text
    assert "Inception crops at 8, evaluation at 9 then centre 8" in text
    assert "6 steps (warm-up 1, x0.1 after [2, 4, 5]); lr 0.0125 at batch 8" in text
    assert "weight decay 0.0001; gradient norm clipped at 1.0" in text
    assert "step 6/6 (100%)" in text and "img/s" in text and "ETA" in text
    assert "step 3: test accuracy" in text
    assert f"Wrote {logdir / 'model.npz'}" in text
    assert {"model.keras", "model.npz", "config.json", "checkpoints"} <= set(os.listdir(logdir))
    record = json.loads((logdir / "config.json").read_text())
    assert record["recipe"] == "Pre-training"
    assert record["outputs"] == ["model.keras", "model.npz"]
    assert record["resolved"]["crop"] == 8 and record["resolved"]["warmup_steps"] == 1
    assert record["resolved"]["loss"] == "softmax cross-entropy"
    assert record["config"]["weight_decay"] == 1e-4 and record["config"]["schedule"] == "paper"
    assert record["metrics"]["test_accuracy"] == metrics["test_accuracy"]
    assert record["class_names"] == [str(d) for d in range(10)]


def test_the_npz_is_the_model_in_the_official_layout(pretrained_run, official_arrays):
    logdir, _, _ = pretrained_run
    model = keras.saving.load_model(logdir / "model.keras")
    written = read_npz(logdir / "model.npz")
    assert list(written) == list(official_arrays)  # the published files' keys, in order
    for key, array in official_arrays.items():
        assert written[key].shape == array.shape and written[key].dtype == np.float32
    for key, array in layout.official_arrays(model).items():
        np.testing.assert_array_equal(written[key], array)
    reread = bit_keras.model_from_checkpoint(logdir / "model.npz")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(reread(x), model(x))


def test_fine_tuning_starts_from_the_pretrained_body_with_a_new_head(pretrained_run):
    logdir, _, _ = pretrained_run
    pretrained = read_npz(logdir / "model.npz")
    for weights in ("model.keras", "model.npz"):
        lines = []
        config = TrainConfig(
            model="R14x1",
            weights=str(logdir / weights),
            dataset="digits",
            logdir="unused",
            batch_size=8,
            steps=2,
            resize=10,
            crop=8,
        )
        model = finetuning.recipe(config, out=lines.append).build(0.01).model
        assert lines == [
            f"Weights: the body of {logdir / weights}; a new zero-initialised 10-class head "
            "(the file has a 10-class head, not loaded: BiT transfers with a new head)."
        ]
        arrays = layout.official_arrays(model)
        assert not arrays[HEAD_KERNEL].any() and not arrays[HEAD_BIAS].any()
        for key, array in pretrained.items():
            if key not in (HEAD_KERNEL, HEAD_BIAS):
                np.testing.assert_array_equal(arrays[key], array)  # not re-initialised
    # Another head size: the body is kept, the head is new and zero, and the run says so.
    model = bit_keras.create_model("R14x1", weights=str(logdir / "model.npz"), classes=3)
    arrays = layout.official_arrays(model)
    assert not arrays[HEAD_KERNEL].any() and not arrays[HEAD_BIAS].any()
    for key in pretrained:
        if key not in (HEAD_KERNEL, HEAD_BIAS):
            np.testing.assert_array_equal(arrays[key], pretrained[key])


def test_bit_train_from_the_pretrained_run_says_what_it_loaded(pretrained_run, tmp_path):
    logdir, _, _ = pretrained_run
    lines = []
    metrics = finetuning.train(
        TrainConfig(
            model="R14x1",
            weights=str(logdir / "model.keras"),
            dataset="digits",
            logdir=str(tmp_path),
            batch_size=8,
            steps=2,
            resize=10,
            crop=8,
        ),
        out=lines.append,
    )
    assert lines[0].startswith(f"Weights: the body of {logdir / 'model.keras'}; a new zero")
    assert metrics["step"] == 2


def _multi_label_csv(folder, n=24):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        path = folder / "img" / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tf.io.encode_png(rng.integers(0, 255, (12, 10, 3), np.uint8)).numpy())
        labels = ["sky"] + (["sea"] if i % 2 else []) + (["boat"] if i % 3 == 0 else [])
        rows.append(",".join([f"img/{i}.png", *labels]))
    (folder / "all.csv").write_text("path,labels\n" + "\n".join(rows) + "\n")
    return f"csv:{folder / 'all.csv'}"


def test_multi_label_data_trains_with_sigmoid_loss_a_minus_10_bias_and_precision_at_1(tmp_path):
    dataset = _multi_label_csv(tmp_path)
    config = _config(tmp_path / "run", dataset=dataset, steps=2)
    lines = []
    recipe = pretraining.recipe(config, out=lines.append)
    assert "3 classes (sigmoid cross-entropy, head bias -10)" in recipe.settings
    model = recipe.build(0.01).model
    np.testing.assert_array_equal(model.get_layer("head").bias.numpy(), [-10.0] * 3)
    assert "The new head's bias starts at -10." in lines
    metrics = pretrain(config, out=lines.append)
    # Every image is labelled "sky": precision@1 is the share of images whose top class is sky.
    assert 0.0 <= metrics["test_precision_at_1"] <= 1.0
    assert any(line.startswith("Test precision@1 ") for line in lines)
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["resolved"]["multi_label"] and record["class_names"] == ["boat", "sea", "sky"]


def test_a_published_weights_pretraining_keeps_a_loaded_heads_bias(pretrained_run, tmp_path):
    # Going on from a run's own weights with the same classes loads its head as it is.
    logdir, _, _ = pretrained_run
    lines = []
    config = _config(tmp_path, weights=str(logdir / "model.npz"))
    model = pretraining.recipe(config, out=lines.append).build(0.01).model
    np.testing.assert_array_equal(
        model.get_layer("head").bias.numpy(), read_npz(logdir / "model.npz")[HEAD_BIAS]
    )


def test_batch_split_counts_weight_decay_once_and_matches_the_whole_batch(tmp_path):
    # The L2 term and the clipping are per step: two accumulated halves equal one batch.
    runs = [
        pretrain(
            _config(tmp_path / str(split), steps=3, batch_split=split, weight_decay=0.5),
            out=lambda _: None,
            return_model=True,
        )[1]
        for split in (1, 2)
    ]
    for a, b in zip(runs[0].get_weights(), runs[1].get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_under_xla_keeps_weight_standardization_in_float32(tmp_path, policy):
    metrics, model = pretrain(
        _config(tmp_path, steps=2, mixed_precision=policy, jit_compile=True),
        out=lambda _: None,
        return_model=True,
    )
    assert np.isfinite(metrics["train_loss"])
    conv = model.get_layer("block2_unit01").b_conv
    assert conv.compute_dtype == policy.removeprefix("mixed_") and conv.kernel.dtype == "float32"
    assert all(a.dtype == np.float32 for a in read_npz(tmp_path / "model.npz").values())
    assert keras.mixed_precision.global_policy().name == "float32"


def test_a_tfds_file_cut_short_stops_training_in_one_line(tmp_path):
    import sharded_tfds

    from bit_keras.training.interrupts import DamagedFileError

    data_dir = sharded_tfds.prepare(str(tmp_path / "tfds"))
    shards = (tmp_path / "tfds" / sharded_tfds.NAME / "1.0.0").glob("*-train.tfrecord-*")
    shard = sorted(shards)[1]
    shard.write_bytes(shard.read_bytes()[:-100])  # its last record cut short
    config = _config(tmp_path / "run", dataset=sharded_tfds.NAME, data_dir=data_dir, download=False)
    with pytest.raises(DamagedFileError) as error:
        pretrain(config, out=lambda _: None)
    assert str(error.value) == (
        f"Record file {shard} of TFDS dataset {sharded_tfds.NAME!r}, split 'train' is "
        "missing, cut short or damaged: 9 of its 10 records read; training met it in the "
        "batch of step 1 and stopped (no checkpoint to resume from yet). Copy the file again or "
        "prepare the data set again, then run the same command again to resume."
    )
