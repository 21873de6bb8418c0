"""The model core's tests run under the Keras backend asked for (README "Backends").

The README's test command runs the `all_backends` tests (tests/conftest.py) a second time
with `KERAS_BACKEND=jax`; this holds that the second run really is on JAX.
"""

import os
import subprocess
import sys

import keras
import numpy as np

import bit_keras
from bit_test_utils import PARITY_ATOL


def test_keras_runs_on_the_backend_asked_for():
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", "tensorflow")


def test_a_model_returns_that_backends_tensors():
    model = bit_keras.create_model("R14x1", weights=None, classes=3, input_shape=(32, 32, 3))
    y = model(keras.ops.convert_to_tensor(np.zeros((1, 32, 32, 3), "float32")))
    package = {"tensorflow": "tensorflow", "jax": "jax"}[keras.backend.backend()]
    assert type(y).__module__.startswith(package), type(y)  # jax: jaxlib's ArrayImpl


SAVE_UNDER_OTHER_BACKEND = """
import sys
import keras
import numpy as np
import bit_keras

keras.utils.set_random_seed(0)
model = bit_keras.create_model("R14x1", weights=None, classes=3, input_shape=(32, 32, 3))
head = model.get_layer("head")
head.kernel.assign(np.random.default_rng(0).normal(0, 0.1, head.kernel.shape))
x = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
model.save(sys.argv[1] + "/model.keras")
np.save(sys.argv[1] + "/logits.npy", model.predict(x, verbose=0))
np.save(sys.argv[1] + "/x.npy", x)
np.savez(sys.argv[1] + "/weights.npz", *model.get_weights())
"""


def test_a_keras_file_written_under_the_other_backend_loads(tmp_path):
    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    result = subprocess.run(
        [sys.executable, "-c", SAVE_UNDER_OTHER_BACKEND, str(tmp_path)],
        env={**os.environ, "KERAS_BACKEND": other, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    import bit_keras.layers  # noqa: F401  (registers the layers with Keras)

    model = keras.saving.load_model(tmp_path / "model.keras")
    logits = model.predict(np.load(tmp_path / "x.npy"), verbose=0)
    expected = np.load(tmp_path / "logits.npy")
    with np.load(tmp_path / "weights.npz") as saved:
        weights = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    for loaded, written in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(loaded, written)
    assert np.ptp(expected) > 0.01
    # The same weights; the two backends' kernels differ in the order of float additions
    # (up to 2e-5 on these random weights): held to the parity bar with the official code.
    np.testing.assert_allclose(logits, expected, atol=PARITY_ATOL, rtol=0)
