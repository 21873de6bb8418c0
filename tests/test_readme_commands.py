"""Every README command that works offline runs, as written; the others are listed with why.

A command added to the README is run here unless it is listed below: none can drift.
"""

import shlex

import pytest

from bit_test_utils import REPO, readme_bash_lines, readme_python_blocks, run_python

BASH_LINES = [line for line in readme_bash_lines() if line and not line.startswith("#")]
# Commands run by another test or by CI (a piece of each, and where).
RUN_ELSEWHERE = {
    "tools/train.py --model=R14x1 --weights=none --dataset=digits": "test_readme_main_job.py",
    "export/hub.py --model=/tmp/bit_digits/model.keras": "test_readme_main_job_exports.py",
    "export/tflite.py --model=/tmp/bit_digits/model.keras": "test_readme_main_job_exports.py",
    "tools/report.py /tmp/bit_digits": "test_readme_main_job.py",
    "tools/embed.py --model=/tmp/bit_digits/model.keras": "test_readme_main_job_features.py",
    "tools/fewshot.py --model=/tmp/bit_digits/model.keras": "test_readme_main_job_features.py",
    "--weights=/tmp/bit_digits/model.keras --dataset=digits": "test_readme_main_job_features.py",
    "tools/pretrain.py --model=R14x1 --dataset=digits": "training/test_readme_pretraining.py",
    "tools/distill.py --teacher=/tmp/bit_digits/model.keras": "test_readme_distillation.py",
    "--model=/tmp/bit_digits_student/model.keras": "test_readme_distillation.py",
    "--weights=/tmp/bit_digits_pretrain/model.keras": "training/test_readme_pretraining.py",
    "--dist loadfile && KERAS_BACKEND=jax": ".ci/run (test_ci_runs_the_readme_test_command)",
    "pip install -e ": "the test command installs the package with every extra",
    "tests/vtab/mock_vtab.py --model=R14x1": "vtab/test_vtab.py",
}
# Commands that cannot run here: no network, and not the reader's own files.
NOT_OFFLINE = {
    "--checkpoint=BiT-M-R50x1 ": "downloads a published checkpoint",
    "--checkpoint=BiT-M-R50x1-ILSVRC2012": "downloads a published checkpoint",
    "--checkpoint=hf-hub:timm/": "downloads from the Hugging Face Hub (or needs its cache)",
    "--checkpoint=/data/": "a checkpoint of the reader's",
    "--dataset=cifar10": "downloads CIFAR-10 and a published checkpoint",
    "--dataset=imagenet2012": "ILSVRC-2012 (prepared by hand) and accelerators",
    "--dataset=csv:/data/": "the reader's data on a cluster of GPU machines",
    "/data/photos": "the reader's own photos (and a published checkpoint)",
    "tools/vtab.py --model=BiT-M-R50x1 --logdir=/tmp/vtab_": "downloads VTAB-1k's data sets "
    "and a published checkpoint (the program on mock data: vtab/test_vtab.py)",
    "bit-data-service dispatcher --port=5050": "serves until stopped; a dispatcher and a "
    "worker on localhost: tools/test_data_service_program.py",
    "bit-data-service worker --dispatcher=grpc://DISPATCHER_HOST": "a machine of the reader's",
}
PYTHON_NOT_OFFLINE = {
    'create_model("BiT-M-R50x1-ILSVRC2012")': "downloads a published checkpoint",
    'hub.KerasLayer("bit_m_r50x1_feature_vector"': "an exported published model",
}
PYTHON_RUN_ELSEWHERE = {
    "training.fit_recipe(": "training/test_readme_fit.py",
    "/tmp/bit_digits_embeddings.npz": "test_readme_main_job_features.py",
}


def _listed(text: str, table: dict[str, str]) -> bool:
    return any(piece in text for piece in table)


OFFLINE = [
    line
    for line in BASH_LINES
    if not _listed(line, RUN_ELSEWHERE) and not _listed(line, NOT_OFFLINE)
]
PYTHON_OFFLINE = [
    block
    for block in readme_python_blocks()
    if not _listed(block, PYTHON_NOT_OFFLINE) and not _listed(block, PYTHON_RUN_ELSEWHERE)
]


def test_ci_runs_the_readme_test_command():
    (command,) = [line for line in BASH_LINES if "lint-imports" in line]
    jax_pass = 'KERAS_BACKEND=jax .venv/bin/python -m pytest -n 2 --dist loadfile -m "all_backends'
    assert jax_pass in command
    assert command in (REPO / ".ci" / "run").read_text().splitlines()


def test_every_listed_command_is_in_the_readme():
    # The tables above name README text; a stale entry would excuse nothing and hide nothing.
    text = (REPO / "README.md").read_text()
    for table in (RUN_ELSEWHERE, NOT_OFFLINE, PYTHON_NOT_OFFLINE, PYTHON_RUN_ELSEWHERE):
        for piece in table:
            assert piece in text, piece


def test_readme_has_offline_commands():
    programs = {shlex.split(line)[1] for line in OFFLINE}
    assert {"tools/predict.py", "tools/list_models.py", "tools/convert_checkpoint.py"} <= programs
    assert all(line.startswith(".venv/bin/python ") for line in OFFLINE), OFFLINE


@pytest.mark.parametrize("line", OFFLINE)
def test_offline_command_runs(line):
    result = run_python(shlex.split(line)[1:])
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()


@pytest.mark.parametrize("block", PYTHON_OFFLINE, ids=lambda b: b.split("\n")[0][:40])
def test_offline_python_block_runs(block, tmp_path):
    result = run_python(["-c", block], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    # A block that prints says what it prints in a comment on that line.
    for line in block.splitlines():
        if line.startswith("print(") and "  # " in line:
            assert line.split("  # ", 1)[1] in result.stdout
