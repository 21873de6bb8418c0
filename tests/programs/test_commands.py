"""Every program is a console command of the installed package, a thin module of
bit_keras.programs, and runnable from a clone by a thin script; `--help` shows its examples."""

import ast
import os
import pathlib
import subprocess
import sys

import pytest
import tomllib

from bit_test_utils import REPO

SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
# What bit_keras.programs holds besides the programs.
SHARED = {"__init__", "runner", "shared_flags", "recipe_program"}


def test_every_program_module_is_a_command_and_a_script_of_the_clone():
    modules = {p.stem for p in (REPO / "bit_keras" / "programs").glob("*.py")} - SHARED
    assert sorted(SCRIPTS.values()) == sorted(f"bit_keras.programs.{m}:main" for m in modules)
    for command, target in SCRIPTS.items():
        module = target.split(":")[0].rsplit(".", 1)[1]
        assert command == "bit-" + module.replace("_", "-"), command
    ran = {}
    for folder in ("tools", "export"):
        for path in (REPO / folder).glob("*.py"):
            text = path.read_text()
            imports = [
                node.module
                for node in ast.walk(ast.parse(text))
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bit_keras")
            ]
            if imports == [imports[0]] and imports[0].startswith("bit_keras.programs."):
                ran[imports[0].rsplit(".", 1)[1]] = str(path.relative_to(REPO))
                assert len(text.splitlines()) <= 8, path  # thin: the docstring and one call
    assert set(ran) == modules, set(modules) - set(ran)


@pytest.mark.parametrize("command", ["bit-export-tflite", "bit-report"])
def test_an_installed_command_shows_its_programs_examples(command, tmp_path):
    executable = pathlib.Path(sys.executable).with_name(command)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [str(executable), "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert "Traceback" not in result.stderr, result.stderr[-2000:]  # absl's --help exits 1
    module = SCRIPTS[command].split(":")[0]
    doc = (REPO / (module.replace(".", "/") + ".py")).read_text().split('"""', 2)[1]
    assert doc.splitlines()[0].lstrip('r"') in result.stdout
    assert f"    {command} " in result.stdout  # an example, as the command
    if command == "bit-report":  # one positional argument; none is a usage error
        missing = subprocess.run(
            [str(executable)], capture_output=True, text=True, env=env, timeout=120
        )
        assert missing.returncode == 1 and "Pass one argument: a run folder" in missing.stderr
        folder = tmp_path / "not_a_run"
        folder.mkdir()
        wrong = subprocess.run(
            [str(executable), str(folder)], capture_output=True, text=True, env=env, timeout=120
        )
        assert wrong.returncode == 1, wrong.stderr[-2000:]
        assert wrong.stderr.startswith("bit-report: error: ") and "Traceback" not in wrong.stderr
