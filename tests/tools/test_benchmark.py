"""tools/benchmark.py as a program: the table, the JSON, and bad flags."""

import json
import os

from bit_test_utils import run_python

SMALL = [
    "tools/benchmark.py",
    "--model=R14x1",
    "--classes=10",
    "--batch_size=2",
    "--resolution=32",
    "--latency_resolution=32",
    "--train_batch_size=2",
    "--train_resolution=32",
    "--repeats=2",
    "--warmup=1",
]


def test_prints_the_table_and_writes_json(tmp_path):
    output = tmp_path / "bench.json"
    result = run_python(
        [*SMALL, "--figures=inference,tflite", "--tflite_modes=float32", f"--output={output}"]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "inference, batch 2 at 32 px, kernels cached (images/s)" in result.stdout
    assert "TFLite float32, batch 1 at 32 px" in result.stdout
    record = json.loads(output.read_text())
    assert [f["name"] for f in record["figures"]] == ["inference", "tflite_float32"]
    assert record["config"]["batch_size"] == 2 and record["conv_gmacs"]["baseline"] > 0
    assert os.listdir(tmp_path) == ["bench.json"]  # written through a temporary file


def test_profile_prints_time_by_op_type():
    result = run_python([*SMALL, "--figures=latency", "--profile", "--nocache_kernels"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "batch-1 latency, 32 px (ms)" in result.stdout
    assert "r14x1, batch 2 at 32 px:" in result.stdout and "ms of op time per call" in result.stdout
    assert "Conv2D" in result.stdout


def test_bad_flags_fail_in_one_line(tmp_path):
    output = tmp_path / "bench.json"
    result = run_python([*SMALL, "--figures=speed", f"--output={output}"])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("benchmark: error: `figures`")
    result = run_python([*SMALL, "--resolution=16"])
    assert result.returncode != 0 and "--resolution" in result.stderr
    assert not output.exists()


def test_needs_the_tensorflow_backend(tmp_path):
    # A process of its own (`env`): Keras reads its backend once, at import.
    env_result = run_python(
        ["tools/benchmark.py", "--figures=latency"], env={"KERAS_BACKEND": "jax"}
    )
    assert env_result.returncode == 1
    assert "needs KERAS_BACKEND=tensorflow" in env_result.stderr
