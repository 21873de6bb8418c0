"""The README's `fit` section, run as written: BiT-HyperRule in Keras' own `fit` learns."""

import os
import re
import time

import keras
import pytest

# Loading the .keras file needs the layers and the optimizer's schedule registered.
import bit_keras.layers
import bit_keras.training.lr_schedule  # noqa: F401
from bit_test_utils import readme_python_blocks, run_python

(FIT_BLOCK,) = [block for block in readme_python_blocks() if "training.fit_recipe(" in block]


def test_readme_fit_block_learns_the_digits(tmp_path):
    start = time.monotonic()
    result = run_python(["-c", FIT_BLOCK], cwd=tmp_path, timeout=900)
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", result.stdout)[1])
    print(f"README fit block: test accuracy {accuracy:.4f} in {seconds:.0f} s")
    # Chance is 0.10; the main job (bit-train, same rule and settings) ends at 0.975.
    assert accuracy >= 0.95, f"test accuracy {accuracy:.4f} (chance: 0.10)"
    assert result.stdout.count("Epoch ") == 10  # verbose=2: one line per epoch

    model = keras.saving.load_model(tmp_path / "bit_fit" / "model.keras")
    assert int(model.optimizer.iterations) == 300  # the recipe's steps, all taken
    assert float(model.optimizer.learning_rate) == pytest.approx(0.24 * 64 / 512 * 0.1**3)
    assert sorted(os.listdir(tmp_path / "bit_fit" / "logs")) == ["train", "validation"]
    assert not (tmp_path / "bit_fit" / "backup").exists()  # removed when fit completes
