import os

import numpy as np
import pytest
import tensorflow as tf

from bit_keras.export import ExportCheckError, export_tflite, litert, synthetic_images, tflite
from bit_keras.export.serving import model_outputs

from .conftest import CLASSES, RESOLUTION

_QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def calibration():
    from bit_keras.export import dataset_images

    return dataset_images("digits", "train", 32, RESOLUTION)


@pytest.fixture(scope="module")
def files(tiny_source, calibration):
    return {
        mode: tflite.convert(tiny_source, mode=mode, calibration=calibration)
        for mode in tflite.MODES
    }


@pytest.mark.parametrize("mode", tflite.MODES)
def test_every_mode_runs_in_litert_with_builtin_ops_only(files, mode):
    content = files[mode]
    ops = litert.op_names(content)
    assert not {op.split(":")[0] for op in ops} & set(litert.FORBIDDEN_OPS), ops
    assert "FULLY_CONNECTED" in ops and "CONV_2D" in ops
    assert litert.computed_conv_kernels(content) == []
    runner = litert.interpreter(content)
    assert runner.get_signature_list() == {
        "serving_default": {"inputs": ["images"], "outputs": ["logits"]}
    }
    (detail,) = runner.get_input_details()
    assert list(detail["shape"]) == [1, RESOLUTION, RESOLUTION, 3]


def test_float_modes_match_keras(files, tiny_source):
    images = synthetic_images(8, RESOLUTION).images
    expected = model_outputs(tiny_source.model, tf.constant(images)).numpy()
    assert np.abs(expected).max() > 0.1  # a random head: informative logits
    float32, _ = litert.run(files["float32"], images)
    float16, _ = litert.run(files["float16"], images)
    np.testing.assert_allclose(float32, expected, atol=1e-4)
    np.testing.assert_allclose(float16, expected, atol=1e-2)
    assert np.abs(float16 - expected).max() > 0  # half-precision weights: not the same file


def test_quantized_files_are_quantized(files):
    sizes = {mode: len(content) for mode, content in files.items()}
    assert sizes["float16"] < 0.6 * sizes["float32"]
    assert sizes["dynamic_int8"] < 0.35 * sizes["float32"]
    assert sizes["int8"] < 0.35 * sizes["float32"]
    assert "QUANTIZE" in litert.op_names(files["int8"])


def test_int8_group_norm_has_no_squared_difference(files):
    # LiteRT's int8 SQUARED_DIFFERENCE is ~30x slower than MUL: with it, R50x1's int8 file
    # ran at 77 ms against 11 ms (float32: 48 ms), slower than its own float32 file.
    assert "SQUARED_DIFFERENCE" not in litert.op_names(files["int8"])
    assert "MUL" in litert.op_names(files["int8"])


def test_int8_group_norm_where_a_position_is_alone():
    # A GroupNorm of a 1x1 map with large inputs (BiT's later blocks at 16-32 px): TFLite's
    # int8 converter used to quantize `inv_std * gamma` with the range it had calibrated for
    # `centred * inv_std` there, which zeroed the normalized values (mean error 0.57 here; a
    # distilled R14x1 at 16 px agreed with its float model on 9% of the images).
    import keras

    from bit_keras.export import SampleImages
    from bit_keras.layers import GroupNormalization

    rng = np.random.default_rng(0)
    inputs = keras.Input((1, 1, 3))
    wide = keras.layers.Conv2D(64, 1, use_bias=False)
    norm = GroupNormalization(groups=8, epsilon=1e-5)
    model = keras.Model(inputs, keras.layers.Flatten()(norm(wide(inputs))))
    wide.kernel.assign(rng.normal(0, 100, (1, 1, 3, 64)).astype("float32"))
    norm.gamma.assign(rng.uniform(0.5, 1.5, 64).astype("float32"))
    norm.beta.assign(rng.normal(0, 0.1, 64).astype("float32"))
    images = rng.uniform(0, 1, (128, 1, 1, 3)).astype("float32")
    calibration = SampleImages(images[:64], "uniform noise")
    content = tflite.convert_model(
        model, 1, output_name="out", mode="int8", calibration=calibration
    )
    expected = model_outputs(model, tf.constant(images[64:])).numpy()
    outputs, _ = litert.run(content, images[64:])
    assert expected.std() > 0.5  # normalized values, not zeros
    assert np.abs(outputs - expected).mean() < 0.05 * expected.std()


def test_int8_io(tiny_source, calibration):
    content = tflite.convert(tiny_source, mode="int8", calibration=calibration, io_dtype="int8")
    runner = litert.interpreter(content)
    (inputs,), (outputs,) = runner.get_input_details(), runner.get_output_details()
    assert inputs["dtype"] == np.int8 and outputs["dtype"] == np.int8
    images = calibration.images[:4]
    quantized, _ = litert.run(content, images)
    floats, _ = litert.run(
        tflite.convert(tiny_source, mode="int8", calibration=calibration), images
    )
    # The same network: int8 input quantized outside instead of by the file's QUANTIZE op
    # moves the outputs by a few quantization steps only.
    np.testing.assert_allclose(quantized, floats, atol=0.1 * np.abs(floats).max())


def test_kernels_computed_at_run_time_are_caught():
    # The converter folds arithmetic on constant kernels by itself; a kernel fed in and scaled
    # at run time is what unfolded weight standardization would look like.
    @tf.function(
        input_signature=[
            tf.TensorSpec([1, 8, 8, 3], tf.float32, name="images"),
            tf.TensorSpec([3, 3, 3, 4], tf.float32, name="kernel"),
        ]
    )
    def conv(images, kernel):
        return {"out": tf.nn.conv2d(images, kernel * 2.0, 1, "SAME")}

    module = tf.Module()
    module.conv = conv
    content = tf.lite.TFLiteConverter.from_concrete_functions(
        [conv.get_concrete_function()], module
    ).convert()
    assert len(litert.computed_conv_kernels(content)) == 1


def test_export_writes_the_file_and_labels_after_the_check(tiny_source, tmp_path):
    output = tmp_path / "tiny.tflite"
    report = export_tflite(
        tiny_source, str(output), check_images=synthetic_images(8, RESOLUTION), **_QUIET
    )
    assert report.passed and report.max_abs_diff < 1e-4 and report.top1_agreement == 1.0
    assert output.read_bytes()[4:8] == b"TFL3"
    assert (tmp_path / "tiny.labels.txt").read_text().split() == [
        f"class_{i}" for i in range(CLASSES)
    ]
    assert report.size_bytes == os.path.getsize(output)


def test_a_failed_check_or_interrupt_leaves_nothing(tiny_source, calibration, tmp_path):
    output = tmp_path / "int8.tflite"
    with pytest.raises(ExportCheckError, match=r"top-1 agreement >= 100.1%.*FAILED"):
        export_tflite(
            tiny_source,
            str(output),
            mode="int8",
            calibration=calibration,
            check_images=synthetic_images(4, RESOLUTION),
            min_top1_agreement=1.001,
            **_QUIET,
        )

    def interrupt(message):
        if message.startswith("Checking"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_tflite(
            tiny_source, str(output), check_images=synthetic_images(2, RESOLUTION), log=interrupt
        )
    assert os.listdir(tmp_path) == []


def test_bad_arguments(tiny_source, calibration, tmp_path):
    with pytest.raises(ValueError, match="needs calibration images"):
        tflite.convert(tiny_source, mode="int8")
    with pytest.raises(ValueError, match="io_dtype='int8' needs mode='int8'"):
        tflite.convert(tiny_source, mode="float16", io_dtype="int8")
    with pytest.raises(ValueError, match="`mode` must be one of"):
        tflite.convert(tiny_source, mode="int4")
    (tmp_path / "taken.tflite").write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        export_tflite(
            tiny_source,
            str(tmp_path / "taken.tflite"),
            check_images=synthetic_images(2, RESOLUTION),
            **_QUIET,
        )
    assert (tmp_path / "taken.tflite").read_bytes() == b"mine"


def test_bad_input_to_the_file_is_a_clear_error(files):
    runner = litert.interpreter(files["float32"])
    (detail,) = runner.get_input_details()
    with pytest.raises(ValueError, match="Dimension mismatch"):
        runner.set_tensor(detail["index"], np.zeros((1, RESOLUTION, RESOLUTION, 4), np.float32))
    with pytest.raises(ValueError, match="expected type FLOAT32"):
        runner.set_tensor(detail["index"], np.zeros((1, RESOLUTION, RESOLUTION, 3), np.uint8))
    with pytest.raises(ValueError, match=r"takes images of shape \(1, 32, 32, 3\)"):
        litert.run(files["float32"], np.zeros((1, RESOLUTION, RESOLUTION, 4), np.float32))


@pytest.mark.slow
def test_full_size_r50x1_float32_at_224(tmp_path):
    # The size itself is the point: a 25.5M-parameter file converts, stays builtin-only and
    # matches Keras. Random weights (no download here) and a random head.
    import keras

    import bit_keras
    from bit_keras.export import ModelSource
    from bit_keras.pretrained.model_source import ModelSpec

    keras.utils.set_random_seed(1)
    model = bit_keras.create_model("R50x1", weights=None)
    head = model.get_layer("head")
    head.kernel.assign(np.random.default_rng(1).normal(0, 0.05, head.kernel.shape))
    source = ModelSource(
        ModelSpec("R50x1", "keras", 224, "the test"),
        model,
        tuple(str(i) for i in range(1000)),
        "r50x1",
        "R50x1, random weights.",
    )
    report = export_tflite(
        source, str(tmp_path / "r50x1.tflite"), check_images=synthetic_images(2, 224), **_QUIET
    )
    assert report.passed and report.max_abs_diff <= 1e-3 * report.output_scale
    assert report.size_bytes > 4 * 25_000_000  # float32 weights, all of them
    assert "FULLY_CONNECTED" in report.ops and not set(report.ops) & set(litert.FORBIDDEN_OPS)
