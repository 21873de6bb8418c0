"""A run's folder: the files a run writes there, and the checks made before it writes any.

Light on purpose (no TensorFlow): the programs check the logdir before TensorFlow loads.
"""

from __future__ import annotations

import json
import os

from bit_keras._runtime import files
from bit_keras.training.config import RunConfig

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
WORKERS_DIR = ".workers"  # other workers' checkpoints (MultiWorkerMirroredStrategy)
# The run report (`report.py`): the page, its pictures, and the test predictions it shows.
REPORT_FILE = "report.html"
REPORT_DIR = "report"
PREDICTIONS_FILE = "predictions.npz"


def check_logdir(config: RunConfig) -> None:
    """Raises ValueError, before anything is written, for a logdir this run cannot use: a
    file, a folder it cannot write, or the folder of a run of another model or data set."""
    logdir = files.absolute(config.logdir)
    if files.is_remote(logdir):
        if files.isfile(logdir):
            raise ValueError(f"--logdir {logdir!r} is a file, not a folder: pass a new --logdir.")
        _check_same_run(config, logdir)
        return
    existing = logdir
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing == logdir and not os.path.isdir(logdir):
        raise ValueError(f"--logdir {logdir!r} is a file, not a folder: pass a new --logdir.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(
            f"--logdir {logdir!r} cannot be written ({existing!r} is not writable): pass a "
            "folder you can write to."
        )
    _check_same_run(config, logdir)


def read_record(logdir: str) -> dict | None:
    """The run record (`config.json`) in `logdir`, or None where there is none that reads."""
    return read_json(files.join(logdir, CONFIG_FILE))


def read_json(path: str) -> dict | None:
    """The JSON object in `path`, or None where there is none that reads."""
    try:
        if not files.isfile(path):
            return None
        with files.open_file(path) as f:
            record = json.load(f)
    except Exception:  # unreadable (OSError here, TensorFlow's errors for gs://, bad JSON)
        return None
    return record if isinstance(record, dict) else None


def write_json(path: str, record: dict) -> None:
    """Writes `record` to the local file `path` (`save_atomically`'s temporary one)."""
    with open(path, "w") as f:
        json.dump(record, f, indent=2, default=str)
        f.write("\n")


def _check_same_run(config: RunConfig, logdir: str) -> None:
    if config.overwrite:
        return  # the run there is deleted before this one starts
    # An unreadable record is not ours to judge; the checkpoint restore checks the model.
    previous = (read_record(logdir) or {}).get("config") or {}
    for key in ("model", "dataset"):
        if key in previous and previous[key] != getattr(config, key):
            raise ValueError(
                f"--logdir {logdir!r} holds a run of {previous.get('model')} on "
                f"{previous.get('dataset')}, not {config.model} on {config.dataset}: pass a new "
                "--logdir, or --overwrite to delete that run and start over there."
            )


def check_finished_run(logdir: str) -> None:
    """Raises ValueError unless `logdir` holds a finished run's `config.json` and predictions
    (what a report is drawn from). No TensorFlow: `bit-report` checks its folder with it."""
    if not all(files.isfile(files.join(logdir, f)) for f in (CONFIG_FILE, PREDICTIONS_FILE)):
        raise ValueError(
            f"{logdir!r} holds no finished run: a report needs its {CONFIG_FILE} and "
            f"{PREDICTIONS_FILE}, which a run writes when it ends."
        )


def clear_run(logdir: str) -> None:
    """Deletes what a run wrote into `logdir` (checkpoints, TensorBoard events, the model, its
    JSON and its report), and nothing else that may be there (the image check's verdicts
    stay: they are about the data)."""
    if not files.isdir(logdir):
        return
    for name in files.listdir(logdir):
        path = files.join(logdir, name)
        if name in (CHECKPOINT_DIR, WORKERS_DIR, REPORT_DIR) and files.isdir(path):
            files.rmtree(path)
        elif name in (MODEL_FILE, CONFIG_FILE, REPORT_FILE, PREDICTIONS_FILE) or name.startswith(
            "events.out.tfevents."
        ):
            files.remove(path)
