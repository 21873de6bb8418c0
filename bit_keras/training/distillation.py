"""The distillation recipe (function matching) and `distill`, which runs it in the loop.

A student BiT learns a frozen teacher's function (`function_matching.py`: Beyer et al. 2022
and big_vision's configuration): both see the same batch at every step (one Inception crop,
flip and MixUp per image, made once by the input pipeline and handed to both inside the
step), the loss is `t² · KL(teacher ‖ student)` of their softmaxes, and no label is read. The
teacher's weight standardization is folded into plain convolutions once, at start
(`models.folding`): its cost per step is one inference forward pass, and its weights are
never trained (non-trainable, and the loss stops gradients at its logits).

Labels, where the data has them, measure the student, the teacher and their top-1
agreement on the test split; without labels, the agreement is the run's metric. The logdir
ends with `model.keras`, `model.npz` (the student in the official layout) and `config.json`.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from bit_keras.checkpoint import save_official_weights
from bit_keras.models.folding import fold_weight_standardization
from bit_keras.pretrained.model_source import check_model_spec, load_model_source
from bit_keras.training import function_matching, losses
from bit_keras.training.config import DistillConfig, check_model
from bit_keras.training.loop import run_recipe
from bit_keras.training.pretraining import (
    NPZ_FILE,
    kernels,
    learning_rate_schedule,
    resolve_schedule,
)
from bit_keras.training.recipe import (
    Recipe,
    build_model,
    evaluation_data,
    load_data,
    training_data,
)


def distill(
    config: DistillConfig,
    strategy: tf.distribute.Strategy | None = None,
    *,
    out=print,
    return_model: bool = False,
):
    """Distills `config.teacher` into a student; resumes from the last checkpoint in logdir.

    The training loop (`loop.run_recipe`) with this module's recipe: checks before anything
    is written, every tf.distribute strategy, checkpoints on Ctrl-C and SIGTERM, exact resume.

    Returns:
        The final metrics (`test_accuracy`, `test_teacher_accuracy`, `test_agreement`, or
        `test_agreement` alone without labels; `train_loss`, `model_path`, ...), and the
        student when `return_model`.
    """
    return run_recipe(
        config, lambda: recipe(config, out), strategy, out=out, return_model=return_model
    )


def load_teacher(source: str, resolution: int | None, out=print) -> tuple[keras.Model, dict]:
    """The teacher, frozen, with its weight standardization folded; and what to record of it.

    Call it under the strategy's scope: its variables are the replicas' then.
    """
    spec = check_model_spec(source, resolution, min_resolution=1)
    teacher = frozen_teacher(load_model_source(spec).model)  # the unfolded copy is dropped
    parameters = int(sum(np.prod(w.shape) for w in teacher.weights))
    nbytes = int(sum(np.prod(w.shape) * np.dtype(w.dtype).itemsize for w in teacher.weights))
    out(
        f"Teacher: {source} ({spec.kind}), {parameters:,} parameters, "
        f"{nbytes / 2**20:,.1f} MiB of weights on each replica; frozen, weight "
        "standardization folded."
    )
    record = {
        "teacher": source,
        "teacher_parameters": parameters,
        "teacher_weight_bytes": nbytes,
        "teacher_classes": int(teacher.output_shape[-1]),
        "teacher_resolution": spec.resolution,
    }
    return teacher, record


def frozen_teacher(model: keras.Model) -> keras.Model:
    """`model` as a teacher: its weight standardization folded into plain convolutions (its
    kernels never change) and every weight non-trainable."""
    teacher = fold_weight_standardization(model)
    teacher.trainable = False
    return teacher


def student_optimizer(
    student: keras.Model, learning_rate, *, base_lr: float, weight_decay: float
) -> keras.optimizers.AdamW:
    """Adam with big_vision's decoupled weight decay `wd` (`weight_decay`), on the student's
    kernels alone (`.*/kernel`: not GroupNorm nor the head's bias); `learning_rate` is a
    float or the schedule of peak `base_lr`."""
    adamw = keras.optimizers.AdamW(
        learning_rate=learning_rate,
        weight_decay=function_matching.adamw_weight_decay(weight_decay, base_lr),
    )
    decayed = {id(v) for v in kernels(student)}
    adamw.exclude_from_weight_decay(
        var_list=[v for v in student.trainable_variables if id(v) not in decayed]
    )
    return adamw


class TeacherLoss:
    """The recipe's loss: `t² · KL(teacher ‖ student)` on the one batch both models see.

    `teacher` is the frozen teacher once the recipe's `build_model` has loaded it.
    """

    def __init__(self, held: dict, temperature: float):
        self._held, self.temperature = held, temperature

    @property
    def teacher(self) -> keras.Model:
        return self._held["teacher"]

    def __call__(self, model, images, targets):
        del targets  # MixUp-mixed labels, where there are any: function matching reads none
        teacher_logits = self.teacher(images, training=False)
        student_logits = model(images, training=True)
        return losses.kl_divergence(student_logits, teacher_logits, self.temperature)


def teacher_resolution(config: DistillConfig) -> int:
    """The crop both models see: `config.crop`, else the teacher's resolution, else 224."""
    spec = check_model_spec(
        config.teacher, config.crop, min_resolution=1, default_resolution=function_matching.CROP
    )
    return spec.resolution


def recipe(config: DistillConfig, out=print) -> Recipe:
    """Function matching for `config`'s student, teacher and data, as the loop's recipe.

    Raises:
        ValueError: a model, teacher, weights or data flag that cannot work.
    """
    check_model(config)
    source = load_data(config, out, unlabelled=True)
    crop = teacher_resolution(config)
    steps, warmup = resolve_schedule(config, source.train_size, function_matching.EPOCHS)
    lr = config.base_lr
    clip_norm = config.clip_norm or None
    labelled = source.labelled and not source.multi_label
    held = {}  # the teacher, built with the student (under the strategy's scope)
    # What config.json records; the teacher's part is known once it is loaded.
    run_record = {"class_names": list(source.class_names)}

    def build():
        teacher, record = load_teacher(config.teacher, crop, out)
        teacher_input = teacher.input_shape[1:3]
        if None not in teacher_input and tuple(teacher_input) != (crop, crop):
            raise ValueError(
                f"The teacher {config.teacher!r} takes {teacher_input[0]}x{teacher_input[1]} "
                f"images and the run's crop is {crop}: pass --crop={teacher_input[0]}."
            )
        held["teacher"] = teacher
        run_record.update(record)
        classes = record["teacher_classes"]
        student = build_model(config, classes, crop, out, new_head=False)
        held["student"] = student
        return student

    def evaluate(model, images, labels, mask):
        student = tf.argmax(model(images, training=False), axis=-1, output_type=labels.dtype)
        teacher = tf.argmax(
            held["teacher"](images, training=False), axis=-1, output_type=labels.dtype
        )
        agreement = tf.reduce_sum(tf.cast(tf.equal(student, teacher), tf.float32) * mask)
        if not labelled:
            return {"hits": agreement}
        labels = tf.reshape(labels, [-1])
        return {
            "hits": tf.reduce_sum(tf.cast(tf.equal(student, labels), tf.float32) * mask),
            "teacher_accuracy": tf.reduce_sum(
                tf.cast(tf.equal(teacher, labels), tf.float32) * mask
            ),
            "agreement": agreement,
        }

    def optimizer(learning_rate):
        return student_optimizer(
            held["student"], learning_rate, base_lr=lr, weight_decay=config.weight_decay
        )

    def write_outputs(model, logdir):
        path = os.path.join(logdir, NPZ_FILE)
        save_official_weights(model, path)
        return [path]

    resolved = {
        "train_size": source.train_size,
        "test_size": source.test_size,
        "labelled": labelled,
        "crop": crop,
        "steps": steps,
        "warmup_steps": warmup,
        "learning_rate": lr,
        "weight_decay": config.weight_decay,
        "clip_norm": clip_norm,
        "temperature": config.temperature,
        "mixup_alpha": config.mixup_alpha,
        "optimizer": "AdamW (decoupled weight decay on the kernels, as big_vision's wd)",
    }
    run_record["resolved"] = resolved

    return Recipe(
        kind="Distillation",
        settings=(
            f"teacher {config.teacher}; {source.train_size} train / {source.test_size} test "
            f"examples{'' if labelled else ' (no labels: the metric is the agreement)'}; "
            f"Inception crops at {crop} for both, MixUp alpha {config.mixup_alpha} on every "
            f"batch; KL at temperature {config.temperature:g}; {steps} steps (warm-up "
            f"{warmup}, cosine decay to 0); Adam lr {lr:g}, weight decay "
            f"{config.weight_decay:g}, gradient norm clipped at {clip_norm or 'none'}"
        ),
        total_steps=steps,
        learning_rate=learning_rate_schedule("cosine", lr, steps, warmup),
        build_model=build,
        optimizer=optimizer,
        train_dataset=training_data(
            source.train_examples,
            config,
            resize=None,
            crop=crop,
            num_classes=max(1, source.num_classes),
            mixup_alpha=config.mixup_alpha,
        ),
        # As bit-train evaluates: the whole image resized to the crop (a teacher fine-tuned
        # with BiT-HyperRule was measured so).
        eval_dataset=evaluation_data(source, crop),
        eval_size=source.test_size,
        metric=(
            ("test_accuracy", "student's test accuracy")
            if labelled
            else ("test_agreement", "test top-1 agreement with the teacher")
        ),
        loss=TeacherLoss(held, config.temperature),
        evaluate=evaluate,
        clip_norm=clip_norm,
        record=run_record,
        write_outputs=write_outputs,
    )
