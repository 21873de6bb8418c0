"""The bit-train flags: one per TrainConfig field, with TrainConfig's defaults."""

import dataclasses
import os
import re
import subprocess
import sys
import time

import pytest
from absl import flags

from bit_keras.programs import train
from bit_keras.training import TrainConfig
from bit_test_utils import REPO, run_python


def test_every_field_is_a_flag_with_its_default():
    fields = {field.name: field for field in dataclasses.fields(TrainConfig)}
    assert list(train._FLAGS) == list(fields)  # all passed to the run
    for name, field in fields.items():
        expected = None if field.default is dataclasses.MISSING else field.default
        assert flags.FLAGS[name].default == expected, name
        assert train._FLAGS[name].name == name


def test_logdir_is_required():
    with pytest.raises(TypeError, match="logdir"):
        TrainConfig(model="R14x1")


def _flag_error(program: str, *args: str, backend="tensorflow") -> subprocess.CompletedProcess:
    """Runs a program expected to stop at its flags; prints how long that took."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": backend}
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(REPO / program), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    print(f"{program}: a flag error in {time.monotonic() - start:.2f} s")
    assert result.returncode != 0, result.stdout[-2000:]
    return result


def test_under_jax_bit_train_says_it_needs_tensorflow(tmp_path):
    logdir = tmp_path / "run"
    result = _flag_error(
        "tools/train.py", "--model=R14x1", "--weights=none", f"--logdir={logdir}", backend="jax"
    )
    assert "needs KERAS_BACKEND=tensorflow; the Keras backend here is 'jax'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not logdir.exists()


def test_help_lists_the_programs_own_flags_and_a_flag_error_is_one_line():
    result = run_python([str(REPO / "tools" / "train.py"), "--help"], timeout=120)
    listed = {line.split(":")[0].strip() for line in result.stdout.splitlines()}
    for name in ("--model", "--logdir", "--dataset", "--checkpoint_every", "--[no]jit_compile"):
        assert name in listed, result.stdout[-2000:]
    bad = _flag_error("tools/train.py", "--logdir=/tmp/x", "--batch_size=zero")
    assert "--batch_size" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    "program",
    [
        "tools/train.py",
        "tools/pretrain.py",
        "export/hub.py",
        "export/tflite.py",
        "tools/predict.py",
        "tools/benchmark_recipes.py",
    ],
)
def test_programs_parse_their_flags_before_tensorflow_loads(program):
    # Loading a program's module (its flags and everything it imports at the top) must not
    # load TensorFlow: flag errors come at once, not after TensorFlow's ~7 s start.
    check = (
        f"import sys, runpy; sys.path.insert(0, {str(REPO)!r}); "
        f"runpy.run_path({str(REPO / program)!r}, run_name='not_main'); "
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=True
    )
    assert loaded.stdout.strip() == "[]", (program, loaded.stdout, loaded.stderr[-2000:])
    assert "no_such_flag" in _flag_error(program, "--no_such_flag").stderr


# Every program of the project (tools/*.py, export/*.py).
PROGRAMS = sorted(
    str(path.relative_to(REPO))
    for folder in ("tools", "export")
    for path in (REPO / folder).glob("*.py")
    if 'if __name__ == "__main__":' in path.read_text()
)


@pytest.mark.parametrize("program", PROGRAMS)
def test_help_shows_the_examples_as_written(program):
    # A "\" that ends a line of an example stays there (a plain docstring would join the
    # lines into one with runs of spaces).
    # as written in the file of the program the script runs (a thin script names it)
    script = (REPO / program).read_text()
    runs = re.search(r"from bit_keras\.programs\.(\w+) import main", script)
    source = REPO / "bit_keras" / "programs" / f"{runs[1]}.py" if runs else REPO / program
    docstring = source.read_text().split('"""', 2)[1]
    continued = [line for line in docstring.splitlines() if line.endswith(" \\")]
    result = run_python([str(REPO / program), "--help"], timeout=120)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    for line in docstring.splitlines()[:3]:
        assert line in result.stdout
    for line in continued:
        assert line in result.stdout, line
