"""Shared fixtures: the official-layout checkpoint and its reference outputs in ../shared.

Also marks the model core's tests `all_backends`: the README's test command runs them a
second time under `KERAS_BACKEND=jax`.
"""

from __future__ import annotations

import gc
import os
import pathlib

# Many threads of TensorFlow each get a glibc malloc arena by default, and a worker process of
# the suite then holds memory it has freed (10-11 GiB per worker by the end of a run here, near
# the machine's 24). Two arenas keep it low; the workers (`pytest -n 2`) are started after
# this module loads, so they inherit it.
os.environ.setdefault("MALLOC_ARENA_MAX", "2")

import keras
import numpy as np
import pytest

from bit_test_utils import OFFICIAL_CKPT, REFERENCE_IO, kill_started_runs

TESTS = pathlib.Path(__file__).parent
# The model core, which runs under every Keras backend (README "Backends"); training and the
# exporters are TensorFlow programs.
ALL_BACKENDS = (
    "layers",
    "models",
    "checkpoint",
    "pretrained",
    "test_preprocessing.py",
    "test_predictions.py",
    "test_backends.py",
)


# The files that take longest (a minute or more on 2 CPU cores), in the order the README's test
# command starts them: `--dist loadfile` hands each worker whole files in collection order
# (`--no-loadscope-reorder` in pyproject.toml; xdist would otherwise start the files with the
# most tests first and end on these, one worker alone), two to each worker at the start:
# the 1st and 3rd of a part to one worker, the 2nd and 4th to the other. The main job
# (tests/main_job.py) is first; the files that wait for it come after it on the same worker
# or after another long file, so that no worker waits.
LONGEST_FIRST = (
    "test_readme_main_job.py",
    "training/test_distributed.py",
    "training/test_worker_faults.py",
    "test_readme_commands.py",
    "training/test_readme_pretraining.py",
    "training/test_resume.py",
    "test_readme_distillation.py",
    "vtab/test_vtab.py",
    "training/test_loop.py",
    "benchmark/test_compare.py",
    "training/test_distillation.py",
    "test_readme_main_job_exports.py",
    "training/test_readme_fit.py",
    "test_readme_main_job_features.py",
    "training/test_pretraining.py",
    "training/test_full_disk.py",
)

assert all((TESTS / name).is_file() for name in LONGEST_FIRST), "a file of LONGEST_FIRST is gone"


def _start_order(item) -> int:
    name = item.path.relative_to(TESTS).as_posix()
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


@pytest.fixture(autouse=True, scope="module")
def _release_models():
    """After each test module: Keras' global state and the models it kept, released."""
    yield
    keras.backend.clear_session(free_memory=True)
    gc.collect()


@pytest.fixture(autouse=True)
def _no_started_run_left():
    """A run a failing test started (`bit_test_utils.start_python`) does not outlive it."""
    yield
    kill_started_runs()


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.relative_to(TESTS).parts[0] in ALL_BACKENDS:
            item.add_marker(pytest.mark.all_backends)
    items.sort(key=_start_order)  # stable: the other files keep their order


@pytest.fixture(scope="session")
def official_ckpt() -> pathlib.Path:
    assert OFFICIAL_CKPT.is_file(), f"missing fixture {OFFICIAL_CKPT}"
    return OFFICIAL_CKPT


@pytest.fixture(scope="session")
def official_arrays(official_ckpt) -> dict[str, np.ndarray]:
    with np.load(official_ckpt) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="session")
def reference_io() -> dict[str, np.ndarray]:
    with np.load(REFERENCE_IO) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="session")
def official_model(official_ckpt):
    """The fixture checkpoint as a bit_keras model (shared: do not modify)."""
    import bit_keras

    return bit_keras.model_from_checkpoint(official_ckpt)


@pytest.fixture
def mixed_float16():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.fixture
def offline_hub(tmp_path, monkeypatch) -> pathlib.Path:
    """An empty Hugging Face cache, used as with `HF_HUB_OFFLINE=1` (huggingface_hub reads
    its settings once, at import): no network; `lay_out_hub_cache` fills it."""
    from huggingface_hub import constants

    cache = tmp_path / "hf_cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


@pytest.fixture(scope="session")
def main_job(tmp_path_factory):
    """The README's main job, run once per session for every worker (tests/main_job.py)."""
    from main_job import run_main_job

    job = run_main_job(tmp_path_factory)
    assert job.returncode == 0, job.stderr[-3000:]
    return job
