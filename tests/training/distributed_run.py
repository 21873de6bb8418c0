"""Runs a toy fine-tuning under a given strategy and prints its metrics as JSON (for tests).

Usage: python distributed_run.py {default,mirrored,multi_worker} LOGDIR [STEPS [RECIPE]]
RECIPE is `finetune` (default), `pretrain` (its gradient clipped at most steps),
`pretrain_noclip` (the same without clipping) or `distill` (a student of the official-layout
fixture checkpoint).
TF_CONFIG configures multi_worker.
"""

import json
import pathlib
import sys

import tensorflow as tf

kind, logdir = sys.argv[1], sys.argv[2]
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 4
recipe = sys.argv[4] if len(sys.argv) > 4 else "finetune"
if kind == "mirrored":
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from bit_keras.training import (  # noqa: E402
    DistillConfig,
    PretrainConfig,
    TrainConfig,
    distill,
    pretrain,
    train,
)

TEACHER = (
    pathlib.Path(__file__).resolve().parents[3]
    / "shared/fixtures/bit_official_layout/bit_r14x1_head10_official_layout.npz"
)

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
    report=False,
)
if recipe in ("pretrain", "pretrain_noclip"):
    # A bound far below the gradient's norm: every step is clipped, so a clip of each
    # replica's share instead of the global gradient would change the run.
    clip_norm = 0.05 if recipe == "pretrain" else 0.0
    config, run = PretrainConfig(**shared, base_lr=40, clip_norm=clip_norm), pretrain
elif recipe == "distill":
    # MixUp mixes each replica's batch on its own: no MixUp here, so that one
    # device and two replicas see the same pixels.
    teacher = str(TEACHER)
    config = DistillConfig(**shared, teacher=teacher, base_lr=0.003, mixup_alpha=0.0)
    run = distill
else:
    config, run = TrainConfig(**shared, base_lr=0.2, resize=12), train
metrics, model = run(
    config, strategy, out=lambda line: print(line, file=sys.stderr, flush=True), return_model=True
)
metrics["weights"] = [w.numpy().ravel()[:50].tolist() for w in model.weights]
metrics["weights_abs_sum"] = float(sum(abs(w.numpy()).sum() for w in model.weights))
metrics["replicas"] = strategy.num_replicas_in_sync
print(json.dumps(metrics))
