"""VTAB-1k, the 19-task benchmark of the BiT paper, as one call (and `bit-vtab`).

`run_vtab` fine-tunes one model on each task with BiT-HyperRule and scores it on the task's
test split; `evaluate_vtab` scores a checkpoint per task as it is (big_transfer's published
VTAB checkpoints among them). The tasks are `bit_keras.data.vtab_tasks`' (task_adaptation's
definitions); a task alone is the data set `vtab:TASK` of `bit-train`.

A top layer of the package, beside `benchmark`: it runs `bit_keras.training`. Its names load
lazily, so that `bit-vtab` parses its flags before TensorFlow loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bit_keras._runtime.lazy_names import lazy_names

__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "TASK_NAMES": "bit_keras.data.vtab_tasks",
        "TASKS": "bit_keras.data.vtab_tasks",
        "VtabConfig": "bit_keras.vtab.config",
        "VtabTask": "bit_keras.data.vtab_tasks",
        "evaluate_vtab": "bit_keras.vtab.suite",
        "run_vtab": "bit_keras.vtab.suite",
    },
)

__all__ = ["TASKS", "TASK_NAMES", "VtabConfig", "VtabTask", "evaluate_vtab", "run_vtab"]

if TYPE_CHECKING:
    from bit_keras.data.vtab_tasks import TASK_NAMES, TASKS, VtabTask
    from bit_keras.vtab.config import VtabConfig
    from bit_keras.vtab.suite import evaluate_vtab, run_vtab
