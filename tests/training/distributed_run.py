"""Runs a toy fine-tuning under a given strategy and prints its metrics as JSON (for tests).

Usage: python distributed_run.py {default,mirrored,multi_worker} LOGDIR [STEPS]
TF_CONFIG configures multi_worker.
"""

import json
import sys

import tensorflow as tf

kind, logdir = sys.argv[1], sys.argv[2]
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 4
if kind == "mirrored":
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from bit_keras.training import TrainConfig, train  # noqa: E402

strategy = {
    "default": tf.distribute.get_strategy,
    "mirrored": lambda: tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
    "multi_worker": tf.distribute.MultiWorkerMirroredStrategy,
}[kind]()
config = TrainConfig(
    model="R14x1",
    weights="none",
    dataset="digits",
    logdir=logdir,
    batch_size=8,
    base_lr=0.2,
    steps=steps,
    resize=12,
    crop=8,
    log_every=1,
    checkpoint_every=2,
)
metrics, model = train(
    config, strategy, out=lambda line: print(line, file=sys.stderr, flush=True), return_model=True
)
metrics["weights"] = [w.numpy().ravel()[:50].tolist() for w in model.weights]
metrics["weights_abs_sum"] = float(sum(abs(w.numpy()).sum() for w in model.weights))
metrics["replicas"] = strategy.num_replicas_in_sync
print(json.dumps(metrics))
