"""Mistakes in names and paths fail before TensorFlow is imported, with one line: bit-train,
bit-pretrain, the exporters and the tools (bit-report: a folder that holds no run).
`list_models.py` loads no TensorFlow at all.

Python's `-X importtime` lists every module a run imported: TensorFlow and Keras must not be
among them."""

import pytest

from bit_test_utils import OFFICIAL_CKPT, run_python

HEAVY = {"tensorflow", "keras", "jax"}


def _imported(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:")
    }


def _own_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("import time:")]


TRAIN = ["--model=R14x1", "--weights=none"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tools/train.py", *TRAIN, "--dataset=digitz"], "Unknown dataset 'digitz'"),
        (["tools/train.py", "--model=R14x1"], "'R14x1' is an architecture without published"),
        (["tools/train.py", "--model=R14x1", "--weights=/no/such.npz"], "/no/such.npz"),
        (["tools/train.py", *TRAIN, "--dataset=folder:/no/such"], "'/no/such' does not exist"),
        (["tools/train.py", "--model=BiT-M-R50x2"], "Did you mean BiT-M-R50x3"),
        (["tools/pretrain.py", *TRAIN, "--dataset=cifar1O"], "Did you mean cifar10"),
        (["export/tflite.py", "--model=BiT-Q-R50x1"], "Unknown BiT model 'BiT-Q-R50x1'"),
        (["export/hub.py", "--model=/no/such/model.keras"], "does not exist"),
        (
            [
                "export/tflite.py",
                "--model=BiT-M-R50x1",
                "--mode=int8",
                "--representative_dataset=x1",
            ],
            "Unknown dataset 'x1'",
        ),
        (["tools/predict.py", "--checkpoint=BiT-M-R50x2"], "Did you mean BiT-M-R50x3"),
        (["tools/predict.py", "--checkpoint=BiT-M-R50x1", "--image=/no.jpg"], "No image file"),
        (
            ["tools/convert_checkpoint.py", "--checkpoint=/no.npz", "--output=/tmp/x.keras"],
            "/no.npz",
        ),
        (["tools/embed.py", "--model=BiT-M-R50x2", "--dataset=digits"], "Did you mean BiT-M-R50x3"),
        (
            ["tools/embed.py", f"--model={OFFICIAL_CKPT}", "--resolution=16", "--dataset=digitz"],
            "Unknown dataset",
        ),
        (["tools/embed.py", "--model=BiT-M-R50x1", "--dataset=folder:/no"], "'/no' does not exist"),
        (["tools/embed.py", "--model=/no/model.keras", "--dataset=digits"], "does not exist"),
        (["tools/embed.py", "--query=/no.jpg", "--embeddings=/no.npz"], "No image file"),
        (["tools/embed.py", "--query=README.md", "--embeddings=/no.npz"], "No embeddings file"),
        (["tools/report.py", "tests"], "'tests' holds no finished run"),
    ],
)
def test_a_mistake_fails_before_tensorflow_loads(tmp_path, args, message):
    program, *flags = args
    if program.startswith("tools/train") or program.startswith("tools/pretrain"):
        flags.append(f"--logdir={tmp_path / 'run'}")
    elif program == "tools/embed.py" and "--dataset" in str(flags):
        flags.append(f"--output={tmp_path / 'out.npz'}")
    elif program.startswith("export/"):
        flags.append(f"--output={tmp_path / ('out.tflite' if 'tflite' in program else 'out')}")
    result = run_python(["-X", "importtime", program, *flags], as_user=True)
    assert result.returncode == 1, result.stderr[-2000:]
    (line,) = _own_lines(result.stderr)
    assert "error: " in line and message in line, line
    assert not HEAVY & _imported(result.stderr), HEAVY & _imported(result.stderr)
    assert not (tmp_path / "run").exists()


def test_list_models_loads_no_tensorflow():
    result = run_python(["-X", "importtime", "tools/list_models.py", "--pattern=BiT-S-R50x1"])
    assert result.returncode == 0 and _own_lines(result.stderr) == []
    assert result.stdout.splitlines()[1].split()[:2] == ["BiT-S-R50x1", "R50x1"]
    assert not HEAVY & _imported(result.stderr)
