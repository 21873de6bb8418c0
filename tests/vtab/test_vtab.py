"""`bit-vtab` end to end on TFDS' mock data (tests/vtab/mock_vtab.py): two tasks fine-tuned
(a tiny model, a few steps: a test-size override of the rule), their tables, a run stopped in
the second task and resumed there, published-style checkpoints scored as they are, and bad
input as one line each."""

import json
import os
import pathlib
import re
import shlex
import shutil
import signal

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from bit_test_utils import FIXTURES, REPO, readme_bash_lines, run_python, signal_when

MOCK = REPO / "tests" / "vtab" / "mock_vtab.py"
TASKS = ("dsprites-xpos", "smallnorb-elevation")  # no flips and no crops / flips and crops
OFFICIAL = FIXTURES / "bit_r14x1_head10_official_layout.npz"


# The README's offline VTAB-1k command, run as written (into /tmp/bit_vtab_mock).
(README_LINE,) = [line for line in readme_bash_lines() if "tests/vtab/mock_vtab.py" in line]
README_LOGDIR = pathlib.Path("/tmp/bit_vtab_mock")


def _command(logdir):
    """The README's command, into `logdir`."""
    args = shlex.split(README_LINE)[1:]
    return [a if not a.startswith("--logdir=") else f"--logdir={logdir}" for a in args]


def _run(args, status=0):
    result = run_python(args, timeout=600)
    assert result.returncode == status, (result.stdout + result.stderr)[-3000:]
    return result


@pytest.fixture(scope="module")
def reference():
    """The README's run over two tasks, uninterrupted."""
    assert f"--tasks={','.join(TASKS)}" in README_LINE
    shutil.rmtree(README_LOGDIR, ignore_errors=True)
    _run(shlex.split(README_LINE)[1:])
    return README_LOGDIR


def test_two_tasks_fine_tuned_and_tabled(reference):
    summary = json.loads((reference / "vtab.json").read_text())
    assert [t["task"] for t in summary["tasks"]] == list(TASKS)
    # Mock data has 24 examples in every split: the slices are task_adaptation's on 24.
    assert [t["data"] for t in summary["tasks"]] == [
        "TFDS dsprites/2.0.0, train train[:800]+train[19:219], test train[21:]",
        "TFDS smallnorb/2.0.0, train train[:800]+test[:200], test test[12:]",
    ]
    for task in summary["tasks"]:
        record = json.loads((reference / task["task"] / "run0" / "config.json").read_text())
        # Each task's run is a bit-train run of vtab:TASK, its accuracy its test split's.
        assert record["config"]["dataset"] == f"vtab:{task['task']}"
        assert task["runs"] == {"0": round(100 * record["metrics"]["test_accuracy"], 4)}
        assert task["test_examples"] == record["metrics"]["test_examples"] == 24
        assert task["pages"] == {"0": f"{task['task']}/run0/report.html"}
    flips = {t: json.loads((reference / t / "run0" / "config.json").read_text()) for t in TASKS}
    assert [flips[t]["config"]["random_flip"] for t in TASKS] == [False, True]
    assert [flips[t]["config"]["random_crop"] for t in TASKS] == [False, True]
    # A task without random crops resizes to the crop size; the other resizes, then crops.
    assert [flips[t]["resolved"]["resize"] for t in TASKS] == [16, 18]
    means = [t["mean"] for t in summary["tasks"]]
    assert summary["groups"] == {
        "structured": {"mean": round(np.mean(means), 4), "tasks": 2, "of": 8}
    }
    assert summary["overall"] == {"mean": round(np.mean(means), 4), "tasks": 2, "of": 19}
    assert summary["complete"] is False

    table = (reference / "vtab.md").read_text()
    assert f"| dsprites-xpos | structured | {means[0]:.2f} | {means[0]:.2f} |" in table
    assert f"| **Overall** | 2 of 19 tasks |  | **{np.mean(means):.2f}** |" in table
    picture = (reference / "vtab.png").read_bytes()
    assert picture.startswith(b"\x89PNG") and len(picture) > 5000
    page = (reference / "index.html").read_text()
    for task in TASKS:
        assert f'<a href="{task}/run0/report.html">' in page
        assert (reference / task / "run0" / "report.html").exists()
    assert '<img src="vtab.png"' in page


def test_stopped_in_the_second_task_resumes_there(reference, tmp_path):
    second = tmp_path / TASKS[1] / "run0" / "checkpoints" / "checkpoint"

    def second_task_saved(_):  # its first checkpoint (every tenth of the run: 2 of 20 steps)
        return second.exists() and '"ckpt-2"' in second.read_text()

    stopped = signal_when(_command(tmp_path), second_task_saved, signal.SIGINT, timeout=600)
    assert stopped.returncode == 130, (stopped.stdout + stopped.stderr)[-3000:]
    assert not (tmp_path / TASKS[1] / "run0" / "model.keras").exists()

    resumed = _run(_command(tmp_path)).stdout
    assert f"VTAB-1k [1/2] {TASKS[0]}, run 0: done before, test accuracy" in resumed
    assert f"VTAB-1k [2/2] {TASKS[1]}, run 0: fine-tuning in" in resumed
    resumed_at = re.search(r"Resumed from \S+/ckpt-(\d+) at step \1\.", resumed)
    assert resumed_at and 2 <= int(resumed_at[1]) < 20, resumed
    # Exact resume: the same numbers as the run that was not stopped, to the last digit.
    assert (tmp_path / "vtab.json").read_text() == (reference / "vtab.json").read_text()
    assert (tmp_path / "vtab.md").read_text() == (reference / "vtab.md").read_text()


def test_evaluate_only_scores_each_checkpoint_as_its_own_predictions_do(tmp_path):
    import bit_keras
    from bit_keras.data import load_source

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for task in ("svhn", "eurosat"):  # 10 classes, as the fixture's head
        os.symlink(OFFICIAL, folder / f"{task}-0.npz")
    logdir = tmp_path / "scores"
    _run(
        [
            str(MOCK),
            f"--logdir={logdir}",
            "--tasks=svhn,eurosat",
            "--evaluate_only",
            f"--checkpoints={folder}/{{task}}-{{run}}.npz",
            "--batch_size=10",
        ]
    )
    summary = json.loads((logdir / "vtab.json").read_text())
    model = bit_keras.model_from_checkpoint(OFFICIAL)
    for task in summary["tasks"]:
        with tfds.testing.mock_data(num_examples=24):
            source = load_source(f"vtab:{task['task']}")
            pairs = list(source.test())
        # Both tasks' images are below 96x96 pixels: the rule evaluates them at 128.
        images = tf.stack([tf.image.resize(image, (128, 128)) for image, _ in pairs])
        predicted = np.argmax(model(bit_keras.preprocess_input(images)), axis=-1)
        expected = float(np.mean(predicted == np.array([int(y) for _, y in pairs])))
        record = json.loads((logdir / task["task"] / "run0" / "evaluation.json").read_text())
        assert record["test_accuracy"] == pytest.approx(expected, abs=1e-12)
        assert (record["crop"], record["test_examples"]) == (128, 24)
        assert task["runs"] == {"0": round(100 * expected, 4)}
    assert summary["title"] == "BiT-M-R50x1"  # --model titles the tables
    # Scored once: a second run reads the records back.
    again = _run(
        [
            str(MOCK),
            f"--logdir={logdir}",
            "--tasks=svhn,eurosat",
            "--evaluate_only",
            f"--checkpoints={folder}/{{task}}-{{run}}.npz",
        ]
    ).stdout
    assert "svhn, run 0: done before" in again and "eurosat, run 0: done before" in again


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (
            ["--tasks=dtd,clevr-cont"],
            "Unknown VTAB-1k task 'clevr-cont'. Did you mean clevr-count? The tasks: caltech101",
        ),
        (["--evaluate_only"], "--evaluate_only scores the checkpoints --checkpoints names"),
        (["--evaluate_only", "--checkpoints=/x/all.npz"], "--checkpoints needs {task}"),
        (
            ["--evaluate_only", "--checkpoints=/x/{task}.npz", "--runs=3"],
            "--checkpoints needs {run} with --runs=3",
        ),
        (
            ["--model=R14x1", "--evaluate_only", "--checkpoints=published"],
            "--checkpoints=published: big_transfer published VTAB checkpoints of BiT-M-R50x1, "
            "BiT-M-R101x1",
        ),
    ],
)
def test_bad_flags_are_one_line(tmp_path, flags, line):
    result = _run([str(REPO / "tools" / "vtab.py"), f"--logdir={tmp_path}", *flags], status=1)
    assert result.stderr.startswith(f"bit-vtab: error: {line}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_a_checkpoint_pattern_that_misses_a_task_names_it(tmp_path):
    os.symlink(OFFICIAL, tmp_path / "svhn-0.npz")
    pattern = f"{tmp_path}/{{task}}-{{run}}.npz"
    args = ["--tasks=svhn,eurosat", "--evaluate_only", f"--checkpoints={pattern}"]
    result = _run([str(REPO / "tools" / "vtab.py"), f"--logdir={tmp_path}/out", *args], status=1)
    assert result.stderr.strip() == (
        f"bit-vtab: error: --checkpoints {pattern!r} names no file for VTAB task eurosat, "
        f"run 0: '{tmp_path}/eurosat-0.npz' does not exist."
    )


def test_data_that_is_not_prepared_is_one_line(tmp_path):
    args = ["--model=R14x1", "--weights=none", "--tasks=dtd", "--nodownload"]
    result = _run(
        [
            str(REPO / "tools" / "vtab.py"),
            f"--logdir={tmp_path}/out",
            f"--data_dir={tmp_path}",
            *args,
        ],
        status=1,
    )
    assert result.stderr.strip().splitlines()[-1] == (
        f"bit-vtab: error: VTAB task dtd needs TFDS dataset 'dtd:3.*.*', which is not prepared "
        f"in '{tmp_path}', and --nodownload forbids fetching it. Prepare it where there is "
        f"network access (`tfds build dtd --data_dir={tmp_path}`) and pass --data_dir={tmp_path}."
    )


def test_a_finished_task_run_with_other_settings_is_an_error(reference):
    result = _run([*_command(reference), "--steps=7"], status=1)  # the README's: 20
    folder = reference / TASKS[0] / "run0"
    assert result.stderr.strip().splitlines()[-1] == (
        f"bit-vtab: error: '{folder}' holds a run of VTAB task {TASKS[0]} with steps=20 (now 7): "
        "pass a new --logdir, or delete that folder to run the task again."
    )
