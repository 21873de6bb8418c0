"""The public namespaces load lazily: nothing heavy until a name is used, every name there."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["bit_keras", "bit_keras.training", "bit_keras.export"])
def test_every_public_name_resolves(package):
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
        assert name in dir(module)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


def test_importing_the_packages_loads_no_tensorflow_and_layers_register_for_keras(tmp_path):
    check = (
        "import sys, bit_keras, bit_keras.training, bit_keras.export; "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]
    # What the README says: `import bit_keras.layers` lets Keras load a .keras file.
    import bit_keras

    path = tmp_path / "r14.keras"
    bit_keras.create_model("R14x1", weights=None, classes=3, input_shape=(32, 32, 3)).save(path)
    load = (
        f"import keras, bit_keras.layers; m = keras.saving.load_model({str(path)!r}); "
        "print(m.count_params())"
    )
    out = subprocess.run([sys.executable, "-c", load], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
