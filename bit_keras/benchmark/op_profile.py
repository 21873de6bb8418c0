"""Time by op type of a TensorFlow function, read from the TensorFlow profiler's trace."""

from __future__ import annotations

import collections
import glob
import os
import tempfile
from collections.abc import Callable

import tensorflow as tf


def op_profile(fn: Callable[[], object], calls: int = 3) -> dict[str, tuple[float, int]]:
    """Runs `fn` `calls` times under the TensorFlow profiler; returns time by op type.

    `fn` should run a `tf.function` (call it once before, to trace it) and wait for its
    result. Returns `{op type: (milliseconds per call, ops per call)}`, largest first: the
    summed durations of the executor's op events (ops that run in parallel all count, so
    the total can exceed the wall time). oneDNN's fused kernels show under their own names
    (`_MklNativeFusedConv2D`: a convolution with its bias, BatchNorm or ReLU folded in).
    """
    # The trace's protobuf ships with TensorFlow (tensorflow/tsl/profiler/protobuf).
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            for _ in range(calls):
                fn()
        finally:
            tf.profiler.experimental.stop()
        paths = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
        space = xplane_pb2.XSpace()
        with open(paths[0], "rb") as f:
            space.ParseFromString(f.read())

    picoseconds, counts = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):  # the executor's threads
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name or "::" in name:  # "node:OpType"; not executor events
                    continue
                op_type = name.rsplit(":", 1)[1]
                picoseconds[op_type] += event.duration_ps
                counts[op_type] += 1
    return {op: (ps / 1e9 / calls, counts[op] // calls) for op, ps in picoseconds.most_common()}


def format_op_profile(title: str, profile: dict[str, tuple[float, int]], top: int = 12) -> str:
    """The `top` op types of an `op_profile` as a text table, with the total."""
    total = sum(ms for ms, _ in profile.values())
    lines = [f"{title}: {total:.1f} ms of op time per call"]
    for op, (ms, count) in list(profile.items())[:top]:
        lines.append(f"  {op:32s} {ms:9.1f} ms {100 * ms / total:5.1f}%  {count:4d} ops")
    return "\n".join(lines)
