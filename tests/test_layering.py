"""The package's layering: import-linter's contract holds, and bites; each part imports alone.

The layers come from the contract in pyproject.toml, the one place they are written.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter's own TOML reader
    import tomli as tomllib

from bit_test_utils import REPO

PACKAGE = REPO / "bit_keras"


def _layers() -> list[list[str]]:
    """The contract's layers, bottom first, each a list of module names under bit_keras."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    layers = [
        [name.strip().strip("()") for name in re.split(r"[|:]", layer)]
        for layer in contract["layers"]
    ]
    return layers[::-1]


def _present(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


LAYERS = _layers()
MODULES = [name for layer in LAYERS for name in layer if _present(name)]
# The private package's modules are imported alone too, each as its own part.
PRIVATE = sorted(
    f"_runtime.{path.stem}"
    for path in (PACKAGE / "_runtime").glob("*.py")
    if path.stem != "__init__"
)


def _lint_imports(cwd, pythonpath) -> subprocess.CompletedProcess:
    lint = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [lint, "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_module_has_a_layer():
    children = {
        path.name.removesuffix(".py")
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and path.name != "__init__.py") or (path / "__init__.py").is_file()
    }
    assert children == set(MODULES)


def test_import_linter_contract_is_kept():
    result = _lint_imports(REPO, REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_import_linter_catches_an_import_from_a_later_layer(tmp_path):
    # The same package with one import upwards, inside a function: the contract must break.
    shutil.copytree(PACKAGE, tmp_path / "bit_keras", ignore=shutil.ignore_patterns("__pycache__"))
    builder = tmp_path / "bit_keras" / "models" / "bit_resnet_v2.py"
    builder.write_text(
        builder.read_text()
        + textwrap.dedent(
            """

            def _published_names():
                from bit_keras.pretrained.catalog import list_models

                return list_models()
            """
        )
    )
    result = _lint_imports(tmp_path, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "bit_keras.models is not allowed to import bit_keras.pretrained" in result.stdout
    assert "bit_keras.models.bit_resnet_v2 -> bit_keras.pretrained" in result.stdout


# One interpreter imports the third-party packages bit_keras uses (TensorFlow, Keras, NumPy,
# absl: no bit_keras module), then forks a child per part; each child imports
# bit_keras.<name> without running bit_keras/__init__.py (which imports every layer in
# order) and prints which bit_keras modules got loaded, or the error. A process per part
# would import TensorFlow about twenty times over.
_ALONE = """
import importlib, json, os, sys, traceback, types
import absl.flags, keras, numpy, tensorflow
assert not any(m.startswith("bit_keras") for m in sys.modules)
for name in {names!r}:
    sys.stdout.flush()
    if os.fork() == 0:
        try:
            root = types.ModuleType("bit_keras")
            root.__path__ = [{package!r}]
            sys.modules["bit_keras"] = root
            importlib.import_module("bit_keras." + name)
            loaded = sorted({{m.split(".")[1] for m in sys.modules if m.startswith("bit_keras.")}})
            print(json.dumps({{"name": name, "loaded": loaded}}))
        except BaseException:
            print(json.dumps({{"name": name, "error": traceback.format_exc()}}))
        sys.stdout.flush()
        os._exit(0)
    os.wait()
"""


@pytest.fixture(scope="module")
def imported_alone() -> dict[str, dict]:
    """Every part imported alone, each in a child forked from one interpreter that has
    imported only third-party packages."""
    names = [*MODULES, *PRIVATE]
    result = subprocess.run(
        [sys.executable, "-c", _ALONE.format(package=str(PACKAGE), names=names)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [answer["name"] for answer in answers] == names, result.stdout[-3000:]
    return {answer["name"]: answer for answer in answers}


@pytest.mark.parametrize("name", [*MODULES, *PRIVATE])
def test_imports_first_and_alone(imported_alone, name):
    answer = imported_alone[name]
    assert "error" not in answer, answer.get("error")
    loaded = set(answer["loaded"])
    part = name.split(".")[0]
    level = next(i for i, layer in enumerate(LAYERS) if part in layer)
    allowed = {m for layer in LAYERS[:level] for m in layer} | {part}
    assert part in loaded
    assert loaded <= allowed, f"bit_keras.{name} loaded later layers: {loaded - allowed}"
