"""Whether a long run's memory stays flat: the resident memory of real program processes, read
at each of their progress lines, after a warm-up and at the end.

1. `tools/train.py`: a small model (R14x1 on digits, 8x8 crops) for thousands of steps, with
   periodic evaluation, checkpoints and TensorBoard summaries, through many epochs;
2. `tools/embed.py`: that run's `model.keras` over a `csv:` data set of as many images as asked
   (copies of one small JPEG cut from a scikit-learn sample photograph, written here), in
   shards.
A process's resident memory (`VmRSS` in `/proc/PID/status`, Linux) is read when it prints a
progress line (at most one each 5 s); its peak is the child's maximum resident set (`wait4`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable

# What a program's progress line says it has done: `step 120/5000` or `embedded 1,024/100,000`.
_PROGRESS = re.compile(r"^(?:step|embedded) ([\d,]+)/([\d,]+)\b")


@dataclasses.dataclass(frozen=True)
class MemoryFigure:
    """A program's resident memory (bytes) at its progress lines.

    Attributes:
        program: What ran, in words.
        unit: What its progress counts ("step", "image").
        samples: (done, resident bytes) at each progress line, in order.
        warm_up: How much is done at the first sample after the warm-up.
        peak_bytes: The process's maximum resident memory.
    """

    program: str
    unit: str
    samples: tuple[tuple[int, int], ...]
    warm_up: int
    peak_bytes: int

    @property
    def warm_bytes(self) -> int:
        return dict(self.samples)[self.warm_up]

    @property
    def end(self) -> int:
        return self.samples[-1][0]

    @property
    def end_bytes(self) -> int:
        return self.samples[-1][1]

    @property
    def growth(self) -> float:
        """The end against the warm-up: 0.01 is 1% more."""
        return self.end_bytes / self.warm_bytes - 1

    def words(self) -> str:
        return (
            f"{self.program}: resident memory {_mib(self.warm_bytes)} after the warm-up "
            f"({self.unit} {self.warm_up:,}), {_mib(self.end_bytes)} at the end ({self.unit} "
            f"{self.end:,}): {100 * self.growth:+.1f}%; peak {_mib(self.peak_bytes)}"
        )


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def resident_bytes(pid: int) -> int:
    """The resident memory of process `pid` now (`VmRSS`)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"No VmRSS for process {pid}")


def follow(command: list[str], program: str, unit: str, warm_up: float) -> MemoryFigure:
    """Runs `command` to its end, reading its resident memory at each progress line; the
    warm-up ends at the first line past `warm_up` (a fraction) of the work."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    samples, output = [], []
    for line in process.stdout:
        output.append(line)
        match = _PROGRESS.match(line)
        if match:
            done, total = (int(g.replace(",", "")) for g in match.groups())
            samples.append((done, resident_bytes(process.pid), total))
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or not samples:
        raise RuntimeError(f"{program} failed ({process.returncode}):\n{''.join(output[-20:])}")
    total = samples[-1][2]
    warm = next(done for done, _, _ in samples if done >= warm_up * total)
    return MemoryFigure(
        program,
        unit,
        tuple((done, size) for done, size, _ in samples),
        warm,
        usage.ru_maxrss * 1024,  # kilobytes on Linux
    )


def train_command(repository: str, logdir: str, steps: int) -> list[str]:
    """A `tools/train.py` run of `steps` with evaluations, checkpoints and summaries."""
    return [
        sys.executable,
        os.path.join(repository, "tools", "train.py"),
        "--model=R14x1",
        "--weights=none",
        "--dataset=digits",
        f"--logdir={logdir}",
        f"--steps={steps}",
        "--batch_size=8",
        "--resize=12",
        "--crop=8",
        f"--eval_every={max(1, steps // 10)}",
        f"--checkpoint_every={max(1, steps // 20)}",
        "--log_every=10",
        "--noreport",
    ]


def embed_command(repository: str, model: str, manifest: str, output: str) -> list[str]:
    """A `tools/embed.py` run of `model` over the `csv:` data set `manifest`, in shards."""
    return [
        sys.executable,
        os.path.join(repository, "tools", "embed.py"),
        f"--model={model}",
        f"--dataset=csv:{manifest}",
        "--batch_size=256",
        "--shard_size=10000",
        f"--output={output}",
    ]


def run(
    steps: int = 5_000,
    images: int = 100_000,
    warm_up: float = 0.2,
    repository: str | None = None,
    out: Callable[[str], object] = print,
) -> list[MemoryFigure]:
    """Trains for `steps`, then embeds `images` with the model trained, each in its own
    process; returns their figures."""
    from bit_keras.benchmark.startup import write_images

    repository = repository or os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    figures = []
    with tempfile.TemporaryDirectory(prefix="bit_keras_memory_") as folder:
        logdir = os.path.join(folder, "run")
        out(f"Training R14x1 on digits for {steps:,} steps ...")
        figures.append(
            follow(
                train_command(repository, logdir, steps),
                f"bit-train, {steps:,} steps (evaluations, checkpoints, summaries)",
                "step",
                warm_up,
            )
        )
        out(figures[-1].words())
        out(f"Writing {images:,} JPEGs and a manifest ...")
        write_images(folder, images)
        command = embed_command(
            repository,
            os.path.join(logdir, "model.keras"),
            os.path.join(folder, "manifest.csv"),
            os.path.join(folder, "embeddings.npz"),
        )
        figures.append(follow(command, f"bit-embed, {images:,} images", "image", warm_up))
        out(figures[-1].words())
    return figures
