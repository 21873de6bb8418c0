"""Shared fixtures: the official-layout checkpoint and its reference outputs in ../shared."""

from __future__ import annotations

import pathlib

import keras
import numpy as np
import pytest

from bit_test_utils import OFFICIAL_CKPT, REFERENCE_IO


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
