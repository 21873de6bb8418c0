"""The one training loop on tf.distribute: checkpoints, interrupts, exact resume, progress,
TensorBoard, evaluation and the run record, for any recipe (`recipe.Recipe`).

Fine-tuning (`finetuning.train`, `bit-train`) and pre-training (`pretraining.pretrain`,
`bit-pretrain`) hand it their recipe; it knows none of them by name.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import signal
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from bit_keras import data
from bit_keras.atomic_write import save_atomically
from bit_keras.backend_check import require_tensorflow_backend
from bit_keras.stop_requests import StopRequests
from bit_keras.training import report
from bit_keras.training.checkpoints import Checkpoints
from bit_keras.training.config import RunConfig
from bit_keras.training.interrupts import (
    TrainingDivergedError,
    TrainingInterrupted,
    UndecodableImageError,
)
from bit_keras.training.logdir import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    MODEL_FILE,
    PREDICTIONS_FILE,
    REPORT_FILE,
    WORKERS_DIR,
    check_logdir,
    clear_run,
)
from bit_keras.training.progress import Progress
from bit_keras.training.recipe import Recipe
from bit_keras.training.run_lock import RunLock, is_chief_process
from bit_keras.training.strategy import is_chief, make_strategy, worker_id
from bit_keras.training.train_step import make_replica_step

logger = logging.getLogger(__name__)

MAX_CHECKPOINTS = 3
# Without --checkpoint_every: a checkpoint every tenth of the run, and (on one worker) at
# least every ten minutes, so no run of any length can lose all its work.
CHECKPOINTS_PER_RUN = 10
CHECKPOINT_SECONDS = 600


def checkpoint_interval(config: RunConfig, total_steps: int) -> int:
    """Steps between checkpoints: `config.checkpoint_every`, else a tenth of the run."""
    return config.checkpoint_every or max(1, -(-total_steps // CHECKPOINTS_PER_RUN))


def run_recipe(
    config: RunConfig,
    prepare: Callable[[], Recipe],
    strategy: tf.distribute.Strategy | None = None,
    *,
    out=print,
    return_model: bool = False,
):
    """Runs a training recipe; resumes from the last checkpoint in `config.logdir`.

    Everything that can be checked (flags, model name, data set) is checked before anything is
    written: `prepare` checks and loads what the recipe needs and returns it. Restarting the
    same run continues from its last checkpoint with the same step counter, learning rate and
    data: the order of the batches is a function of (seed, step), so on one device a resumed
    run ends with the weights of an uninterrupted one.

    Args:
        config: The run's shared settings (`TrainConfig`, `PretrainConfig`).
        prepare: Builds the recipe (before the strategy and before anything is written).
        strategy: A tf.distribute strategy; by default `config.strategy` builds one.
        out: Where progress lines go.
        return_model: Also return the trained model (every worker has its own copy).

    Returns:
        The final metrics (`step`, the recipe's metric, `train_loss`, `model_path`,
        `loss_history`, ...), and the model when `return_model`.
    """
    require_tensorflow_backend("Training uses tf.distribute and")
    check_logdir(config)
    with RunLock(config.logdir, out, enabled=is_chief_process()):
        return _run_locked(config, prepare, strategy, out=out, return_model=return_model)


def _run_locked(config, prepare, strategy, *, out, return_model):
    recipe = prepare()
    previous_policy = keras.mixed_precision.global_policy()
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy(config.mixed_precision)
    try:
        strategy = strategy or make_strategy(config.strategy, config.tpu)
        replicas = strategy.num_replicas_in_sync
        if config.batch_size % (replicas * config.batch_split):
            raise ValueError(
                f"`batch_size` ({config.batch_size}) must be divisible by the replicas "
                f"({replicas}) times `batch_split` ({config.batch_split})."
            )
        if config.overwrite and is_chief(strategy):
            clear_run(config.logdir)
            out(f"--overwrite: deleted the run in {config.logdir}; starting over.")
        run = _Run(config, recipe, strategy, out)
        metrics = run.run()
        return (metrics, run.model) if return_model else metrics
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


class _Run:
    def __init__(self, config: RunConfig, recipe: Recipe, strategy, out):
        self.config, self.recipe, self.strategy, self.out = config, recipe, strategy, out
        self.chief = is_chief(strategy)
        self.checkpoint_dir = os.path.join(config.logdir, CHECKPOINT_DIR)

        keras.utils.set_random_seed(config.seed)
        with strategy.scope():
            self.model = recipe.build_model()
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.lr_schedule = recipe.learning_rate
            optimizer = recipe.optimizer(lambda: self.lr_schedule(self.step))
            if config.mixed_precision == "mixed_float16":
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            optimizer.build(self.model.trainable_variables)
            self.optimizer = optimizer
        self.checkpoint = tf.train.Checkpoint(
            model=self.model, optimizer=self.optimizer, step=self.step
        )
        self._eval_step = self._make_eval_step()
        self._any_stop = None
        self._finite = None

    # ----------------------------------------------------------------- data
    def _train_iterator(self, start_step: int):
        per_replica = self.config.batch_size // self.strategy.num_replicas_in_sync

        def dataset_fn(context):
            return self.recipe.train_dataset(context, per_replica, start_step)

        return iter(self.strategy.distribute_datasets_from_function(dataset_fn))

    def _eval_batch_size(self) -> int:
        return max(
            1,
            self.config.batch_size // self.strategy.num_replicas_in_sync // self.config.batch_split,
        )

    # ---------------------------------------------------------------- steps
    def _make_train_step(self):
        model, optimizer, strategy = self.model, self.optimizer, self.strategy
        replica_step = make_replica_step(
            model,
            optimizer,
            global_batch=self.config.batch_size,
            loss=self.recipe.loss,
            weight_decay=self.recipe.weight_decay,
            decayed=self.recipe.decayed(model) if self.recipe.weight_decay else (),
            clip_norm=self.recipe.clip_norm,
            batch_split=self.config.batch_split,
            jit_compile=self.config.jit_compile,
        )

        @tf.function
        def train_step(iterator):
            images, labels = next(iterator)
            losses = strategy.run(replica_step, args=(images, labels))
            loss = strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)
            # After the step: a batch that fails to arrive (an image that does not decode)
            # leaves the counter where the weights are.
            with tf.control_dependencies([loss]):
                self.step.assign_add(1)
            return loss

        return train_step

    def _make_eval_step(self):
        model, strategy = self.model, self.strategy

        evaluate = self.recipe.evaluate

        def replica_eval(images, labels, mask):
            return {**evaluate(model, images, labels, mask), "count": tf.reduce_sum(mask)}

        @tf.function
        def eval_step(iterator):
            sums = strategy.run(replica_eval, args=next(iterator))
            return {
                key: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                for key, value in sums.items()
            }

        return eval_step

    def evaluate(self) -> tuple[float, dict[str, float]]:
        """The recipe's metric on its evaluation split, and its other counts as rates
        (`test_<key>`: a distillation's teacher accuracy and agreement)."""
        batch, size = self._eval_batch_size(), self.recipe.eval_size
        contexts = []

        def dataset_fn(context):
            contexts.append(context)
            return self.recipe.eval_dataset(context, batch)

        dist = self.strategy.distribute_datasets_from_function(dataset_fn)
        pipelines = contexts[0].num_input_pipelines
        steps = data.eval_steps(
            size, batch, pipelines, self.strategy.num_replicas_in_sync // pipelines
        )
        iterator, totals = iter(dist), {}
        for _ in range(steps):
            for key, value in self._eval_step(iterator).items():
                totals[key] = totals.get(key, 0.0) + float(value)
        if int(totals["count"]) != size:
            raise RuntimeError(f"Evaluated {int(totals['count'])} examples, expected {size}.")
        others = {
            f"test_{key}": value / totals["count"]
            for key, value in totals.items()
            if key not in ("hits", "count")
        }
        return totals["hits"] / totals["count"], others

    # ----------------------------------------------------------------- run
    def run(self) -> dict:
        config, recipe = self.config, self.recipe
        total = recipe.total_steps
        metric, metric_words = recipe.metric
        checkpoints = Checkpoints(
            self.checkpoint,
            self.checkpoint_dir if self.chief else self._worker_dir(),
            MAX_CHECKPOINTS,
            self.out,
        )
        # Under --overwrite the chief deleted the old run; the other workers must not read it.
        # Every worker resumes from the chief's checkpoints (the chief's own `checkpoints`).
        chiefs = (
            checkpoints
            if self.chief
            else Checkpoints(self.checkpoint, self.checkpoint_dir, MAX_CHECKPOINTS, self.out)
        )
        latest = None if config.overwrite else chiefs.restore(self._restore, set_aside=self.chief)
        if latest:
            self.out(f"Resumed from {latest} at step {int(self.step.numpy())}.")
        else:
            self.out(f"No checkpoint in {self.checkpoint_dir}: training from the start.")
        start = int(self.step.numpy())
        self.out(self._describe(start))

        writer = (
            tf.summary.create_file_writer(config.logdir)
            if self.chief
            else tf.summary.create_noop_writer()
        )
        train_step = self._make_train_step()
        iterator = self._train_iterator(start)
        progress = Progress(total, start, config.batch_size, self.out)
        every = checkpoint_interval(config, total)
        # Saves on a timer would differ between workers, and every worker must save together.
        timed = not self._multi_worker
        saved_at = time.monotonic()
        loss, history = float("nan"), {}
        with writer.as_default(), StopRequests(self.out) as stop:
            for step in range(start + 1, total + 1):
                lr = float(self.lr_schedule(step - 1))
                try:
                    loss = float(train_step(iterator))
                except tf.errors.OpError as e:
                    path = data.undecodable_image(e)
                    if path is None:
                        raise
                    raise self._undecodable(path, step, start, checkpoints, loss, lr) from None
                if not np.isfinite(loss):
                    raise self._diverged(step, loss, lr, checkpoints.latest)
                progress.update(step, loss, lr)
                if step % config.log_every == 0 or step == total:
                    history[step] = loss
                    tf.summary.scalar("train/loss", loss, step=step)
                    tf.summary.scalar("train/learning_rate", lr, step=step)
                    tf.summary.scalar(
                        "train/images_per_second", progress.images_per_second, step=step
                    )
                if config.eval_every and step % config.eval_every == 0 and step != total:
                    value, others = self.evaluate()
                    _log_scalars({metric: value, **others}, step)
                    self.out(f"step {step}: {metric_words} {value:.4f}{_in_words(others)}")
                if step == total:
                    break
                stopping = self._stop_requested(stop)
                due = step % every == 0 or (
                    timed and time.monotonic() - saved_at > CHECKPOINT_SECONDS
                )
                if due or stopping:
                    path = self._save(checkpoints, step, loss, lr)
                    saved_at = time.monotonic()
                if stopping:
                    writer.flush()
                    interrupted = TrainingInterrupted(
                        stop.signum or signal.SIGTERM,
                        step,
                        path if self.chief else None,
                        rerun=" without --overwrite" if config.overwrite else "",
                    )
                    self.out(str(interrupted))
                    raise interrupted
            value, others = self.evaluate()
            _log_scalars({metric: value, **others}, total)
        writer.flush()
        trained = start < total
        if trained:
            self._save(checkpoints, total, loss, lr)
        if not self.chief:
            shutil.rmtree(self._worker_dir(), ignore_errors=True)

        model_path = os.path.join(config.logdir, MODEL_FILE)
        metrics = {
            "step": total,
            metric: value,
            "test_examples": recipe.eval_size,
            "train_loss": loss,
            "model_path": model_path,
            "loss_history": history,
            **others,
        }
        # A restart of a finished run trains nothing: keep the files (and metrics) it wrote.
        outputs, written = [], False
        if self.chief and (trained or not os.path.exists(model_path)):
            written = True
            save_atomically(model_path, self.model.save)
            outputs = recipe.write_outputs(self.model, config.logdir)
            self._write_record(
                metrics=metrics,
                outputs=[MODEL_FILE, *(os.path.basename(p) for p in outputs)],
            )
        words = metric_words[0].upper() + metric_words[1:]
        self.out(f"{words} {value:.4f} on {recipe.eval_size} examples{_in_words(others)}.")
        if self.chief:
            self.out(f"Saved the model to {model_path}")
            for path in outputs:
                self.out(f"Wrote {path}")
            if written or not os.path.exists(os.path.join(config.logdir, REPORT_FILE)):
                self._report()
        return metrics

    def _report(self) -> None:
        # The test split's predictions (kept for tools/report.py), then the report. A report
        # that cannot be written costs one line; the run itself is complete.
        logdir = self.config.logdir
        try:
            batches = self.recipe.eval_dataset(None, self._eval_batch_size())
            report.test_predictions(self.model, batches).save(
                os.path.join(logdir, PREDICTIONS_FILE)
            )
            report.write_report(logdir, self.out)
        except Exception as e:
            self.out(
                f"WARNING: the run's report was not written ({type(e).__name__}: "
                f"{str(e).splitlines()[0][:300] if str(e) else ''}); the run itself is "
                f"complete. `python tools/report.py {logdir}` tries again."
            )

    def _save(self, checkpoints: Checkpoints, step: int, loss: float, lr: float) -> str:
        # Only finite weights are saved: every checkpoint kept is one a rerun can go on from.
        if not self._all_finite():
            raise self._diverged(step, loss, lr, checkpoints.latest, weights=True)
        return checkpoints.save(step)

    def _undecodable(self, path, step, start, checkpoints, loss, lr) -> UndecodableImageError:
        # The batch of `step` held a file that does not decode: its step did not run. The
        # steps before it are saved, as an interrupt saves them, and the run ends.
        saved = checkpoints.latest
        if step - 1 > start:
            saved = self._save(checkpoints, step - 1, loss, lr)
        rerun = " without --overwrite" if self.config.overwrite else ""
        return UndecodableImageError(path, step, saved if self.chief else None, rerun=rerun)

    def _restore(self, path: str) -> None:
        try:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        except (ValueError, AssertionError, tf.errors.OpError) as e:
            raise ValueError(
                f"The checkpoint {path} does not fit this model (another run's?): pass a new "
                f"--logdir, or --overwrite to start over there. "
                f"({str(e).splitlines()[0][:200]})"
            ) from e

    def _all_finite(self) -> bool:
        # The model's and the optimizer's variables (what a checkpoint holds), on the device.
        if self._finite is None:
            variables = [
                v
                for v in [*self.model.weights, *self.optimizer.variables]
                if "float" in str(v.dtype)
            ]

            @tf.function
            def finite():
                return tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in variables])

            self._finite = finite
        return bool(self._finite())

    def _write_record(self, **entries) -> None:
        # The run's config.json: its settings, the recipe's record, and how it ended.
        record = {
            "recipe": self.recipe.kind,
            "config": dataclasses.asdict(self.config),
            **self.recipe.record,
            **entries,
        }
        save_atomically(
            os.path.join(self.config.logdir, CONFIG_FILE),
            lambda path: _write_json(path, record),
        )

    def _diverged(
        self, step: int, loss: float, lr: float, checkpoint, *, weights: bool = False
    ) -> TrainingDivergedError:
        # The weights are not finite any more: nothing of them is saved; the run record says
        # how the run ended and the last checkpoint stays for a rerun with other settings.
        c = self.config
        advice = f"Try a lower --base_lr (now {c.base_lr:g})"
        if c.mixed_precision:
            advice += f", or --mixed_precision off (now {c.mixed_precision})"
        advice += (
            "; then run again to resume from the checkpoint, or with --overwrite to start over."
        )
        error = TrainingDivergedError(
            step, loss, lr, checkpoint if self.chief else None, advice=advice, weights=weights
        )
        if self.chief:
            self._write_record(
                failure={
                    "kind": "diverged",
                    "non_finite": "weights" if weights else "loss",
                    "step": step,
                    "loss": str(loss),
                    "learning_rate": lr,
                    "checkpoint": checkpoint,
                    "message": str(error),
                }
            )
        return error

    @property
    def _multi_worker(self) -> bool:
        return isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)

    def _stop_requested(self, stop: StopRequests) -> bool:
        # A signal reaches one worker; all of them must stop (and save) at the same step.
        if not self._multi_worker:
            return stop.signum is not None
        if self._any_stop is None:

            @tf.function
            def any_stop(flag):
                per_replica = self.strategy.run(lambda f: f, args=(flag,))
                return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

            self._any_stop = any_stop
        return float(self._any_stop(tf.constant(float(stop.signum is not None)))) > 0

    def _worker_dir(self) -> str:
        return os.path.join(self.config.logdir, WORKERS_DIR, worker_id(self.strategy))

    def _describe(self, start: int) -> str:
        c = self.config
        return (
            f"{self.recipe.kind} {c.model} (weights: {c.weights}) on {c.dataset}: "
            f"{self.recipe.settings}; random flips {'on' if c.random_flip else 'off'}; "
            f"{self.strategy.num_replicas_in_sync} replica(s) ({type(self.strategy).__name__}); "
            f"starting at step {start}."
        )


def _log_scalars(metrics: dict[str, float], step: int) -> None:
    """TensorBoard scalars `test/<name>` of `test_<name>` metrics."""
    for key, value in metrics.items():
        tf.summary.scalar("test/" + key.removeprefix("test_"), value, step=step)


def _in_words(others: dict[str, float]) -> str:
    """A recipe's other metrics in words: `; teacher accuracy 0.9812; agreement ...`."""
    return "".join(
        f"; {key.removeprefix('test_').replace('_', ' ')} {value:.4f}"
        for key, value in others.items()
    )


def _write_json(path: str, record: dict) -> None:
    with open(path, "w") as f:
        json.dump(record, f, indent=2, default=str)
        f.write("\n")
