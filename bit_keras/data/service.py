"""The tf.data service: a training pipeline's work done by other machines' CPUs.

When one host's CPUs cannot keep its accelerators fed (8 GPUs on one machine), the input
pipeline can run on a tf.data service: a dispatcher (`bit-data-service dispatcher`) and any
number of workers (`bit-data-service worker`) on other machines, from which each training
worker reads its batches. The pipeline's source (the epochs of its examples) is shared out
between the service's workers as they ask for it (`ShardingPolicy.DYNAMIC`): every example of
an epoch is used once, but batches arrive in the order the workers finish them, so the run
is no longer exactly repeatable, and a resume starts at the right epoch, not at the exact
example. Use it for throughput, not for bit-exact runs.
"""

from __future__ import annotations

import re
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loads no TensorFlow until a pipeline is served: configs check addresses
    import tensorflow as tf

# `grpc://HOST:PORT`, the dispatcher's address as tf.data names it.
ADDRESS = re.compile(r"^grpc://(?P<host>[^:/\s]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})$")
# How long a dispatcher that does not answer is waited for, in seconds.
CONNECT_SECONDS = 10.0


def check_address(address: str) -> tuple[str, int]:
    """`(host, port)` of a `grpc://HOST:PORT` address; ValueError naming the form otherwise."""
    match = ADDRESS.match(address)
    if not match or not 0 < int(match["port"]) < 65536:
        raise ValueError(
            f"--data_service must be grpc://HOST:PORT, the tf.data service dispatcher's "
            f"address. Received: {address!r}"
        )
    return match["host"].strip("[]"), int(match["port"])


def check_dispatcher(address: str, timeout: float = CONNECT_SECONDS) -> None:
    """Raises ValueError, within `timeout` seconds, unless something accepts connections at
    the dispatcher's address (tf.data itself would retry for ever)."""
    host, port = check_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as e:
        raise ValueError(
            f"No tf.data service dispatcher answers at {address} (--data_service) within "
            f"{timeout:g} s ({e.strerror or type(e).__name__}): start one there "
            f"(`bit-data-service dispatcher --port={port}`) and its workers, or drop "
            "--data_service."
        ) from e


def served(dataset: tf.data.Dataset, address: str) -> tf.data.Dataset:
    """`dataset` made by the service at `address`: its source shared out between the
    service's workers as they ask (each element once), in a job of this pipeline's own."""
    import tensorflow as tf

    return dataset.apply(
        tf.data.experimental.service.distribute(
            processing_mode=tf.data.experimental.service.ShardingPolicy.DYNAMIC,
            service=address,
        )
    )


def start_dispatcher(port: int, work_dir: str | None = None):
    """Starts a tf.data service dispatcher on `port` of this host (its server object).

    With `work_dir` (any filesystem TensorFlow writes, `gs://` too) it journals its state
    there, so that a dispatcher restarted with the same `work_dir` and port carries on with
    the jobs its workers and clients had (tf.data's fault-tolerant mode).
    """
    import tensorflow as tf

    config = tf.data.experimental.service.DispatcherConfig(
        port=port, work_dir=work_dir, fault_tolerant_mode=work_dir is not None
    )
    return tf.data.experimental.service.DispatchServer(config)


def start_worker(dispatcher: str, port: int = 0, address: str | None = None):
    """Starts a tf.data service worker on `port` of this host (0: any free one), serving the
    dispatcher at `dispatcher` (`grpc://HOST:PORT`); `address` is how the training workers
    reach it (`HOST:PORT`; default this host's name and the port)."""
    import tensorflow as tf

    host, dispatcher_port = check_address(dispatcher)
    config = tf.data.experimental.service.WorkerConfig(
        dispatcher_address=f"{host}:{dispatcher_port}",
        port=port,
        worker_address=address,
    )
    return tf.data.experimental.service.WorkerServer(config)
