"""The benchmark library: what it counts and times, its record and table, its errors."""

import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import bit_keras
from bit_keras.benchmark import compare
from bit_keras.benchmark.op_profile import format_op_profile, op_profile
from bit_keras.layers import std_conv_layers

TINY = dict(
    model="R14x1",
    classes=10,
    batch_size=2,
    resolution=32,
    latency_resolution=32,
    train_batch_size=2,
    train_resolution=32,
    repeats=2,
    warmup=1,
)


@pytest.fixture
def small_baseline(monkeypatch):
    """A small stand-in for ResNet50V2, for the tests of what the benchmark does with its two
    models (ResNet50V2 itself: test_baseline_is_resnet50v2_on_any_size and the full run of
    test_run_times_every_figure_and_reports_ratios); converting it to int8 TFLite alone
    takes half a minute here."""

    def baseline_model(classes):
        inputs = keras.Input((None, None, 3))
        # 5 MMACs at 32 px: enough for the table's GMACs, given to three decimals.
        x = keras.layers.Conv2D(128, 7, strides=2, padding="same", activation="relu")(inputs)
        x = keras.layers.GlobalAveragePooling2D()(x)
        outputs = keras.layers.Dense(classes, activation="softmax")(x)
        return keras.Model(inputs, outputs, name="small_baseline")

    monkeypatch.setattr(compare, "baseline_model", baseline_model)


def test_conv_macs_counts_convolutions_and_dense_layers():
    inputs = keras.Input((10, 10, 3))
    x = keras.layers.Conv2D(8, 3, use_bias=False)(inputs)  # 8x8 outputs, 3*3*3 per output
    x = keras.layers.Conv2D(4, 1, strides=2, use_bias=False)(x)  # 4x4 outputs, 8 inputs
    x = keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, x)
    assert compare.conv_macs(model, 10) == 8 * 8 * 3 * 3 * 3 * 8 + 4 * 4 * 8 * 4 + 4 * 5


def test_conv_macs_sees_the_units_inside_bit():
    model = bit_keras.create_model("R14x1", weights=None, classes=10)
    # Root conv at 32 px: 16x16 outputs of a 7x7x3 kernel, 64 filters; the rest is the units.
    root = 16 * 16 * 7 * 7 * 3 * 64
    assert compare.conv_macs(model, 32) > root + 2048 * 10


@pytest.mark.slow
def test_bit_r50x1_has_more_convolution_work_than_resnet50v2():
    # The stride sits on the first unit's 3x3 conv in BiT and on the last unit's in
    # ResNet50V2: 4.09 against 3.48 GMACs at 224 px, a 17% head start for the yardstick.
    bit = compare.conv_macs(bit_keras.create_model("R50x1", weights=None), 224)
    baseline = compare.conv_macs(compare.baseline_model(1000), 224)
    assert bit == pytest.approx(4.089e9, rel=1e-3)
    assert baseline == pytest.approx(3.482e9, rel=1e-3)


def test_baseline_is_resnet50v2_on_any_size():
    model = compare.baseline_model(7)
    reference = keras.applications.ResNet50V2(weights=None, classes=7)
    assert model.count_params() == reference.count_params()
    for size in (32, 45):
        out = model(np.zeros((1, size, size, 3), "float32"))
        assert out.shape == (1, 7)
        np.testing.assert_allclose(np.sum(out), 1.0, rtol=1e-5)  # softmax, as the original


def test_run_times_every_figure_and_reports_ratios():
    lines = []
    record = compare.run(compare.BenchmarkConfig(**TINY, tflite_modes=("float32",)), lines.append)
    names = [f["name"] for f in record["figures"]]
    assert names == ["inference", "latency", "tflite_float32", "train"]  # TFLite: untrained weights
    for figure in record["figures"]:
        assert figure["bit"] > 0 and figure["baseline"] > 0 and math.isfinite(figure["ratio"])
        assert figure["ratio"] == pytest.approx(figure["bit"] / figure["baseline"])
        # The targets are set for R50x1 against ResNet50V2: an R14x1's ratios are not judged.
        assert figure["met"] is None and figure["target"] == ""
    assert record["models"] == {"bit": "r14x1", "baseline": "ResNet50V2"}
    # Kept unrounded (a model under half a million MACs would round to 0.000 and the table's
    # ratio divide by it); the table shows three decimals.
    assert record["conv_gmacs"]["bit"] != round(record["conv_gmacs"]["bit"], 3)
    assert record["machine"]["tensorflow"] == tf.__version__
    # Progress: every repeat of every timed figure, with an ETA.
    assert sum("repeat" in line and "ETA" in line for line in lines) == 3 * TINY["repeats"]
    table = compare.format_table(record)
    assert "batch-1 latency, 32 px, kernels cached (ms)" in table and "TFLite float32" in table
    assert len(re.findall(r" \d+\.\d\dx", table)) >= 5  # a ratio on every figure (and GMACs)
    assert "met" not in table
    assert "(The targets are set for R50x1 against ResNet50V2: not judged for r14x1.)" in table
    # For R50x1 they are judged (the record of one, as the benchmark writes it).
    judged = {
        **record,
        "targets_judged": True,
        "figures": [
            compare._figure_record(compare.Figure("latency", "latency", "ms", 1.0, 1.0), True)
        ],
    }
    assert compare.format_table(judged).splitlines()[-1].endswith("<= 1.15x met")


def test_inference_figures_cache_the_kernels_unless_told_not_to(small_baseline):
    models = {"bit": bit_keras.create_model("R14x1", weights=None, classes=10)}
    for cache_kernels in (True, False):
        config = compare.BenchmarkConfig(**TINY, cache_kernels=cache_kernels)
        with compare._inference_weights(models, config):
            held = [c._cached_kernel is not None for c in std_conv_layers(models["bit"])]
        assert len(held) == 17 and all(h == cache_kernels for h in held)
    config = compare.BenchmarkConfig(**TINY, figures=("latency",), cache_kernels=False)
    record = compare.run(config, lambda line: None)
    assert record["figures"][0]["label"] == "batch-1 latency, 32 px (ms)"


def test_int8_speedup_is_bits_float32_over_int8(small_baseline):
    config = compare.BenchmarkConfig(**TINY, figures=("tflite",), tflite_modes=("float32", "int8"))
    record = compare.run(config, lambda line: None)
    by_name = {f["name"]: f for f in record["figures"]}
    expected = by_name["tflite_float32"]["bit"] / by_name["tflite_int8"]["bit"]
    assert record["int8_speedup"] == pytest.approx(expected)
    assert "speed-up over its float32" in compare.format_table(record)


def test_mixed_precision_is_restored(small_baseline):
    before = keras.mixed_precision.global_policy().name
    compare.run(
        compare.BenchmarkConfig(**TINY, figures=("latency",), mixed_precision="mixed_bfloat16"),
        lambda line: None,
    )
    assert keras.mixed_precision.global_policy().name == before


@pytest.mark.parametrize(
    "changes,message",
    [
        (dict(figures=("speed",)), "figures"),
        (dict(figures=()), "figures"),
        (dict(tflite_modes=("int4",)), "tflite_modes"),
        (dict(resolution=16), "32 px or more"),
        (dict(repeats=0), "repeats"),
        (dict(warmup=-1), "warmup"),
        (dict(mixed_precision="float16"), "mixed_precision"),
    ],
)
def test_bad_settings_name_the_problem(changes, message):
    with pytest.raises(ValueError, match=message):
        compare.BenchmarkConfig(**{**TINY, **changes})


def test_profile_times_the_models_as_run_under_their_policy(small_baseline):
    config = compare.BenchmarkConfig(
        **TINY, figures=("latency",), profile=True, mixed_precision="mixed_bfloat16"
    )
    profile = compare.run(config, lambda _: None)["profile"]
    assert set(profile) == {"r14x1", "small_baseline"}
    for ops in profile.values():
        assert any("Conv2D" in op for op in ops)
        assert any(op.endswith("Cast") for op in ops)  # bfloat16 models, not float32 rebuilds
    assert keras.mixed_precision.global_policy().name == "float32"


def test_op_profile_reads_the_profilers_op_types():
    a = tf.random.normal((256, 256), seed=0)
    matmul = tf.function(lambda: tf.matmul(a, a) + 1.0)
    matmul()
    profile = op_profile(lambda: matmul().numpy(), calls=2)
    (matmul_type,) = [op for op in profile if "MatMul" in op]
    assert profile[matmul_type][0] > 0 and profile[matmul_type][1] == 1
    assert format_op_profile("m", profile).startswith("m: ")
