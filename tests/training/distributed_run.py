"""Runs a toy fine-tuning under a given strategy and prints its metrics as JSON (for tests).

Usage: python distributed_run.py {default,mirrored,multi_worker} LOGDIR [STEPS [RECIPE]]
RECIPE is `finetune` (default), `pretrain` (its gradient clipped at most steps) or
`pretrain_noclip` (the same without clipping).
TF_CONFIG configures multi_worker.
"""

import json
import sys

import tensorflow as tf

kind, logdir = sys.argv[1], sys.argv[2]
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 4
recipe = sys.argv[4] if len(sys.argv) > 4 else "finetune"
if kind == "mirrored":
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from bit_keras.training import PretrainConfig, TrainConfig, pretrain, train  # noqa: E402

strategy = {
    "default": tf.distribute.get_strategy,
    "mirrored": lambda: tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
    "multi_worker": tf.distribute.MultiWorkerMirroredStrategy,
}[kind]()
shared = dict(
    model="R14x1",
    weights="none",
    dataset="digits",
    logdir=logdir,
    batch_size=8,
    steps=steps,
    crop=8,
    log_every=1,
    checkpoint_every=2,
)
if recipe == "pretrain":
    # A bound far below the gradient's norm: every step is clipped, so a clip of each
    # replica's share instead of the global gradient would change the run.
    config, run = PretrainConfig(**shared, base_lr=40, clip_norm=0.05), pretrain
else:
    config, run = TrainConfig(**shared, base_lr=0.2, resize=12), train
metrics, model = run(
    config, strategy, out=lambda line: print(line, file=sys.stderr, flush=True), return_model=True
)
metrics["weights"] = [w.numpy().ravel()[:50].tolist() for w in model.weights]
metrics["weights_abs_sum"] = float(sum(abs(w.numpy()).sum() for w in model.weights))
metrics["replicas"] = strategy.num_replicas_in_sync
print(json.dumps(metrics))
