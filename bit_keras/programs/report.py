r"""Writes a training run's report again: LOGDIR/report.html and its pictures in LOGDIR/report/
(learning curves, confusion matrix, per-class accuracy, misclassified test images), from the
run's config.json, TensorBoard events and predictions.npz. Every bit-train and bit-pretrain
run writes it when it ends; this rebuilds it (after a change of bit_keras, or a failure).

Example (the README's main job's run):
    bit-report /tmp/bit_digits
"""

from __future__ import annotations

from bit_keras.programs.runner import run, start

PROGRAM = "bit-report"


def _check(logdir: str) -> tuple[str]:
    from bit_keras.training.logdir import check_finished_run

    check_finished_run(logdir)  # before TensorFlow loads: a wrong folder fails at once
    return (logdir,)


def _write(logdir: str) -> None:
    from bit_keras.training.report import write_report

    write_report(logdir)


def main() -> None:
    """The `bit-report` command (and tools/report.py)."""
    arguments = "a run folder (a --logdir of bit-train, bit-pretrain or bit-distill)"
    start(
        __name__, lambda logdir: run(PROGRAM, lambda: _check(logdir), _write), arguments=arguments
    )
