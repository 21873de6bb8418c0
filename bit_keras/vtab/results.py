"""VTAB-1k's tables: each task's runs, their mean, the mean of each group and of all tasks,
as JSON, Markdown, a picture and an HTML page that links each run's report.

VTAB's score is the mean of the tasks' test accuracies (each task's the mean of its runs), and
each group's the mean of its tasks' (Zhai et al. 2019). Where only some tasks ran, the group
and overall means are of those tasks, and the tables say how many of how many.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Callable, Sequence

import numpy as np

from bit_keras._runtime import files
from bit_keras._runtime.atomic_write import save_atomically
from bit_keras.data.vtab_tasks import GROUPS, TASKS

JSON_FILE, MARKDOWN_FILE, PICTURE_FILE, HTML_FILE = "vtab.json", "vtab.md", "vtab.png", "index.html"
# Published VTAB-1k scores to set a run beside (%): big_transfer's README, "VTAB-1k results"
# (re-runs, not the paper's models): overall, natural, specialized, structured.
REFERENCE = {
    "BiT-M-R152x4": {"overall": 73.51, "natural": 80.77, "specialized": 85.67, "structured": 61.08},
    "BiT-M-R101x3": {"overall": 72.65, "natural": 80.29, "specialized": 85.75, "structured": 59.40},
}
REFERENCE_SOURCE = "github.com/google-research/big_transfer README, VTAB-1k results (re-runs)"
_COLORS = {"natural": "#4c72b0", "specialized": "#dd8452", "structured": "#55a868"}


@dataclasses.dataclass(frozen=True)
class RunResult:
    """One task's run: its test accuracy and where its files are.

    Attributes:
        task: The task's name.
        run: The run's number.
        accuracy: Top-1 accuracy on the task's test split (a fraction).
        examples: Test examples scored.
        folder: The run's folder, relative to the VTAB logdir.
        page: Its report (`report.html`) or record (`evaluation.json`), relative to the VTAB
            logdir; None where there is none.
        data: The TFDS version and splits it read (`DataSource.origin`).
    """

    task: str
    run: int
    accuracy: float
    examples: int
    folder: str
    page: str | None = None
    data: str = ""


def summarize(results: Sequence[RunResult], *, title: str, runs: int, how: str) -> dict:
    """The tables' numbers (the JSON's content): per task, per group and overall, in %."""
    by_task: dict[str, list[RunResult]] = {}
    for result in results:
        by_task.setdefault(result.task, []).append(result)
    tasks = []
    for task in TASKS:
        done = sorted(by_task.get(task.name, []), key=lambda r: r.run)
        if not done:
            continue
        accuracies = [100 * r.accuracy for r in done]
        tasks.append(
            {
                "task": task.name,
                "group": task.group,
                "runs": {str(r.run): round(100 * r.accuracy, 4) for r in done},
                "mean": round(float(np.mean(accuracies)), 4),
                "std": round(float(np.std(accuracies)), 4),
                "test_examples": done[0].examples,
                "data": done[0].data,
                "folders": {str(r.run): r.folder for r in done},
                "pages": {str(r.run): r.page for r in done if r.page},
            }
        )
    groups = {}
    for group in GROUPS:
        means = [t["mean"] for t in tasks if t["group"] == group]
        of = sum(t.group == group for t in TASKS)
        if means:
            groups[group] = {"mean": round(float(np.mean(means)), 4), "tasks": len(means), "of": of}
    overall = {
        "mean": round(float(np.mean([t["mean"] for t in tasks])), 4) if tasks else None,
        "tasks": len(tasks),
        "of": len(TASKS),
    }
    complete = len(tasks) == len(TASKS) and all(len(t["runs"]) == runs for t in tasks)
    return {
        "title": title,
        "how": how,
        "runs": runs,
        "tasks": tasks,
        "groups": groups,
        "overall": overall,
        "complete": complete,
        "reference": {"source": REFERENCE_SOURCE, **REFERENCE[title]}
        if title in REFERENCE
        else None,
    }


def write_results(logdir: str, summary: dict) -> list[str]:
    """Writes the JSON, Markdown, picture and HTML page of `summary` into `logdir`, each
    whole or not at all; returns their paths."""
    paths = [
        files.join(logdir, name) for name in (JSON_FILE, MARKDOWN_FILE, PICTURE_FILE, HTML_FILE)
    ]
    writers: list[Callable[[str], None]] = [
        lambda path: _write_text(path, json.dumps(summary, indent=2) + "\n"),
        lambda path: _write_text(path, markdown(summary)),
        lambda path: _picture(summary, path),
        lambda path: _write_text(path, page(summary)),
    ]
    for path, write in zip(paths, writers, strict=True):
        save_atomically(path, write)
    return paths


def _write_text(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _groups_line(summary: dict) -> list[tuple[str, float | None, str]]:
    rows = [
        (group.capitalize(), g["mean"], f"{g['tasks']} of {g['of']} tasks")
        for group in GROUPS
        if (g := summary["groups"].get(group))
    ]
    overall = summary["overall"]
    rows.append(("Overall", overall["mean"], f"{overall['tasks']} of {overall['of']} tasks"))
    return rows


def markdown(summary: dict) -> str:
    """The table in Markdown: one row per task, its runs and mean; then the groups and all."""
    runs = summary["runs"]
    head = ["Task", "Group", *(f"Run {r}" for r in range(runs)), "Mean"]
    lines = [
        f"# VTAB-1k: {summary['title']}",
        "",
        f"{summary['how']} Top-1 accuracy (%) on each task's test split"
        + ("" if summary["complete"] else "; not every task and run is done yet")
        + ".",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join([" :--- ", " :--- "] + [" ---: "] * (runs + 1)) + "|",
    ]
    for task in summary["tasks"]:
        cells = [task["runs"].get(str(r)) for r in range(runs)]
        lines.append(
            f"| {task['task']} | {task['group']} | "
            + " | ".join("" if c is None else f"{c:.2f}" for c in cells)
            + f" | {task['mean']:.2f} |"
        )
    for name, mean, count in _groups_line(summary):
        value = "" if mean is None else f"**{mean:.2f}**"
        lines.append(f"| **{name}** | {count} | " + " | " * runs + f"{value} |")
    reference = summary.get("reference")
    if reference:
        lines += [
            "",
            f"Published for {summary['title']} ({reference['source']}): overall "
            f"{reference['overall']:.2f}, natural {reference['natural']:.2f}, specialized "
            f"{reference['specialized']:.2f}, structured {reference['structured']:.2f}.",
        ]
    return "\n".join(lines) + "\n"


def _picture(summary: dict, path: str) -> None:
    from matplotlib.figure import Figure

    tasks = summary["tasks"]
    rows = _groups_line(summary)
    labels = [t["task"] for t in tasks] + [name for name, _, _ in rows]
    means = [t["mean"] for t in tasks] + [mean or 0.0 for _, mean, _ in rows]
    colors = [_COLORS[t["group"]] for t in tasks] + [
        _COLORS.get(name.lower(), "#555555") for name, _, _ in rows
    ]
    figure = Figure(figsize=(8, 0.3 * len(labels) + 1.2), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    y = np.arange(len(labels))[::-1]
    axes.barh(y, means, color=colors, alpha=0.85)
    for position, task in zip(y, tasks, strict=False):  # each run's accuracy as a dot
        axes.plot(list(task["runs"].values()), [position] * len(task["runs"]), "k.", ms=4)
    for position, mean in zip(y, means, strict=True):
        axes.text(mean + 0.5, position, f"{mean:.1f}", va="center", fontsize=8)
    axes.set_yticks(y, labels, fontsize=8)
    axes.set_xlim(0, 105)
    axes.set_xlabel("test accuracy (%)")
    axes.set_title(f"VTAB-1k: {summary['title']}", fontsize=10)
    figure.savefig(path, format="png")


def page(summary: dict) -> str:
    """An HTML page: the picture, the table, and a link to each run's report."""
    runs = summary["runs"]
    esc = html.escape
    rows = []
    for task in summary["tasks"]:
        cells = []
        for r in range(runs):
            value = task["runs"].get(str(r))
            link = task["pages"].get(str(r))
            text = "" if value is None else f"{value:.2f}"
            cells.append(f'<a href="{esc(link)}">{text}</a>' if link and text else text)
        rows.append(
            f"<tr><td>{esc(task['task'])}</td><td>{esc(task['group'])}</td>"
            + "".join(f"<td class=n>{c}</td>" for c in cells)
            + f"<td class=n>{task['mean']:.2f}</td></tr>"
        )
    for name, mean, count in _groups_line(summary):
        rows.append(
            f"<tr class=g><td>{esc(name)}</td><td>{esc(count)}</td>"
            + "<td></td>" * runs
            + f"<td class=n>{'' if mean is None else f'{mean:.2f}'}</td></tr>"
        )
    head = "".join(f"<th>Run {r}</th>" for r in range(runs))
    note = "" if summary["complete"] else "<p>Not every task and run is done yet.</p>"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>VTAB-1k: {esc(summary["title"])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{padding:2px 10px;border-bottom:1px solid #ddd}}.n{{text-align:right}}
.g td{{font-weight:bold}}</style></head><body>
<h1>VTAB-1k: {esc(summary["title"])}</h1>
<p>{esc(summary["how"])} Top-1 accuracy (%) on each task's test split; each run's number
links to its report.</p>{note}
<img src="{PICTURE_FILE}" alt="accuracy per task">
<table><tr><th>Task</th><th>Group</th>{head}<th>Mean</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""
