"""Runs toy trainings under a given strategy, one after another in this process, and writes
each one's metrics as JSON (for tests).

Usage: python distributed_run.py {default,mirrored,multi_worker} LOGDIR STEPS RECIPE[,RECIPE...]
A RECIPE is `finetune`, `pretrain` (its gradient clipped at most steps), `pretrain_noclip` (the
same without clipping) or `distill` (a student of the official-layout fixture checkpoint); each
runs in LOGDIR/RECIPE and writes `{"recipe": RECIPE, ...its metrics}` to
`LOGDIR/metrics/RECIPE.TASK.json` (TASK: the worker's index, else 0), not to stdout, where a
long line can be cut by another thread's output.
TF_CONFIG configures multi_worker. PRETRAIN_TFDS=NAME:DATA_DIR pre-trains on that prepared TFDS
data set instead of digits.
"""

import json
import os
import pathlib
import sys

import tensorflow as tf

kind, logdir, steps, recipes = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
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


def configured(recipe: str):
    shared = dict(
        model="R14x1",
        weights="none",
        dataset="digits",
        logdir=str(logdir / recipe),
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
        if recipe == "pretrain" and os.environ.get("PRETRAIN_TFDS"):
            name, data_dir = os.environ["PRETRAIN_TFDS"].split(":", 1)
            shared.update(dataset=name, data_dir=data_dir, download=False)
        return PretrainConfig(**shared, base_lr=40, clip_norm=clip_norm), pretrain
    if recipe == "distill":
        # MixUp mixes each replica's batch on its own: no MixUp here, so that one
        # device and two replicas see the same pixels.
        teacher = str(TEACHER)
        return DistillConfig(**shared, teacher=teacher, base_lr=0.003, mixup_alpha=0.0), distill
    assert recipe == "finetune", recipe
    return TrainConfig(**shared, base_lr=0.2, resize=12), train


for recipe in recipes.split(","):
    config, run = configured(recipe)
    metrics, model = run(
        config,
        strategy,
        out=lambda line: print(line, file=sys.stderr, flush=True),
        return_model=True,
    )
    metrics["recipe"] = recipe
    metrics["weights"] = [w.numpy().ravel()[:50].tolist() for w in model.weights]
    metrics["weights_abs_sum"] = float(sum(abs(w.numpy()).sum() for w in model.weights))
    metrics["replicas"] = strategy.num_replicas_in_sync
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {}).get("index", 0)
    path = logdir / "metrics" / f"{recipe}.{task}.json"
    path.parent.mkdir(exist_ok=True)
    path.with_suffix(".tmp").write_text(json.dumps(metrics))
    path.with_suffix(".tmp").rename(path)
