"""VTAB-1k's tables from made-up run results: the means per task, per group and overall, the
Markdown and HTML around them."""

import json

import numpy as np

from bit_keras.data.vtab_tasks import GROUPS, TASKS
from bit_keras.vtab.results import RunResult, markdown, page, summarize, write_results


def _results(runs=2):
    # Task i's run r scores (50 + i + r) %: every mean is known by hand.
    return [
        RunResult(
            t.name, r, (50 + i + r) / 100, 100, f"{t.name}/run{r}", f"{t.name}/run{r}/report.html"
        )
        for i, t in enumerate(TASKS)
        for r in range(runs)
    ]


def test_means_per_task_group_and_overall():
    summary = summarize(_results(), title="BiT-M-R152x4", runs=2, how="Made up.")
    means = {t["task"]: t["mean"] for t in summary["tasks"]}
    assert means == {t.name: 50 + i + 0.5 for i, t in enumerate(TASKS)}
    for group in GROUPS:
        expected = np.mean([50 + i + 0.5 for i, t in enumerate(TASKS) if t.group == group])
        assert summary["groups"][group]["mean"] == round(expected, 4)
    assert [summary["groups"][g]["tasks"] for g in GROUPS] == [7, 4, 8]
    # VTAB's score: the mean of the 19 task means (not of the group means).
    assert summary["overall"] == {"mean": 59.5, "tasks": 19, "of": 19}
    assert summary["complete"] is True
    assert summary["reference"]["overall"] == 73.51  # big_transfer's README re-run


def test_a_partial_run_says_so():
    partial = [r for r in _results() if r.task in ("dtd", "eurosat") and r.run == 0]
    summary = summarize(partial, title="R50x1", runs=2, how="Made up.")
    assert summary["complete"] is False and summary["reference"] is None
    assert summary["groups"] == {
        "natural": {"mean": 52.0, "tasks": 1, "of": 7},
        "specialized": {"mean": 58.0, "tasks": 1, "of": 4},
    }
    table = markdown(summary)
    assert "not every task and run is done yet" in table
    assert "| dtd | natural | 52.00 |  | 52.00 |" in table
    assert "| **Overall** | 2 of 19 tasks |  |  | **55.00** |" in table


def test_the_files_and_the_links(tmp_path):
    summary = summarize(_results(runs=1), title="BiT-M-R101x3", runs=1, how="Made up.")
    paths = write_results(str(tmp_path), summary)
    assert [p.rsplit("/", 1)[1] for p in paths] == [
        "vtab.json",
        "vtab.md",
        "vtab.png",
        "index.html",
    ]
    assert json.loads((tmp_path / "vtab.json").read_text()) == summary
    assert "Published for BiT-M-R101x3" in (tmp_path / "vtab.md").read_text()
    html = page(summary)
    assert html.count('<a href="') == 19
    assert '<a href="svhn/run0/report.html">56.00</a>' in html
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
