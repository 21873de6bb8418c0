"""The README's main job, run once per test session for every test that uses its model
(tests/test_readme_main_job*.py): its command as written, in a folder the xdist workers share
(`bit_test_utils.session_folder`), with its output kept beside it."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shlex
import time

from bit_test_utils import (
    REPO,
    TENSORFLOW_LOG_LINE,
    readme_bash_lines,
    run_python,
    session_folder,
)

README = (REPO / "README.md").read_text()


@dataclasses.dataclass(frozen=True)
class MainJob:
    """The finished main job: its logdir (shared: copy before changing it) and output."""

    logdir: pathlib.Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def main_job_args() -> list[str]:
    """The README's main job's `tools/train.py` flags, as written."""
    command = readme_bash_lines(README.split("Main job:", 1)[1])[0]
    return shlex.split(command.split("tools/train.py", 1)[1].split("&&")[0])


def tensorflow_lines(result) -> list[str]:
    """The lines of TensorFlow, absl or LiteRT in a program's output."""
    text = result.stdout + result.stderr
    return [line for line in text.splitlines() if TENSORFLOW_LOG_LINE.match(line)]


def on_the_main_job(args: list[str], logdir: pathlib.Path, tmp_path) -> list[str]:
    """A README command's arguments with the main job's folder (`/tmp/bit_digits/`) at
    `logdir`, the session's shared one, and its other `/tmp/` paths (its outputs) in
    `tmp_path`."""
    return [
        a.replace("/tmp/bit_digits/", f"{logdir}/")
        if "/tmp/bit_digits/" in a
        else a.replace("/tmp/", f"{tmp_path}/")
        for a in args
    ]


def readme_command(piece: str, logdir: pathlib.Path, tmp_path) -> list[str]:
    """The README's one bash line holding `piece`, `on_the_main_job`, without the
    interpreter."""
    (line,) = [line for line in readme_bash_lines() if piece in line]
    return on_the_main_job(shlex.split(line), logdir, tmp_path)[1:]


def run_main_job(tmp_path_factory) -> MainJob:
    """The README's main job, run as written (with the user's environment) once per session."""

    def make(folder: pathlib.Path) -> None:
        logdir = folder / "bit_digits"
        args = [a for a in main_job_args() if not a.startswith("--logdir")]
        start = time.monotonic()
        result = run_python(
            ["tools/train.py", *args, f"--logdir={logdir}"], timeout=900, as_user=True
        )
        output = {
            "returncode": result.returncode,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "seconds": time.monotonic() - start,
        }
        (folder / "output.json").write_text(json.dumps(output))

    folder = session_folder(tmp_path_factory, "readme_main_job", make)
    output = json.loads((folder / "output.json").read_text())
    return MainJob(logdir=folder / "bit_digits", **output)
