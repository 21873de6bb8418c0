"""Choosing a tf.distribute strategy: CPU, one or several GPUs, TPUs, several machines."""

from __future__ import annotations

import json
import os

import tensorflow as tf

from bit_keras.training.config import STRATEGIES


def make_strategy(kind: str = "auto", tpu: str | None = None) -> tf.distribute.Strategy:
    """Builds the strategy named by `kind`.

    Args:
        kind: `auto` (TPU when `tpu` is given, multi-worker when TF_CONFIG names several
            tasks, mirrored over several GPUs, else the default strategy), `default` (one
            device), `mirrored` (all local GPUs, or the CPU), `multi_worker`
            (MultiWorkerMirroredStrategy from TF_CONFIG) or `tpu`.
        tpu: TPU address for `tpu` (`""` or `local` for a TPU VM).

    Raises:
        ValueError: an unknown `kind`, or `tpu` without an address.
    """
    if kind not in STRATEGIES:
        raise ValueError(f"Unknown strategy {kind!r}; choose one of {', '.join(STRATEGIES)}.")
    if kind == "auto":
        if tpu is not None:
            kind = "tpu"
        elif _tf_config_tasks() > 1:
            kind = "multi_worker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            kind = "mirrored"
        else:
            kind = "default"
    if kind == "tpu":
        if tpu is None:
            raise ValueError("The tpu strategy needs a TPU address (--tpu, `local` on a TPU VM).")
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if kind == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes checkpoints, logs and the final model."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if (
        resolver is None
        or not resolver.task_type
        or isinstance(strategy, tf.distribute.TPUStrategy)
    ):
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )


def worker_id(strategy: tf.distribute.Strategy) -> str:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return "chief"
    return f"{resolver.task_type}{resolver.task_id}"


def _tf_config_tasks() -> int:
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    return sum(len(tasks) for tasks in config.get("cluster", {}).values())
