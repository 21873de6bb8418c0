"""`tools/data_service.py` (`bit-data-service`) as a user runs it: a dispatcher and a worker on
localhost serve training batches, and stop on Ctrl-C."""

import signal
import socket
import time

import pytest

from bit_keras import data
from bit_test_utils import run_python, start_python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(run, text: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while text not in run.stdout():
        assert run.poll(0.1) is None, run.wait(0)
        assert time.monotonic() < deadline, run.stdout()
    return run.stdout()


def test_a_dispatcher_and_a_worker_serve_batches_then_stop():
    port = _free_port()
    dispatcher = start_python(["tools/data_service.py", "dispatcher", f"--port={port}"])
    worker = None
    try:
        line = _wait_for(dispatcher, "tf.data service dispatcher at grpc://")
        assert f":{port}. Workers: `bit-data-service worker --dispatcher=grpc://" in line
        worker = start_python(
            [
                "tools/data_service.py",
                "worker",
                f"--dispatcher=grpc://127.0.0.1:{port}",
                "--port=0",
                "--address=127.0.0.1:%port%",
            ]
        )
        _wait_for(worker, f"serving grpc://127.0.0.1:{port}")
        batches = data.train_dataset(
            data.digits_source().train_examples(),
            batch_size=4,
            resize=None,
            crop=8,
            num_classes=10,
            mixup_alpha=0.0,
            seed=0,
            data_service=f"grpc://127.0.0.1:{port}",
        )
        images, labels = next(iter(batches))
        assert images.shape == (4, 8, 8, 3) and labels.shape == (4, 10)
    finally:
        for run in (worker, dispatcher):
            if run is not None:
                run.send_signal(signal.SIGINT)
                result = run.wait(60)
                assert result.returncode == 130, result
                assert result.stderr.strip().endswith("bit-data-service: stopped.")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["boss"], "The role must be one of dispatcher, worker. Received: 'boss'"),
        (["worker"], "A worker needs --dispatcher=grpc://HOST:PORT."),
        (["worker", "--dispatcher=localhost:5050"], "must be grpc://HOST:PORT"),
    ],
)
def test_bad_roles_and_addresses_are_one_line(args, message):
    result = run_python(["tools/data_service.py", *args])
    assert result.returncode == 1 and message in result.stderr
