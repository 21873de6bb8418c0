"""The README's pre-training example, run as written: pre-train on digits, then fine-tune from
that run's model.keras, which says it starts from the pre-trained body with a new head (that
the body is loaded exactly is held by training/test_pretraining.py)."""

import re
import shlex

from bit_keras.checkpoint import layout
from bit_keras.checkpoint.npz_file import read_npz
from bit_test_utils import REPO, readme_bash_lines, run_python

README = (REPO / "README.md").read_text()


def _example() -> list[list[str]]:
    section = README.split("## Pre-training", 1)[1].split("At scale", 1)[0]
    return [shlex.split(line) for line in readme_bash_lines(section) if line]


def test_pretrain_on_digits_then_fine_tune_from_it(tmp_path):
    pretrain, finetune = _example()
    assert pretrain[1] == "tools/pretrain.py" and finetune[1] == "tools/train.py"
    pretrain = [a.replace("/tmp/", f"{tmp_path}/") for a in pretrain]
    finetune = [a.replace("/tmp/", f"{tmp_path}/") for a in finetune]

    result = run_python(pretrain[1:], timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"Test accuracy (\d\.\d+) on 359 examples", result.stdout)
    print(f"README pre-training: {match[0]}")
    assert float(match[1]) >= 0.8  # chance is 0.1; 93% on this machine
    run = tmp_path / "bit_digits_pretrain"
    assert f"Wrote {run / 'model.npz'}" in result.stdout
    assert set(read_npz(run / "model.npz")) >= {layout.ROOT_KERNEL, layout.HEAD_KERNEL}

    result = run_python(finetune[1:], timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        f"Weights: the body of {run / 'model.keras'}; a new zero-initialised 10-class head"
        in result.stdout
    )
    match = re.search(r"Test accuracy (\d\.\d+) on 359 examples", result.stdout)
    print(f"README fine-tuning from it: {match[0]}")
    assert float(match[1]) >= 0.8
