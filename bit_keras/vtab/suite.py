"""VTAB-1k as one call: every task fine-tuned with BiT-HyperRule (`run_vtab`), or a
checkpoint per task scored as it is (`evaluate_vtab`), then the tables.

Each task's run is a `bit-train` run in its own folder (`LOGDIR/TASK/runN`), so a stopped
VTAB run resumes where it stopped: finished runs are read back from their record, the
unfinished one resumes exactly from its last checkpoint, the rest start. The tables are
written again after every run, so they always hold what is done.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from bit_keras._runtime import files
from bit_keras._runtime.atomic_write import save_atomically
from bit_keras.data.vtab_tasks import VtabTask
from bit_keras.training.logdir import read_json, read_record, write_json
from bit_keras.training.run_lock import is_chief_process
from bit_keras.vtab.config import VtabConfig, missing_checkpoints, same_result
from bit_keras.vtab.results import RunResult, summarize, write_results

EVALUATION_FILE = "evaluation.json"
REPORT_FILE = "report.html"


def run_vtab(
    config: VtabConfig, strategy: tf.distribute.Strategy | None = None, *, out=print
) -> dict:
    """Fine-tunes `config.model` on each VTAB-1k task with BiT-HyperRule and scores it on the
    task's test split; resumes a stopped VTAB run where it stopped.

    Args:
        config: The tasks, runs and settings.
        strategy: A tf.distribute strategy for every run; by default `config.strategy` builds
            one (once: a multi-worker strategy can only be made once in a process).
        out: Where progress lines go.

    Returns:
        The tables' numbers (`vtab.json`): per task, per group and overall, in %.

    Raises:
        ValueError: a task's folder holds a finished run with other settings; the data,
            model or weights errors of `bit-train`.
        TrainingInterrupted: Ctrl-C or SIGTERM, after the running task saved a checkpoint.
    """
    from bit_keras.training.finetuning import train
    from bit_keras.training.strategy import make_strategy

    jobs = [(task, run) for task in config.selected for run in range(config.runs)]
    for task, run in jobs:  # a mismatch fails now, not after hours of other tasks
        _finished(config, task, run)
    strategy = strategy or make_strategy(config.strategy, config.tpu)
    seeds = ", ".join(str(config.seed + run) for run in range(config.runs))
    how = (
        f"Fine-tuned from {config.model} (weights: {config.weights}) with BiT-HyperRule"
        + _overrides(config)
        + f"; {config.runs} run(s) per task (seeds {seeds})."
    )
    results: list[RunResult] = []
    for number, (task, run) in enumerate(jobs, 1):
        task_config = config.task_config(task, run)
        where = f"VTAB-1k [{number}/{len(jobs)}] {task.name}, run {run}"
        metrics = _finished(config, task, run)
        if metrics is None:
            out(f"{where}: fine-tuning in {task_config.logdir}")
            metrics = train(task_config, strategy, out=out)
        else:
            out(
                f"{where}: done before, test accuracy {metrics['test_accuracy']:.4f} "
                f"({task_config.logdir})"
            )
        report = files.join(task_config.logdir, REPORT_FILE)
        data = (read_record(task_config.logdir) or {}).get("data", "")
        page = report if files.exists(report) else None
        results.append(_result(config, task, run, metrics, page=page, data=data))
        summary = _write(config, results, how, out, last=number == len(jobs))
    return summary


def _finished(config: VtabConfig, task: VtabTask, run: int) -> dict | None:
    """The metrics of a finished run of this task in its folder, or None; ValueError where
    the run there had other settings."""
    task_config = config.task_config(task, run)
    record = read_record(task_config.logdir)
    if not record:
        return None
    differs = same_result(record.get("config") or {}, task_config)
    if differs:
        raise ValueError(
            f"{task_config.logdir!r} holds a run of VTAB task {task.name} with {differs}: "
            "pass a new --logdir, or delete that folder to run the task again."
        )
    outputs = record.get("outputs") or []
    metrics = record.get("metrics") or {}
    written = all(files.exists(files.join(task_config.logdir, name)) for name in outputs)
    return metrics if "test_accuracy" in metrics and written else None


def evaluate_vtab(config: VtabConfig, *, out=print) -> dict:
    """Scores one checkpoint per task and run (`config.checkpoints`) on each task's test
    split as it is, at the rule's resolution (or `config.crop`); resumes where it stopped.

    Each result is kept in `LOGDIR/TASK/runN/evaluation.json`; a rerun with the same
    checkpoint and resolution reads it back.

    Returns:
        The tables' numbers (`vtab.json`).

    Raises:
        ValueError: a checkpoint that is missing (before any is read), whose head does not
            fit its task, or a task's data that is not prepared.
    """
    from bit_keras.data import load_source
    from bit_keras.pretrained.from_checkpoint import model_from_checkpoint
    from bit_keras.training import hyperrule

    jobs = [(task, run) for task in config.selected for run in range(config.runs)]
    missing = missing_checkpoints(config)
    if missing:
        raise ValueError(missing)
    how = f"{config.model}'s checkpoints ({config.checkpoints}) evaluated as they are."
    results: list[RunResult] = []
    for number, (task, run) in enumerate(jobs, 1):
        folder = config.run_dir(task, run)
        path = config.checkpoint(task, run)
        where = f"VTAB-1k [{number}/{len(jobs)}] {task.name}, run {run}"
        record_path = files.join(folder, EVALUATION_FILE)
        record = read_json(record_path)
        if record and record.get("checkpoint") == path and record.get("crop_asked") == config.crop:
            out(f"{where}: done before, test accuracy {record['test_accuracy']:.4f}")
        else:
            source = load_source(
                f"vtab:{task.name}", config.data_dir, download=config.download, out=out
            )
            crop = config.crop or hyperrule.resolution(source.image_size)[1]
            out(f"{where}: evaluating {path} at {crop} px on {source.test_size} test images")
            model = model_from_checkpoint(local_checkpoint(path))
            if model.output_shape[-1] != source.num_classes:
                raise ValueError(
                    f"{path} has a head of {model.output_shape[-1]} classes; VTAB task "
                    f"{task.name} has {source.num_classes}: is it that task's checkpoint?"
                )
            accuracy, examples = evaluate_accuracy(model, source, crop, config.batch_size)
            record = {
                "task": task.name,
                "run": run,
                "checkpoint": path,
                "crop_asked": config.crop,
                "crop": crop,
                "test_accuracy": accuracy,
                "test_examples": examples,
                "data": source.origin,
            }
            files.makedirs(folder)
            save_atomically(record_path, lambda p, r=record: write_json(p, r))
            out(f"{where}: test accuracy {accuracy:.4f} on {examples} examples")
        results.append(
            _result(
                config,
                task,
                run,
                record,
                page=record_path,
                examples=record["test_examples"],
                data=record.get("data", ""),
            )
        )
        summary = _write(config, results, how, out, last=number == len(jobs))
    return summary


def local_checkpoint(path: str) -> str:
    """A checkpoint's local path: an https:// one is downloaded into the Keras cache once
    (where it can also be put by hand)."""
    if not path.startswith(("https://", "http://")):
        return path
    from bit_keras.checkpoint.fetch import fetch_checkpoint

    return fetch_checkpoint(path.rsplit("/", 1)[-1], path)


def evaluate_accuracy(model, source, crop: int, batch_size: int) -> tuple[float, int]:
    """Top-1 accuracy of `model` on `source`'s test split, its images resized to `crop` as
    the training loop evaluates (`data.eval_dataset`); returns (accuracy, examples)."""
    from bit_keras.data import eval_dataset
    from bit_keras.training.evaluation import hits, top1

    batches = eval_dataset(source.test, size=source.test_size, batch_size=batch_size, crop=crop)

    @tf.function
    def count(images, labels, mask):
        return tf.reduce_sum(hits(top1(model, images), labels) * mask), tf.reduce_sum(mask)

    correct = seen = 0.0
    for images, labels, mask in batches:
        right, real = count(images, labels, mask)
        correct, seen = correct + float(right), seen + float(real)
    if int(seen) != source.test_size:
        raise RuntimeError(f"Evaluated {int(seen)} examples, expected {source.test_size}.")
    return correct / seen, int(seen)


def _result(config, task, run, metrics, *, page, data: str, examples: int | None = None):
    folder = config.run_dir(task, run)
    return RunResult(
        task.name,
        run,
        float(metrics["test_accuracy"]),
        int(examples if examples is not None else metrics["test_examples"]),
        _relative(folder, config.logdir),
        _relative(page, config.logdir) if page else None,
        data,
    )


def _write(config: VtabConfig, results, how: str, out: Callable, *, last: bool) -> dict:
    summary = summarize(results, title=config.model, runs=config.runs, how=how)
    if not is_chief_process():
        return summary
    paths = write_results(config.logdir, summary)
    if last:
        for name, mean, count in _table_lines(summary):
            out(f"VTAB-1k {name}: {mean} ({count})")
        out(f"Wrote {', '.join(paths)}")
    return summary


def _table_lines(summary: dict):
    for group, numbers in summary["groups"].items():
        yield group, f"{numbers['mean']:.2f}%", f"{numbers['tasks']} of {numbers['of']} tasks"
    overall = summary["overall"]
    yield "overall", f"{overall['mean']:.2f}%", f"{overall['tasks']} of {overall['of']} tasks"


def _overrides(config: VtabConfig) -> str:
    changed = [
        f"{name}={getattr(config, name)}"
        for name in ("batch_size", "base_lr", "steps", "crop", "resize")
        if getattr(config, name) != getattr(VtabConfig, name, None)
    ]
    return f" (changed: {', '.join(changed)})" if changed else ""


def _relative(path: str, logdir: str) -> str:
    prefix = logdir.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path
