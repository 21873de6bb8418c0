"""tools/benchmark_recipes.py: bit-pretrain's and bit-distill's step against bit-train's."""

import re

from bit_test_utils import run_python


def test_prints_both_recipes_step_and_pipeline_figures():
    result = run_python(
        [
            "tools/benchmark_recipes.py",
            "--model=R14x1",
            "--batch_size=2",
            "--resolution=32",
            "--source_resolution=40",
            "--repeats=2",
            "--warmup=1",
            "--pipeline_batches=2",
            "--trainable=all,block3,head",
            "--teacher=R26x1",
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    step = re.search(
        r"Per step: bit-train ([\d.]+) ms, bit-pretrain ([\d.]+) ms: ([\d.]+)x", result.stdout
    )
    assert step and float(step[1]) > 0 and float(step[2]) > 0, result.stdout
    assert abs(float(step[3]) - float(step[2]) / float(step[1])) < 0.01
    assert re.search(r"bit-pretrain \d+ images/s \(Inception crop\): [\d.]+x", result.stdout)
    trainable = re.search(
        r"Per step: all ([\d.]+) ms \(1.00x all's speed\), block3 ([\d.]+) ms \(([\d.]+)x "
        r"all's speed\), head ([\d.]+) ms",
        result.stdout,
    )
    assert trainable, result.stdout
    assert abs(float(trainable[3]) - float(trainable[1]) / float(trainable[2])) < 0.01
    assert "bit-distill's step (R14x1 student, R26x1 teacher)" in result.stdout
    distill = re.search(
        r"Per step: bit-train ([\d.]+) ms, bit-distill ([\d.]+) ms: ([\d.]+)x", result.stdout
    )
    assert distill and float(distill[2]) > 0, result.stdout
    assert abs(float(distill[3]) - float(distill[2]) / float(distill[1])) < 0.01


def test_bad_flags_are_one_line():
    result = run_python(["tools/benchmark_recipes.py", "--resolution=64", "--source_resolution=32"])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "benchmark_recipes: error: `source_resolution` must be at least `resolution`."
    )


def test_a_teacher_that_is_no_architecture_is_named():
    result = run_python(["tools/benchmark_recipes.py", "--teacher=BiT-M-R7x1"])
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("benchmark_recipes: error: ") and "'BiT-M-R7x1'" in last
