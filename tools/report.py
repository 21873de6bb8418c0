r"""Writes a training run's report again: LOGDIR/report.html and its pictures in LOGDIR/report/
(learning curves, confusion matrix, per-class accuracy, misclassified test images), from the
run's config.json, TensorBoard events and predictions.npz. Every bit-train and bit-pretrain
run writes it when it ends; this rebuilds it (after a change of bit_keras, or a failure).

Example (the README's main job's run):
    python tools/report.py /tmp/bit_digits
"""

from __future__ import annotations

import sys

from absl import app


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise app.UsageError("Pass one run folder (a --logdir of bit-train or bit-pretrain).")
    logdir = argv[1]
    from bit_keras._runtime.tf_logs import quiet_tensorflow

    quiet_tensorflow()
    from bit_keras.training.report import write_report

    try:
        write_report(logdir)
    except (ValueError, OSError) as e:
        sys.exit(f"report: error: {e}")


if __name__ == "__main__":
    app.run(main)
