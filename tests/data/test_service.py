"""The tf.data service: a dispatcher and a worker on localhost make the training batches."""

import socket
import time

import pytest
import tensorflow as tf

from bit_keras import data
from bit_keras.data.service import check_address, check_dispatcher
from bit_keras.training import train
from bit_test_utils import tiny_train_config


@pytest.fixture(scope="module")
def service():
    """A dispatcher and one worker in this process; the dispatcher's address."""
    dispatcher = tf.data.experimental.service.DispatchServer(
        tf.data.experimental.service.DispatcherConfig(port=0)
    )
    worker = tf.data.experimental.service.WorkerServer(
        tf.data.experimental.service.WorkerConfig(
            dispatcher_address=dispatcher.target.split("://")[1], port=0
        )
    )
    yield dispatcher.target
    worker.stop()
    dispatcher.stop()


def test_served_batches_hold_the_same_examples_each_once(service):
    source = data.digits_source()
    kwargs = dict(batch_size=16, resize=None, crop=8, num_classes=10, mixup_alpha=0.0, seed=1)
    steps = source.train_size // 16  # one epoch
    here = data.train_dataset(source.train_examples(), **kwargs).take(steps)
    there = data.train_dataset(source.train_examples(), data_service=service, **kwargs)
    mine = sorted(tuple(x.numpy().ravel()[:32]) for b, _ in here for x in b)
    served = sorted(tuple(x.numpy().ravel()[:32]) for b, _ in there.take(steps) for x in b)
    assert served == mine  # the same crops of the same examples (one worker: in order too)


def test_a_run_through_the_service(service, tmp_path):
    lines = []
    config = tiny_train_config(tmp_path, steps=3, data_service=service)
    metrics = train(config, out=lines.append)
    assert metrics["step"] == 3
    assert any(f"batches from the tf.data service at {service}" in line for line in lines)


def test_an_address_nobody_answers_is_one_error_within_seconds(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free: nobody listens
    began = time.monotonic()
    with pytest.raises(
        ValueError, match=f"No tf.data service dispatcher answers at grpc://127.0.0.1:{port}"
    ):
        train(tiny_train_config(tmp_path, data_service=f"grpc://127.0.0.1:{port}"), out=print)
    assert time.monotonic() - began < 10
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "address", ["localhost:5000", "grpc://host", "grpc://h:99999", "http://h:1"]
)
def test_a_malformed_address_is_named(address):
    with pytest.raises(ValueError, match="must be grpc://HOST:PORT"):
        check_address(address)
    with pytest.raises(ValueError, match="must be grpc://HOST:PORT"):
        tiny_train_config("unused", data_service=address)


def test_sources_the_workers_cannot_run_are_refused():
    ds = tf.data.Dataset.from_tensor_slices(([[[[0]]]], [0]))
    with pytest.raises(ValueError, match="one stream"):
        data.train_dataset(
            ds,
            batch_size=1,
            resize=None,
            crop=1,
            num_classes=1,
            mixup_alpha=0,
            seed=0,
            data_service="grpc://localhost:1",
        )


def test_check_dispatcher_accepts_a_listener(service):
    check_dispatcher(service)
