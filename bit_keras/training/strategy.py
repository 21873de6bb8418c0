"""Choosing a tf.distribute strategy: CPU, one or several GPUs, TPUs, several machines."""

from __future__ import annotations

import re

import tensorflow as tf

from bit_keras.training.config import STRATEGIES
from bit_keras.training.run_lock import tf_config


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
    return sum(len(tasks) for tasks in tf_config().get("cluster", {}).values())


# What TensorFlow's errors say when a collective's peer is gone, and what that means, in the
# order they are told apart (an abort names the heartbeats that caused it).
_LOST_PEER_WORDS = {
    "it stopped sending heartbeats": ("unhealthy", "heartbeat"),
    "its connection was broken": ("Connection reset", "Socket closed", "Broken pipe"),
    "it cannot be reached": ("failed to connect", "Connection refused"),
    "the collectives with it failed": ("Collective ops is aborted",),
}


def is_lost_worker_error(error: tf.errors.OpError) -> bool:
    """Whether `error` says that another task of the cluster is gone."""
    return isinstance(error, tf.errors.UnavailableError) or _why_lost(str(error)) is not None


def _why_lost(message: str) -> str | None:
    return next(
        (why for why, words in _LOST_PEER_WORDS.items() if any(w in message for w in words)),
        None,
    )


def lost_task(message: str, own: str) -> tuple[str | None, str]:
    """`(the lost task in words, why in a few words)` from TensorFlow's error `message`: a
    task it names (`/job:worker/replica:0/task:1` -> `worker 1`) other than `own`
    (`worker0`), or the task whose address it names (TF_CONFIG's cluster); None if neither."""
    named = {
        (job, int(task))
        for job, task in re.findall(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)", message)
    }
    for job, addresses in tf_config().get("cluster", {}).items():
        named.update((job, task) for task, address in enumerate(addresses) if address in message)
    others = sorted(t for t in named if f"{t[0]}{t[1]}" != own)
    lost = f"{others[0][0]} {others[0][1]}" if others else None
    return lost, _why_lost(message) or "the collectives with it failed"
