r"""Runs a tf.data service dispatcher or worker on this machine, for training whose input
needs more CPUs than the training hosts have (`bit-train`, `bit-pretrain`, `bit-distill`
with --data_service=grpc://HOST:PORT). It serves until Ctrl-C or SIGTERM.

The service's workers run the training pipelines (reading, decoding, augmenting) and send
batches to the training workers: more input at the price of the exact order and exact
resume (README "Input at scale").

Examples (one dispatcher; as many workers as needed, on machines that can read the data):
    bit-data-service dispatcher --port=5050 --work_dir=gs://BUCKET/data_service
    bit-data-service worker --dispatcher=grpc://DISPATCHER_HOST:5050 --port=5051
    bit-pretrain ... --data_service=grpc://DISPATCHER_HOST:5050
"""

from __future__ import annotations

import socket
import time

from absl import flags

from bit_keras.programs.runner import run, start

PROGRAM = "bit-data-service"
ROLES = ("dispatcher", "worker")

_PORT = flags.DEFINE_integer(
    "port", 5050, "Port to serve on (a worker: 0 takes any free one).", lower_bound=0
)
_DISPATCHER = flags.DEFINE_string(
    "dispatcher", None, "A worker's dispatcher: grpc://HOST:PORT (required for a worker)."
)
_WORK_DIR = flags.DEFINE_string(
    "work_dir",
    None,
    "A dispatcher's journal (any filesystem TensorFlow writes): a dispatcher restarted with "
    "the same --work_dir and --port carries on with its jobs.",
)
_ADDRESS = flags.DEFINE_string(
    "address",
    None,
    "How the training hosts reach this worker: HOST:PORT (%port% stands for the port it "
    "serves on). Default: this host's name and that port.",
)


def _check(role: str) -> tuple[str]:
    from bit_keras.data.service import check_address

    if role not in ROLES:
        raise ValueError(f"The role must be one of {', '.join(ROLES)}. Received: {role!r}")
    if role == "worker":
        if not _DISPATCHER.value:
            raise ValueError("A worker needs --dispatcher=grpc://HOST:PORT.")
        check_address(_DISPATCHER.value)
    elif _DISPATCHER.value:
        raise ValueError("--dispatcher is a worker's flag; a dispatcher is the one it names.")
    return (role,)


def _serve(role: str) -> None:
    from bit_keras.data import service

    host = socket.gethostname()
    if role == "dispatcher":
        server = service.start_dispatcher(_PORT.value, _WORK_DIR.value)
        port = server.target.rsplit(":", 1)[1]
        print(
            f"tf.data service dispatcher at grpc://{host}:{port}"
            + (f", journal in {_WORK_DIR.value}" if _WORK_DIR.value else "")
            + f". Workers: `{PROGRAM} worker --dispatcher=grpc://{host}:{port}`; training: "
            f"--data_service=grpc://{host}:{port}. Ctrl-C stops it.",
            flush=True,
        )
    else:
        address = _ADDRESS.value or f"{host}:%port%"
        server = service.start_worker(_DISPATCHER.value, _PORT.value, address)
        where = address.replace("%port%", str(_PORT.value) if _PORT.value else "a free port")
        print(
            f"tf.data service worker at {where}, serving {_DISPATCHER.value}. Ctrl-C stops it.",
            flush=True,
        )
    while True:  # the server runs in its own threads; Ctrl-C and SIGTERM end this wait
        time.sleep(3600)


def main() -> None:
    """The `bit-data-service` command (and tools/data_service.py)."""
    start(
        __name__,
        lambda role: run(PROGRAM, lambda: _check(role), _serve, interrupted="stopped."),
        arguments="the role, `dispatcher` or `worker`",
    )
