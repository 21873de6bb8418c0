"""Loading official BiT `.npz` checkpoints into bit_keras models, all or nothing."""

from __future__ import annotations

import logging
import os

import keras
import numpy as np

from bit_keras.checkpoint import layout
from bit_keras.checkpoint.npz_file import CheckpointError, read_npz

logger = logging.getLogger(__name__)

# At most this many problems are listed in one error message.
_MAX_LISTED = 20


def load_official_weights(
    model: keras.Model, path: str | os.PathLike, *, strict: bool = True
) -> None:
    """Loads an official BiT `.npz` checkpoint into a bit_keras model.

    Every array is checked before any variable is written, so a failed load leaves the model
    as it was. The head is loaded when the model's `classes` equal the checkpoint's head size;
    otherwise the model's head is set to zeros (BiT's new head for transfer) and a log line
    says so. Without a top, the checkpoint's head is not used.

    Args:
        model: A model built by bit_keras.
        path: Path of the `.npz` file.
        strict: When True (default), a missing or unexpected key, a wrong shape or a dtype
            other than float32 raises. When False, those arrays are skipped with a warning
            and the rest is loaded.

    Raises:
        CheckpointError: the file does not fit the model (each problem named with the key,
            expected and found), or cannot be read.
        FileNotFoundError: `path` does not exist.
    """
    path = os.fspath(path)
    arrays = layout.canonical_keys(read_npz(path), path)
    load_official_arrays(model, arrays, strict=strict, source=path)


def load_official_arrays(
    model: keras.Model,
    arrays: dict[str, np.ndarray],
    *,
    strict: bool = True,
    source: str = "<arrays>",
) -> None:
    """Like `load_official_weights`, from arrays already read (`read_npz`).

    Args:
        model: A model built by bit_keras.
        arrays: Checkpoint key to array.
        strict: See `load_official_weights`.
        source: Where the arrays come from, for messages.
    """
    variables = layout.official_variables(model)
    head_in_model = layout.HEAD_KERNEL in variables
    plan: list[tuple[keras.Variable, np.ndarray]] = []
    problems: list[str] = []

    ignored = set()
    if head_in_model:
        head_plan, head_problems = _plan_head(variables, arrays)
        plan += head_plan
        problems += head_problems
        ignored = set(layout.HEAD_KEYS)
    else:
        ignored = set(layout.HEAD_KEYS) & set(arrays)
        if ignored:
            logger.info("Model %r has no top: the checkpoint's head is not loaded.", model.name)

    for key, variable in variables.items():
        if key in layout.HEAD_KEYS:
            continue
        if key not in arrays:
            problems.append(
                f"missing key {key!r} (expected shape "
                f"{layout.checkpoint_shape(key, tuple(variable.shape))}, float32)"
            )
            continue
        value, problem = _checked(key, arrays[key], variable)
        if problem:
            problems.append(problem)
        else:
            plan.append((variable, value))
    problems += [
        f"unexpected key {key!r} (shape {arrays[key].shape}): the model has no variable for it"
        for key in arrays
        if key not in variables and key not in ignored
    ]

    if problems:
        listed = "\n  ".join(problems[:_MAX_LISTED])
        more = (
            f"\n  ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
        )
        message = (
            f"Checkpoint {source!r} does not fit model {model.name!r} "
            f"({len(problems)} problem(s)):\n  {listed}{more}"
        )
        if strict:
            raise CheckpointError(message + "\nNothing was loaded.")
        logger.warning("%s\nLoading the %d arrays that fit (strict=False).", message, len(plan))
    _assign_all(plan)
    logger.info("Loaded %d arrays from %s into %r.", len(plan), source, model.name)


def _checked(key: str, array: np.ndarray, variable) -> tuple[np.ndarray | None, str | None]:
    expected = layout.checkpoint_shape(key, tuple(variable.shape))
    if array.shape != expected:
        return None, f"{key!r}: expected shape {expected}, found {array.shape}"
    if array.dtype != np.float32:
        return None, f"{key!r}: expected dtype float32, found {array.dtype}"
    return array.reshape(tuple(variable.shape)), None


def _plan_head(variables, arrays):
    kernel_var, bias_var = variables[layout.HEAD_KERNEL], variables[layout.HEAD_BIAS]
    classes = int(kernel_var.shape[-1])
    present = [key for key in layout.HEAD_KEYS if key in arrays]
    zeros = [
        (kernel_var, np.zeros(kernel_var.shape, np.float32)),
        (bias_var, np.zeros(bias_var.shape, np.float32)),
    ]
    if not present:
        logger.info("The checkpoint has no head: a new zero-initialised %d-class head.", classes)
        return zeros, []
    if len(present) == 1:
        missing = next(key for key in layout.HEAD_KEYS if key not in arrays)
        return [], [f"missing key {missing!r}: the checkpoint has only half a head"]
    kernel, bias = arrays[layout.HEAD_KERNEL], arrays[layout.HEAD_BIAS]
    found_classes = int(kernel.shape[-1]) if kernel.ndim == 4 else None
    if (
        kernel.ndim == 4
        and kernel.shape[:3] == (1, 1, kernel_var.shape[0])
        and bias.shape == (found_classes,)
        and found_classes != classes
    ):
        logger.info(
            "The checkpoint's head has %d classes and the model's %d: the head is not loaded; "
            "a new zero-initialised %d-class head is used, as BiT does for transfer.",
            found_classes,
            classes,
            classes,
        )
        return zeros, []
    plan, problems = [], []
    for key, variable in ((layout.HEAD_KERNEL, kernel_var), (layout.HEAD_BIAS, bias_var)):
        value, problem = _checked(key, arrays[key], variable)
        if problem:
            problems.append(problem)
        else:
            plan.append((variable, value))
    return plan, problems


def _assign_all(plan) -> None:
    # Every value was checked against its variable's shape and dtype: these cannot fail.
    for variable, value in plan:
        variable.assign(value)
