"""The absl programs, run as a user runs them."""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from bit_test_utils import (
    PARITY_ATOL,
    REPO,
    TIMM_IO,
    lay_out_hub_cache,
    run_python,
    timm_fixture_files,
)


def _run(program, *args, env=None):
    return run_python([str(REPO / "tools" / program), *args], env=env)


def test_convert_then_use(official_ckpt, reference_io, tmp_path):
    import bit_keras.layers  # noqa: F401 (registers the layers: load a .keras file after it)

    output = tmp_path / "bit.keras"
    result = _run("convert_checkpoint.py", f"--checkpoint={official_ckpt}", f"--output={output}")
    assert result.returncode == 0, result.stderr
    assert "8,028,746 parameters" in result.stdout
    model = keras.saving.load_model(output)
    np.testing.assert_allclose(
        model.predict(reference_io["x64"], verbose=0), reference_io["x64_logits"], atol=PARITY_ATOL
    )
    again = _run("convert_checkpoint.py", f"--checkpoint={official_ckpt}", f"--output={output}")
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1].startswith("bit-convert-checkpoint: error:")
    assert "exists" in again.stderr


def test_convert_bad_flags(tmp_path):
    result = _run("convert_checkpoint.py", "--checkpoint=BiT-X", f"--output={tmp_path}/x.keras")
    assert result.returncode == 1 and "neither a published BiT model" in result.stderr
    assert os.listdir(tmp_path) == []
    result = _run("convert_checkpoint.py", f"--output={tmp_path}/x.keras")
    assert result.returncode != 0 and "--checkpoint" in result.stderr


def test_predict_prints_top_classes(official_ckpt, tmp_path):
    image = np.zeros((50, 70, 3), np.uint8)
    image[:, :35] = 255
    path = tmp_path / "half.png"
    path.write_bytes(tf.io.encode_png(image).numpy())
    result = _run("predict.py", f"--checkpoint={official_ckpt}", f"--image={path}", "--top=3")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("  ")]
    assert len(lines) == 3 and "class" in lines[0]
    scores = [float(line.split()[1]) for line in lines]
    assert scores == sorted(scores, reverse=True)
    # The printed scores are the model's logits for that image.
    import bit_keras
    from bit_keras.data import image_io

    model = bit_keras.model_from_checkpoint(official_ckpt)
    logits = model.predict(
        bit_keras.preprocess_input(image_io.load_image(path, 224)[None]), verbose=0
    )
    np.testing.assert_allclose(scores, np.sort(logits[0])[::-1][:3], atol=1e-3)


def test_predict_default_synthetic_picture(official_ckpt):
    result = _run("predict.py", f"--checkpoint={official_ckpt}")
    assert result.returncode == 0, result.stderr
    assert "synthetic picture" in result.stdout and "Top 5 of 10 classes" in result.stdout


def test_predict_top_beyond_the_head_says_how_many_it_prints(official_ckpt):
    result = _run("predict.py", f"--checkpoint={official_ckpt}", "--top=20")
    assert result.returncode == 0, result.stderr
    assert "Top 10 of 10 classes (logits):" in result.stdout
    assert len([line for line in result.stdout.splitlines() if line.startswith("  ")]) == 10


def test_predict_bad_image(official_ckpt, tmp_path):
    result = _run("predict.py", f"--checkpoint={official_ckpt}", f"--image={tmp_path}/none.jpg")
    assert result.returncode == 1 and "No image file" in result.stderr


def _train_program(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    program = pathlib.Path(sys.executable).with_name("bit-train")  # the console command
    return subprocess.run(
        [str(program), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset=no_such_dataset_xyz"], "Unknown dataset"),
        (["--model=R13x1", "--weights=none"], "Unknown architecture"),
        (["--batch_size=10", "--batch_split=3"], "divisible"),
        (["--strategy=gpus"], "strategy"),
    ],
)
def test_train_bad_flags_one_line_nothing_written(tmp_path, args, message):
    logdir = tmp_path / "run"
    result = _train_program(f"--logdir={logdir}", "--model=R14x1", "--weights=none", *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not logdir.exists()


def test_predict_defaults_to_the_registry_resolution(official_ckpt, tmp_path):
    result = _run("predict.py", f"--checkpoint={official_ckpt}")
    assert "224x224" in result.stdout  # a file the registry does not know
    # An official file name takes its entry's resolution (the fixture's weights, renamed).
    renamed = tmp_path / "BiT-M-R152x4-ILSVRC2012.npz"
    renamed.write_bytes(official_ckpt.read_bytes())
    result = _run("predict.py", f"--checkpoint={renamed}")
    assert result.returncode == 0, result.stderr
    assert "480x480" in result.stdout
    result = _run("predict.py", f"--checkpoint={renamed}", "--resolution=64")
    assert "64x64" in result.stdout


def test_programs_take_hf_hub_names_offline_from_the_cache(tmp_path):
    # HF_HUB_OFFLINE=1 and a Hugging Face cache holding one repository in timm's layout.
    cache = tmp_path / "hf"
    lay_out_hub_cache(cache, "someone/bit-r14x1", timm_fixture_files())
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)}
    result = _run("predict.py", "--checkpoint=hf-hub:someone/bit-r14x1", env=env)
    assert result.returncode == 0, result.stderr
    assert "Model: bit_r14x1 from " in result.stdout
    assert "64x64" in result.stdout  # timm's config.json: input_size [3, 64, 64]
    output = tmp_path / "bit.npz"
    result = _run(
        "convert_checkpoint.py",
        "--checkpoint=hf-hub:someone/bit-r14x1",
        f"--output={output}",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    import bit_keras

    with np.load(TIMM_IO) as reference:
        np.testing.assert_allclose(
            bit_keras.model_from_checkpoint(output)(reference["x64"]),
            reference["x64_logits"],
            atol=PARITY_ATOL,
        )
    result = _run("predict.py", "--checkpoint=hf-hub:someone/missing", env=env)
    assert result.returncode == 1
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("bit-predict: error:")]
    assert "hf-hub:someone/missing is not in the Hugging Face cache" in line
    assert str(cache) in line and "HF_HUB_OFFLINE is set" in line
    assert "Traceback" not in result.stderr


def test_list_models_prints_the_registry():
    result = _run("list_models.py", "--pattern=BiT-R50x1-distilled-*")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.strip().splitlines()[1:]]
    assert rows == [
        ["BiT-R50x1-distilled-160", "R50x1", "distilled-160", "1,000", "160", "25,549,352"],
        ["BiT-R50x1-distilled-224", "R50x1", "distilled-224", "1,000", "224", "25,549,352"],
    ]
