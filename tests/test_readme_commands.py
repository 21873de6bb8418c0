"""The README's offline commands run as written; CI runs exactly its test command."""

import os
import shlex
import subprocess
import sys

import pytest

from bit_test_utils import REPO, readme_bash_lines

README = (REPO / "README.md").read_text()
BASH_LINES = readme_bash_lines()
# Programs run with the venv's Python need no network; the main job has its own test.
OFFLINE = [
    line
    for line in BASH_LINES
    if line.startswith(".venv/bin/python tools/") and "tools/train.py" not in line
]


def test_ci_runs_the_readme_test_command():
    (command,) = [line for line in BASH_LINES if line.endswith("-m pytest")]
    assert "lint-imports" in command
    assert command in (REPO / ".ci" / "run").read_text().splitlines()


def test_readme_has_offline_commands():
    programs = {shlex.split(line)[1] for line in OFFLINE}
    assert {"tools/predict.py", "tools/list_models.py"} <= programs


@pytest.mark.parametrize("line", OFFLINE)
def test_offline_command_runs(line):
    args = shlex.split(line)
    result = subprocess.run(
        [sys.executable, *args[1:]],
        cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()
