"""The distillation recipe (function matching): its config, `recipe` and `distill`.

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
The config loads no TensorFlow (`bit-distill` defines its flags from it first).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bit_keras.training import function_matching
from bit_keras.training.config import RunConfig, check_length, check_model
from bit_keras.training.recipe import Parts, Recipe

if TYPE_CHECKING:
    import keras


@dataclasses.dataclass(frozen=True, kw_only=True)
class DistillConfig(RunConfig):
    """A distillation run (`bit-distill`): a student learns a frozen teacher's function on the
    same images (`function_matching`: big_vision's defaults, Beyer et al. 2022).

    The shared fields are `RunConfig`'s, with big_vision's defaults where they differ: a
    student architecture from scratch (`R50x1`, `weights="none"`), batch 4,096. `steps` sets
    the run's length in steps, `epochs` in passes over the training split (1,200 when neither
    is given: distillation is patient). Labels are not needed; where the data has them, they
    measure the student and the teacher.

    Attributes:
        teacher: The model whose function is learned: a published name, an official `.npz`,
            a run's `model.keras`, timm's layout or an `hf-hub:` repository. Frozen.
        crop: Inception-crop size, the same for both. None: the teacher's resolution (a
            published model's, or the crop its run trained at), else 224.
        base_lr: Adam's learning rate (big_vision: 0.03), used as it is at any batch size.
        weight_decay: Decoupled weight decay on the kernels, per step and times the schedule
            as big_vision's `wd` (3e-4; 0 for none).
        clip_norm: Clip the gradient's global norm to this (1.0; 0 for none).
        temperature: Of both softmaxes in the KL divergence (1.0).
        mixup_alpha: MixUp on every batch with weights from Beta(alpha, alpha) (1.0).
        epochs: Passes over the training split; 1,200 when `steps` is not given.
        warmup_steps: Linear warm-up, then a cosine decay to 0. None: big_vision's 5,000 at
            batch 4,096 (as many images at other batches), at most a fifth of the run.
    """

    model: str = "R50x1"
    weights: str = "none"
    teacher: str | None = None
    batch_size: int = function_matching.BATCH_SIZE
    base_lr: float = function_matching.LEARNING_RATE
    weight_decay: float = function_matching.WEIGHT_DECAY
    clip_norm: float = function_matching.CLIP_NORM
    temperature: float = function_matching.TEMPERATURE
    mixup_alpha: float = function_matching.MIXUP_ALPHA
    epochs: float | None = None
    warmup_steps: int | None = None

    def _positive_numbers(self) -> tuple[str, ...]:
        return ("base_lr", "temperature")

    def __post_init__(self):
        super().__post_init__()
        if not self.teacher:
            raise ValueError("`teacher` is required: the model whose function the student learns.")
        for name in ("weight_decay", "clip_norm", "mixup_alpha"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {name}={getattr(self, name)}")
        check_length(self)

    def check_files(self) -> None:
        from bit_keras.pretrained.model_source import check_model_spec

        check_model_spec(self.teacher, self.crop, min_resolution=1)


def distill(config: DistillConfig, strategy=None, *, out=print, return_model: bool = False):
    """Distills `config.teacher` into a student; resumes from the last checkpoint in logdir.

    The training loop (`loop.run_recipe`) with this module's recipe: checks before anything
    is written, every tf.distribute strategy, checkpoints on Ctrl-C and SIGTERM, exact resume.

    Returns:
        The final metrics (`test_accuracy`, `test_teacher_accuracy`, `test_agreement`, or
        `test_agreement` alone without labels; `train_loss`, `model_path`, ...), and the
        student when `return_model`.
    """
    from bit_keras.training.loop import run_recipe

    return run_recipe(
        config, lambda: recipe(config, out), strategy, out=out, return_model=return_model
    )


def load_teacher(source: str, resolution: int | None, out=print) -> tuple[keras.Model, dict]:
    """The teacher, frozen, with its weight standardization folded; and what to record of it.

    Call it under the strategy's scope: its variables are the replicas' then.
    """
    import numpy as np

    from bit_keras.pretrained.model_source import check_model_spec, load_model_source

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
    from bit_keras.models.folding import fold_weight_standardization

    teacher = fold_weight_standardization(model)
    teacher.trainable = False
    return teacher


def student_optimizer(student: keras.Model, learning_rate, *, base_lr: float, weight_decay: float):
    """Adam with big_vision's decoupled weight decay `wd` (`weight_decay`), on the student's
    kernels alone (`.*/kernel`: not GroupNorm nor the head's bias); `learning_rate` is a
    float or the schedule of peak `base_lr`."""
    import keras

    from bit_keras.training.shared import kernels

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
    """The recipe's loss: `t² · KL(teacher ‖ student)` on the one batch both models see."""

    def __init__(self, teacher: keras.Model, temperature: float):
        self.teacher, self.temperature = teacher, temperature

    def __call__(self, model, images, targets):
        from bit_keras.training import losses

        del targets  # MixUp-mixed labels, where there are any: function matching reads none
        teacher_logits = self.teacher(images, training=False)
        student_logits = model(images, training=True)
        return losses.kl_divergence(student_logits, teacher_logits, self.temperature)


def teacher_resolution(config: DistillConfig) -> int:
    """The crop both models see: `config.crop`, else the teacher's resolution, else 224."""
    from bit_keras.pretrained.model_source import check_model_spec

    spec = check_model_spec(
        config.teacher, config.crop, min_resolution=1, default_resolution=function_matching.CROP
    )
    return spec.resolution


def agreement_evaluation(teacher: keras.Model, labelled: bool):
    """The student's top-1 agreement with the teacher and, with labels, both accuracies
    (the student's the headline); the report gets the student's predictions."""
    import tensorflow as tf

    from bit_keras.training.evaluation import Evaluation, Measured, hits, mistakes, top1

    def batch(model, images, labels, mask):
        student, taught = top1(model, images), top1(teacher, images)
        agreement = tf.reduce_sum(tf.cast(tf.equal(student, taught), tf.float32) * mask)
        examples = {"labels": labels, "predicted": tf.cast(student, labels.dtype)}
        if not labelled:
            return Measured(sums={"agreement": agreement}, examples=examples)
        sums = {
            "accuracy": tf.reduce_sum(hits(student, labels) * mask),
            "teacher_accuracy": tf.reduce_sum(hits(taught, labels) * mask),
            "agreement": agreement,
        }
        return Measured(sums=sums, examples=examples)

    if labelled:
        return Evaluation(
            batch=batch, headline="accuracy", words="student's test accuracy", show=mistakes
        )
    return Evaluation(
        batch=batch, headline="agreement", words="test top-1 agreement with the teacher"
    )


def recipe(config: DistillConfig, out=print) -> Recipe:
    """Function matching for `config`'s student, teacher and data, as the loop's recipe.

    Raises:
        ValueError: a model, teacher, weights or data flag that cannot work.
    """
    from bit_keras.training import shared

    check_model(config)
    source = shared.load_data(config, out, unlabelled=True)
    crop = teacher_resolution(config)
    steps, warmup = shared.resolve_schedule(config, source.train_size, function_matching.EPOCHS)
    lr = config.base_lr
    clip_norm = config.clip_norm or None
    labelled = source.labelled and not source.multi_label
    # What config.json records; the teacher's part is known once it is loaded.
    run_record = {"class_names": list(source.class_names)}

    def build(learning_rate) -> Parts:
        teacher, record = load_teacher(config.teacher, crop, out)
        teacher_input = teacher.input_shape[1:3]
        if None not in teacher_input and tuple(teacher_input) != (crop, crop):
            raise ValueError(
                f"The teacher {config.teacher!r} takes {teacher_input[0]}x{teacher_input[1]} "
                f"images and the run's crop is {crop}: pass --crop={teacher_input[0]}."
            )
        run_record.update(record)
        student = shared.build_model(config, record["teacher_classes"], crop, out, new_head=False)
        return Parts(
            model=student,
            optimizer=student_optimizer(
                student, learning_rate, base_lr=lr, weight_decay=config.weight_decay
            ),
            loss=TeacherLoss(teacher, config.temperature),
            evaluation=agreement_evaluation(teacher, labelled),
            clip_norm=clip_norm,
        )

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
        learning_rate=shared.learning_rate_schedule("cosine", lr, steps, warmup),
        build=build,
        train_dataset=shared.training_data(
            source.train_examples,
            config,
            resize=None,
            crop=crop,
            num_classes=max(1, source.num_classes),
            mixup_alpha=config.mixup_alpha,
        ),
        # As bit-train evaluates: the whole image resized to the crop (a teacher fine-tuned
        # with BiT-HyperRule was measured so).
        eval_dataset=shared.evaluation_data(source, crop),
        eval_size=source.test_size,
        advice=shared.lower_lr_advice(config),
        record=run_record,
        write_outputs=shared.write_official_weights,
    )
