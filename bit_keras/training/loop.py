"""The one training loop on tf.distribute: checkpoints, interrupts, exact resume, progress,
TensorBoard, evaluation and the run record, for any recipe (`recipe.Recipe`).

Fine-tuning (`finetuning.train`, `bit-train`), pre-training (`pretraining.pretrain`,
`bit-pretrain`) and distillation (`distillation.distill`, `bit-distill`) hand it their recipe;
it knows none of them by name, and no metric, flag or task: the recipe builds the model, the
optimizer, the loss and the evaluation (`recipe.Parts`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from bit_keras._runtime import files
from bit_keras._runtime.atomic_write import save_atomically
from bit_keras._runtime.backend_check import require_tensorflow_backend
from bit_keras._runtime.stop_requests import SIGNALS, StopRequests
from bit_keras.data.image_check import undecodable_image
from bit_keras.data.pipeline import eval_steps
from bit_keras.data.record_files import damaged_file
from bit_keras.data.service import check_dispatcher
from bit_keras.training import report
from bit_keras.training.checkpoints import Checkpoints
from bit_keras.training.config import RunConfig
from bit_keras.training.interrupts import (
    DamagedFileError,
    TrainingDivergedError,
    TrainingInterrupted,
    UndecodableImageError,
    WorkerLostError,
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
    read_record,
    write_json,
)
from bit_keras.training.progress import Progress
from bit_keras.training.recipe import Recipe
from bit_keras.training.run_lock import RunLock, is_chief_process
from bit_keras.training.strategy import (
    is_chief,
    is_lost_worker_error,
    lost_task,
    make_strategy,
    worker_id,
)
from bit_keras.training.train_step import make_replica_step

logger = logging.getLogger(__name__)

MAX_CHECKPOINTS = 3
# The loop's own keys in an evaluation step's outputs, beside the evaluation's names.
_COUNT, _MASK = "__count__", "__mask__"
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
        config: The run's shared settings (`RunConfig`: `TrainConfig`, `PretrainConfig`, ...).
        prepare: Builds the recipe (before the strategy and before anything is written).
        strategy: A tf.distribute strategy; by default `config.strategy` builds one.
        out: Where progress lines go.
        return_model: Also return the trained model (every worker has its own copy).

    Returns:
        The final metrics (`step`, the evaluation's `test_<name>` rates, `test_examples`,
        `train_loss`, `model_path`, `loss_history`), and the model when `return_model`.
    """
    require_tensorflow_backend("Training uses tf.distribute and")
    check_logdir(config)
    if config.data_service:
        check_dispatcher(config.data_service)
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
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.lr_schedule = recipe.learning_rate
            self.parts = recipe.build(lambda: self.lr_schedule(self.step))
            self.model, self.evaluation = self.parts.model, self.parts.evaluation
            optimizer = self.parts.optimizer
            if config.mixed_precision == "mixed_float16":
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            optimizer.build(self.model.trainable_variables)
            self.optimizer = optimizer
        self.checkpoint = tf.train.Checkpoint(
            model=self.model, optimizer=self.optimizer, step=self.step
        )
        self._eval_steps = {}
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
        model, optimizer, strategy, parts = self.model, self.optimizer, self.strategy, self.parts
        replica_step = make_replica_step(
            model,
            optimizer,
            global_batch=self.config.batch_size,
            loss=parts.loss,
            weight_decay=parts.weight_decay,
            decayed=parts.decayed if parts.weight_decay else (),
            clip_norm=parts.clip_norm,
            batch_split=self.config.batch_split,
            jit_compile=self.config.jit_compile,
        )

        # Without AutoGraph, as Keras' own `fit` traces its step: nothing here (nor in a
        # recipe's loss or evaluation) branches on a tensor in Python, and converting the
        # functions cost about a second of each run's start (R14x1, 2 CPU cores).
        @tf.function(autograph=False)
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

    def _make_eval_step(self, collect: bool):
        # One evaluation batch on every replica: the evaluation's sums added over the
        # replicas; when `collect`, also its per-example outputs gathered from every replica
        # (with the mask), and this worker's own outputs and images (thumbnails).
        model, strategy, batch = self.model, self.strategy, self.evaluation.batch

        def replica_eval(images, labels, mask):
            measured = batch(model, images, labels, mask)
            sums = {**measured.sums, _COUNT: tf.reduce_sum(mask)}
            return sums, {**measured.examples, _MASK: mask}, images

        @tf.function(autograph=False)
        def eval_step(iterator):
            sums, examples, images = strategy.run(replica_eval, args=next(iterator))
            totals = {
                key: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                for key, value in sums.items()
            }
            if not collect:
                return totals
            gathered = {key: strategy.gather(value, axis=0) for key, value in examples.items()}
            return totals, gathered, examples, images

        return eval_step

    def evaluate(self, *, collect: bool = False) -> tuple[dict[str, float], report.Examples]:
        """The evaluation's rates on the recipe's evaluation split (`test_<name>`: each sum
        over the split divided by its examples); when `collect`, also its per-example
        outputs from every replica, in one pass (the report's), else None."""
        batch, size = self._eval_batch_size(), self.recipe.eval_size
        contexts = []

        def dataset_fn(context):
            contexts.append(context)
            return self.recipe.eval_dataset(context, batch)

        dist = self.strategy.distribute_datasets_from_function(dataset_fn)
        pipelines = contexts[0].num_input_pipelines
        steps = eval_steps(size, batch, pipelines, self.strategy.num_replicas_in_sync // pipelines)
        if collect not in self._eval_steps:
            self._eval_steps[collect] = self._make_eval_step(collect)
        eval_step = self._eval_steps[collect]
        iterator, totals = iter(dist), {}
        collected = _Collected(self.strategy, self.evaluation.show) if collect else None
        for _ in range(steps):
            outputs = eval_step(iterator)
            if collect:
                collected.add(*outputs[1:], thumbnails=self.chief)
                outputs = outputs[0]
            for key, value in outputs.items():
                totals[key] = totals.get(key, 0.0) + float(value)
        count = totals.pop(_COUNT)
        if int(count) != size:
            raise RuntimeError(f"Evaluated {int(count)} examples, expected {size}.")
        rates = {f"test_{key}": value / count for key, value in totals.items()}
        return rates, (collected.examples() if collect else None)

    # ----------------------------------------------------------------- run
    def run(self) -> dict:
        try:
            return self._run()
        except files.WriteError as e:
            if e.advice:
                raise
            raise self._write_failed(e) from e
        except tf.errors.OpError as e:
            error = files.tf_write_error(e)  # TensorBoard's events, written by TensorFlow
            if error is None:
                raise
            raise self._write_failed(error) from None

    def _write_failed(self, error: files.WriteError) -> files.WriteError:
        # A file of the run could not be written (a full disk): the run stops there, with the
        # checkpoint a rerun resumes from; what it wrote before stays as it was.
        latest = tf.train.latest_checkpoint(self.checkpoint_dir)
        kept = f"the last checkpoint is {latest}" if latest else "no checkpoint was saved yet"
        return error.advised(
            f"{kept}. Free space there, then run the same command again to resume."
        )

    def _run(self) -> dict:
        config, recipe = self.config, self.recipe
        total = recipe.total_steps
        metric, metric_words = self.evaluation.metric, self.evaluation.words
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
        if not config.overwrite:
            # What this worker left of a save it did not finish, in its own folder: kept to
            # look at in the chief's, deleted in another worker's (no run reads it).
            checkpoints.set_aside_unfinished(keep=self.chief)
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
                    path, damaged = undecodable_image(e), damaged_file(e)
                    if path is None and damaged is None:
                        self._raise_if_a_worker_is_lost(e, step, chiefs)
                        raise
                    saved = self._save_before(step, start, checkpoints, loss, lr)
                    rerun = " without --overwrite" if config.overwrite else ""
                    if path is not None:
                        raise UndecodableImageError(path, step, saved, rerun=rerun) from None
                    raise DamagedFileError(damaged, step, saved, rerun=rerun) from None
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
                    rates, _ = self.evaluate()
                    _log_scalars(rates, step)
                    self.out(
                        f"step {step}: {metric_words} {rates[metric]:.4f}"
                        f"{_others_in_words(rates, metric)}"
                    )
                if step == total:
                    break
                try:
                    stopping = self._stop_requested(stop)
                except tf.errors.OpError as e:
                    self._raise_if_a_worker_is_lost(e, step + 1, chiefs)
                    raise
                due = step % every == 0 or (
                    timed and time.monotonic() - saved_at > CHECKPOINT_SECONDS
                )
                if due or stopping:
                    writer.flush()  # TensorBoard has every step a resume would not run again
                    path = self._save(checkpoints, step, loss, lr)
                    saved_at = time.monotonic()
                if stopping:
                    interrupted = TrainingInterrupted(
                        stopping,
                        step,
                        path if self.chief else None,
                        rerun=" without --overwrite" if config.overwrite else "",
                        elsewhere=stop.signum is None,
                    )
                    self.out(str(interrupted))
                    raise interrupted
            trained = start < total
            if trained:
                # Before the final evaluation, which can take minutes: a machine preempted
                # there loses none of the training (a rerun evaluates and writes the files).
                writer.flush()
                self._save(checkpoints, total, loss, lr)
            # The final evaluation, once: its rates, and the per-example outputs the report
            # draws (gathered from every replica).
            rates, examples = self.evaluate(collect=True)
            _log_scalars(rates, total)
        writer.flush()
        if not self.chief and files.exists(self._worker_dir()):
            files.rmtree(self._worker_dir())

        model_path = os.path.join(config.logdir, MODEL_FILE)
        metrics = {
            "step": total,
            metric: rates[metric],
            "test_examples": recipe.eval_size,
            "train_loss": loss,
            "model_path": model_path,
            "loss_history": history,
            **rates,
        }
        # A restart of a finished run trains nothing: keep the files (and metrics) it wrote,
        # unless some are missing (a full disk stopped it as it wrote them).
        outputs, written = [], False
        if self.chief and (trained or not self._outputs_written()):
            written = True
            save_atomically(model_path, self.model.save)
            outputs = recipe.write_outputs(self.model, config.logdir)
            self._write_record(
                metrics=metrics,
                outputs=[MODEL_FILE, *(os.path.basename(p) for p in outputs)],
            )
        line = (
            f"{metric_words} {rates[metric]:.4f} on {recipe.eval_size} examples"
            f"{_others_in_words(rates, metric)}."
        )
        self.out(line[0].upper() + line[1:])
        if self.chief:
            self.out(f"Saved the model to {model_path}")
            for path in outputs:
                self.out(f"Wrote {path}")
            kept = REPORT_FILE if config.report else PREDICTIONS_FILE
            if written or not files.exists(os.path.join(config.logdir, kept)):
                self._report(examples)
        return metrics

    def _outputs_written(self) -> bool:
        # Whether the files of a finished run are all there: the run record (written last)
        # lists them.
        written = (read_record(self.config.logdir) or {}).get("outputs")
        return isinstance(written, list) and all(
            files.exists(os.path.join(self.config.logdir, name)) for name in written
        )

    def _report(self, examples: report.Examples) -> None:
        # The final evaluation's per-example outputs (kept for tools/report.py), then the
        # report unless it is off. A report that cannot be written costs one line; the run
        # itself is complete.
        logdir = self.config.logdir
        try:
            examples.save(os.path.join(logdir, PREDICTIONS_FILE))
            if self.config.report:
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

    def _save_before(self, step, start, checkpoints, loss, lr) -> str | None:
        # The batch of `step` could not be read (an image that does not decode, a damaged
        # file): its step did not run. The steps before it are saved, as an interrupt saves
        # them; the checkpoint a rerun resumes from (the chief's to name).
        saved = checkpoints.latest
        if step - 1 > start:
            saved = self._save(checkpoints, step - 1, loss, lr)
        return saved if self.chief else None

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

            @tf.function(autograph=False)
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
            lambda path: write_json(path, record),
        )

    def _diverged(
        self, step: int, loss: float, lr: float, checkpoint, *, weights: bool = False
    ) -> TrainingDivergedError:
        # The weights are not finite any more: nothing of them is saved; the run record says
        # how the run ended and the last checkpoint stays for a rerun with other settings.
        c = self.config
        advice = self.recipe.advice or "Try other settings"
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

    def _raise_if_a_worker_is_lost(self, error: tf.errors.OpError, step: int, chiefs) -> None:
        # Under MultiWorkerMirroredStrategy, a collective that another worker will never join
        # ends in TensorFlow's words for it (heartbeats stopped, connection reset, aborted);
        # said in one line naming that worker and the checkpoint to restart from.
        if not self._multi_worker or not is_lost_worker_error(error):
            return
        lost, why = lost_task(str(error), worker_id(self.strategy))
        raise WorkerLostError(step, lost, chiefs.latest, why) from None

    @property
    def _multi_worker(self) -> bool:
        return isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)

    def _stop_requested(self, stop: StopRequests) -> int | None:
        # The signal to stop on, or None. A signal reaches one worker; all of them must stop
        # (and save) at the same step, and exit alike: the cluster sums which signals its
        # workers had (SIGINT's status where any had it, as a shell reports Ctrl-C).
        if not self._multi_worker:
            return stop.signum
        if self._any_stop is None:

            @tf.function(autograph=False)
            def any_stop(flags):
                per_replica = self.strategy.run(lambda f: f, args=(flags,))
                return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

            self._any_stop = any_stop
        mine = [float(stop.signum == signum) for signum in SIGNALS]
        counts = self._any_stop(tf.constant(mine)).numpy()
        return next((signum for signum, n in zip(SIGNALS, counts, strict=True) if n > 0), None)

    def _worker_dir(self) -> str:
        return os.path.join(self.config.logdir, WORKERS_DIR, worker_id(self.strategy))

    def _describe(self, start: int) -> str:
        c = self.config
        return (
            f"{self.recipe.kind} {c.model} (weights: {c.weights}) on {c.dataset}: "
            f"{self.recipe.settings}; random flips {'on' if c.random_flip else 'off'}; "
            f"{self.strategy.num_replicas_in_sync} replica(s) ({type(self.strategy).__name__}); "
            + (f"batches from the tf.data service at {c.data_service}; " if c.data_service else "")
            + f"starting at step {start}."
        )


def _log_scalars(metrics: dict[str, float], step: int) -> None:
    """TensorBoard scalars `test/<name>` of `test_<name>` metrics."""
    for key, value in metrics.items():
        tf.summary.scalar("test/" + key.removeprefix("test_"), value, step=step)


def _others_in_words(rates: dict[str, float], headline: str) -> str:
    """An evaluation's rates but the headline, in words: `; teacher accuracy 0.9812; ...`."""
    return "".join(
        f"; {key.removeprefix('test_').replace('_', ' ')} {value:.4f}"
        for key, value in rates.items()
        if key != headline
    )


class _Collected:
    """The final evaluation's per-example outputs, step by step: every replica's (gathered,
    fillers left out), and thumbnails of the first examples `show` picks among this worker's
    own replicas (all of them on one machine; the chief's share on several)."""

    def __init__(self, strategy: tf.distribute.Strategy, show):
        self.strategy, self.show = strategy, show
        self.arrays: dict[str, list[np.ndarray]] = {}
        self.shown: list[tuple[int, np.ndarray]] = []
        self.count = 0

    def add(self, gathered, local_examples, local_images, *, thumbnails: bool) -> None:
        arrays = {key: value.numpy() for key, value in gathered.items()}
        keep = arrays.pop(_MASK) > 0
        # Where each gathered example lands among those kept so far.
        position = self.count + np.cumsum(keep) - 1
        for key, value in arrays.items():
            self.arrays.setdefault(key, []).append(value[keep])
        if thumbnails and self.show is not None and len(self.shown) < report.MISCLASSIFIED_SHOWN:
            self._thumbnails(local_examples, local_images, position)
        self.count += int(keep.sum())

    def _thumbnails(self, local_examples, local_images, position) -> None:
        # This worker's replicas come first in the gathered order (worker 0, the chief) and
        # every replica's batch has the same size.
        local = self.strategy.experimental_local_results
        per_replica = [
            {key: value.numpy() for key, value in zip(local_examples, values, strict=True)}
            for values in zip(*(local(v) for v in local_examples.values()), strict=True)
        ]
        offset = 0
        for replica, images in zip(per_replica, local(local_images), strict=True):
            mask = replica.pop(_MASK) > 0
            picked = np.flatnonzero(mask & self.show(replica))
            picked = picked[: report.MISCLASSIFIED_SHOWN - len(self.shown)]
            if len(picked):  # the images come off the device only when some are shown
                batch = images.numpy()
                self.shown += [
                    (int(position[offset + i]), report.thumbnail(batch[i])) for i in picked
                ]
            offset += len(mask)

    def examples(self) -> report.Examples:
        arrays = {key: np.concatenate(parts) for key, parts in self.arrays.items()}
        shown = sorted(self.shown, key=lambda item: item[0])
        return report.Examples(
            arrays=arrays,
            shown=np.array([index for index, _ in shown], np.int64),
            thumbnails=(
                np.stack([image for _, image in shown])
                if shown
                else np.zeros((0, 1, 1, 3), np.uint8)
            ),
        )
