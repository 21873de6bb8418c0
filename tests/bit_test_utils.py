"""Constants and helpers shared by the tests (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pathlib
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

REPO = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures" / "bit_official_layout"
OFFICIAL_CKPT = FIXTURES / "bit_r14x1_head10_official_layout.npz"
REFERENCE_IO = FIXTURES / "bit_r14x1_head10_reference_io.npz"
# The same network shape in timm's Hugging Face Hub layout, written by timm, with timm's outputs.
TIMM_FIXTURES = REPO.parent / "shared" / "fixtures" / "timm_layout"
TIMM_FOLDER = TIMM_FIXTURES / "bit_r14x1_head10_timm_hf"
TIMM_IO = TIMM_FIXTURES / "bit_r14x1_head10_timm_reference_io.npz"
# The fixture network: one unit per block, width 1, a 10-class head.
FIXTURE_BLOCK_UNITS = (1, 1, 1, 1)
FIXTURE_CLASSES = 10
# bit_keras._runtime.tf_logs' switch that keeps TensorFlow's own log lines.
TF_LOGS_ENV = "BIT_KERAS_TF_LOGS"
# What TensorFlow, absl and LiteRT write on their own (said here independently of
# bit_keras._runtime.tf_logs): glog-style lines, and the start-up lines without that prefix.
TENSORFLOW_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\]|WARNING: All log messages before absl"
    r"|To enable the following instructions|INFO: Created TensorFlow Lite|fully_quantize: )"
)
# The bar for matching the official implementation.
PARITY_ATOL = 1e-4


def readme_bash_lines(text: str | None = None) -> list[str]:
    """The commands of the README's bash blocks (or of `text`), one per line, `\\` joined."""
    text = (REPO / "README.md").read_text() if text is None else text
    return [
        line.strip()
        for block in re.findall(r"```bash\n(.*?)```", text, re.S)
        for line in block.replace("\\\n", " ").splitlines()
    ]


def readme_python_blocks(text: str | None = None) -> list[str]:
    """The README's python code blocks (or those of `text`)."""
    text = (REPO / "README.md").read_text() if text is None else text
    return re.findall(r"```python\n(.*?)```", text, re.S)


def run_python(
    args: list[str],
    *,
    cwd=REPO,
    timeout: int = 300,
    as_user: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Runs `python ARGS` (this interpreter) as the README's commands run, output captured.

    TensorFlow's C++ log level is set to 3 (errors only), unless `as_user`: then the
    environment is the user's, without any TensorFlow log setting, as the README's commands
    run on a fresh machine. `env` adds to either.

    A run with neither (`python SCRIPT ARGS` or `python -c CODE` with the worker's
    environment and log level 3) is forked from this worker's program server
    (tests/program_server.py), which has TensorFlow imported already; every other run starts
    a process. A run that needs an interpreter of its own (one that sets the Keras backend,
    or looks at what gets imported) passes `env`."""
    if not as_user and env is None and _servable(args) and not _SERVING:
        return Started(args, cwd, line_buffered=False).wait(timeout)
    user = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", TF_LOGS_ENV)}
    base = user if as_user else {**user, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _servable(args: list[str]) -> bool:
    """A script or `-c` (no interpreter option) under TensorFlow's Keras backend, with
    TensorFlow's own log lines not asked for, in the environment the server has."""
    return (
        bool(args)
        and (args[0] == "-c" or not args[0].startswith("-"))
        and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow"
        and TF_LOGS_ENV not in os.environ
        and (not _SERVER or _SERVER[0].environ == _environ())
    )


def _environ() -> dict[str, str]:
    """The worker's environment, less what pytest changes for each test and TensorFlow's log
    level (every served run has 3; a program called in the worker sets 2 if unset)."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTEST_CURRENT_TEST", "TF_CPP_MIN_LOG_LEVEL")
    }


class _ProgramServer:
    """This worker's tests/program_server.py, started at its first run."""

    def __init__(self):
        # The environment it serves: a test that changed os.environ since gets a process.
        self.environ = _environ()
        env = {**self.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "program_server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=REPO,
        )
        # What was read from the server and not answered yet: its two lines of one run may
        # arrive in one read, so the pipe is read here, not through a buffered file (whose
        # buffer `select` cannot see).
        self.received = b""

    def _answer(self, timeout: float) -> dict:
        """The server's next line, or {} if none came within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self.received:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return {}
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError("tests/program_server.py ended; its output is not kept")
            self.received += chunk
        line, self.received = self.received.split(b"\n", 1)
        return json.loads(line)

    def fork(self, request: dict) -> int:
        """Sends a run's request; returns the pid of the child that runs it."""
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        return self._answer(60)["pid"]


_SERVER: list[_ProgramServer] = []
# The started run the server is busy with (it runs one at a time), if one is.
_SERVING: list[Started] = []


def _program_server() -> _ProgramServer:
    if not _SERVER or _SERVER[0].process.poll() is not None:
        _SERVER[:] = [_ProgramServer()]
    return _SERVER[0]


class Started:
    """A program run, served where it can be (`_servable`, the server not busy), else a
    process: ended by a signal or waited for. Its stdout and stderr go to files, readable
    while it runs; with `line_buffered`, each line as it is written."""

    def __init__(self, args: list[str], cwd, *, line_buffered: bool = True):
        self.args = [sys.executable, *args]
        self._folder = tempfile.TemporaryDirectory(prefix="program_run_")
        self._out = os.path.join(self._folder.name, "stdout")
        self._err = os.path.join(self._folder.name, "stderr")
        for path in (self._out, self._err):  # readable before the child opens them
            pathlib.Path(path).touch()
        self.returncode: int | None = None
        self._process = None
        if _servable(args) and not _SERVING:
            request = {"argv": args, "cwd": str(cwd), "stdout": self._out, "stderr": self._err}
            if line_buffered:
                request["unbuffered"] = 1
            self.pid = _program_server().fork(request)
            _SERVING.append(self)
        else:
            env = {**_environ(), "TF_CPP_MIN_LOG_LEVEL": "3"}
            if line_buffered:
                env["PYTHONUNBUFFERED"] = "1"
            with open(self._out, "wb") as out, open(self._err, "wb") as err:
                self._process = subprocess.Popen(
                    self.args, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
                )
            self.pid = self._process.pid

    def stdout(self) -> str:
        """What it has written to stdout so far."""
        return pathlib.Path(self._out).read_text(errors="replace")

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def poll(self, timeout: float = 0.0) -> int | None:
        """Its status once it has ended (as `subprocess`), else None after `timeout` seconds."""
        if self.returncode is None:
            if self._process is not None:
                try:
                    self.returncode = self._process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    return None
            else:
                answer = _SERVER[0]._answer(timeout)
                if not answer:
                    return None
                self.returncode = answer["returncode"]
                _SERVING.remove(self)
        return self.returncode

    def wait(self, timeout: float = 300) -> subprocess.CompletedProcess:
        """Its output once it has ended; after `timeout` seconds it is killed, and
        `subprocess.TimeoutExpired` raised."""
        timed_out = self.poll(timeout) is None
        if timed_out:
            self.kill()
        stdout, stderr = self.stdout(), pathlib.Path(self._err).read_text(errors="replace")
        self._folder.cleanup()
        if timed_out:
            raise subprocess.TimeoutExpired(self.args, timeout, stdout, stderr)
        return subprocess.CompletedProcess(self.args, self.returncode, stdout, stderr)

    def kill(self) -> None:
        """SIGKILL, and wait for its end."""
        self.send_signal(signal.SIGKILL)
        self.poll(60)


def kill_started_runs() -> None:
    """Ends a started run a test left running (the server would wait for it)."""
    for started in list(_SERVING):
        started.kill()


def start_python(args: list[str], *, cwd=REPO) -> Started:
    """Starts `python ARGS` as `run_python` runs it (served where it can be, TensorFlow's log
    level 3), and returns at once: for a test that signals a run, or reads its output as it
    comes."""
    return Started(args, cwd)


def signal_when(
    args: list[str], ready: Callable[[str], bool], signum: int, *, cwd=REPO, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Starts `python ARGS` (`start_python`), sends it `signum` as soon as `ready(its stdout
    so far)`, and returns its result; fails if it ends before."""
    run = start_python(args, cwd=cwd)
    deadline = time.monotonic() + timeout
    while run.poll(0.05) is None and time.monotonic() < deadline:
        if ready(run.stdout()):
            run.send_signal(signum)
            return run.wait(timeout)
    result = run.wait(0)
    raise AssertionError(f"the run ended before `ready` (status {result.returncode}):\n{result}")


def tiny_train_config(logdir, **overrides):
    """A `TrainConfig` of a few steps of R14x1 on 8x8 digits crops, checkpoints every 3; no
    report (`report=True` where a test reads it)."""
    from bit_keras.training import TrainConfig

    values = dict(
        model="R14x1",
        weights="none",
        dataset="digits",
        logdir=str(logdir),
        batch_size=8,
        base_lr=0.2,
        steps=6,
        resize=12,
        crop=8,
        checkpoint_every=3,
        log_every=2,
        report=False,
    )
    return TrainConfig(**{**values, **overrides})


def tiny_pretrain_config(logdir, **overrides):
    """A `PretrainConfig` of 6 steps of R14x1 from scratch on 8x8 digits crops, checkpoints
    every 3; no flips, no report."""
    from bit_keras.training import PretrainConfig

    values = dict(
        model="R14x1",
        dataset="digits",
        logdir=str(logdir),
        batch_size=8,
        base_lr=0.4,
        steps=6,
        crop=8,
        checkpoint_every=3,
        log_every=2,
        random_flip=False,
        report=False,
    )
    return PretrainConfig(**{**values, **overrides})


def ceil_div(n: int, d: int) -> int:
    return -(-n // d)


def lay_out_hub_cache(
    cache: pathlib.Path,
    repo_id: str,
    files: dict[str, bytes],
    *,
    revision: str = "main",
) -> pathlib.Path:
    """Puts a Hub repository's files into a Hugging Face cache as huggingface_hub lays it out:
    `models--ORG--NAME/blobs/` named by the Hub's hashes (SHA-256 for `.safetensors`, as Git
    LFS holds them; Git's blob SHA-1 for the rest), `snapshots/<commit>/` linking to them and
    `refs/<revision>` naming the commit. Returns the snapshot folder."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = hashlib.sha1(f"{repo_id}@{revision}".encode()).hexdigest()
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for name, content in files.items():
        if name.endswith(".safetensors"):
            etag = hashlib.sha256(content).hexdigest()
        else:
            etag = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        (repo / "blobs" / etag).write_bytes(content)
        (snapshot / name).symlink_to(os.path.join("..", "..", "blobs", etag))
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / revision).write_text(commit)
    return snapshot


def timm_fixture_files() -> dict[str, bytes]:
    """The timm fixture's files, as a Hub repository of it would hold them."""
    return {
        name: (TIMM_FOLDER / name).read_bytes() for name in ("model.safetensors", "config.json")
    }


def session_folder(
    tmp_path_factory, name: str, make: Callable[[pathlib.Path], None]
) -> pathlib.Path:
    """A folder made once per test session and shared by every xdist worker: the first test
    to ask makes it (`make(folder)`) under a file lock, the others wait for it and reuse it.

    The folder sits in the session's temporary root (the parent of the workers' own), so a
    new session makes it again; one that `make` left unfinished is made again. Tests must not
    change what is in it: copy it first.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder
