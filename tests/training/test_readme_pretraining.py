"""The README's pre-training example, run as written: pre-train on digits, then fine-tune from
that run's model.keras, which must start from the pre-trained body with a new head."""

import re
import shlex

import numpy as np

import bit_keras.layers  # noqa: F401  (registers the layers for keras.saving.load_model)
from bit_keras.checkpoint import layout, read_npz
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
    pretrained = read_npz(run / "model.npz")

    result = run_python(finetune[1:], timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        f"Weights: the body of {run / 'model.keras'}; a new zero-initialised 10-class head"
        in result.stdout
    )
    match = re.search(r"Test accuracy (\d\.\d+) on 359 examples", result.stdout)
    print(f"README fine-tuning from it: {match[0]}")
    assert float(match[1]) >= 0.8
    # The fine-tuned body moved from the pre-trained one, but by a fine-tuning's step, not
    # as far as a new initialisation would be.
    import keras

    tuned = layout.official_arrays(
        keras.saving.load_model(tmp_path / "bit_digits_transfer" / "model.keras")
    )
    root = layout.ROOT_KERNEL
    moved = np.abs(tuned[root] - pretrained[root]).mean() / np.abs(pretrained[root]).mean()
    assert 0 < moved < 0.5, moved
