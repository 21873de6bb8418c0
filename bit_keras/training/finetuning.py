"""The fine-tuning recipe (BiT-HyperRule) and `train`, which runs it in the training loop.

BiT's transfer recipe (Kolesnikov et al., Section 3.3): a new zero-initialised head, SGD with
momentum 0.9 at 0.003 per 512 images, no weight decay, the resolution, schedule and MixUp by
the data's size (`hyperrule`), resize-then-random-crop, evaluation on the whole image resized.
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from bit_keras import data
from bit_keras.models.freezing import set_trainable
from bit_keras.training import hyperrule, losses
from bit_keras.training.config import TrainConfig, check_model, resolve
from bit_keras.training.loop import run_recipe
from bit_keras.training.lr_schedule import BiTLearningRate
from bit_keras.training.recipe import (
    Recipe,
    build_model,
    evaluation_data,
    load_data,
    metric_for,
    training_data,
)


def train(
    config: TrainConfig,
    strategy: tf.distribute.Strategy | None = None,
    *,
    out=print,
    return_model: bool = False,
):
    """Fine-tunes a BiT model with BiT-HyperRule; resumes from the last checkpoint in logdir.

    The training loop (`loop.run_recipe`) with this module's recipe: everything that can be
    checked is checked before anything is written, and a restarted run resumes exactly.

    Args:
        config: The run.
        strategy: A tf.distribute strategy; by default `config.strategy` builds one.
        out: Where progress lines go.
        return_model: Also return the trained model (every worker has its own copy).

    Returns:
        The final metrics (`step`, `test_accuracy`, `train_loss`, `model_path`,
        `loss_history`, ...), and the model when `return_model`.
    """
    return run_recipe(
        config, lambda: recipe(config, out), strategy, out=out, return_model=return_model
    )


def recipe(config: TrainConfig, out=print) -> Recipe:
    """BiT-HyperRule for `config`'s model and data, as the loop's recipe.

    Raises:
        ValueError: a model, weights or data flag that cannot work (before anything is read
            beyond the data set's listing).
    """
    check_model(config)
    source = load_data(config, out)
    train_size, few_shot = source.train_size, None
    if config.examples_per_class is not None:
        if source.multi_label:
            raise ValueError(
                f"--examples_per_class draws K examples of each class; {source.name} is "
                "multi-label (an image has several classes). Drop --examples_per_class."
            )
        few_shot = data.few_shot_indices(
            source.train_labels(), config.examples_per_class, config.examples_per_class_seed
        )
        train_size = len(few_shot)
    resolved = resolve(config, train_size, source.test_size, source.num_classes, source.image_size)
    schedule = resolved.schedule

    def examples():
        split = source.train_examples()
        return split if few_shot is None else split.subset(few_shot)

    def build():
        # BiT transfers with a new zero-initialised head, whatever the loss and the file's.
        model = build_model(config, resolved.num_classes, resolved.crop, out, new_head=True)
        frozen = set_trainable(model, config.trainable)
        if frozen:
            out(
                f"Training {config.trainable}: {_parameters(model.trainable_weights):,} "
                f"of {model.count_params():,} parameters; frozen: {', '.join(frozen)}."
            )
        return model

    def optimizer(learning_rate):
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=hyperrule.MOMENTUM)

    return Recipe(
        kind="Fine-tuning",
        settings=(
            f"{resolved.train_size} train / {resolved.test_size} test examples, "
            f"{resolved.num_classes} classes{' (multi-label)' if source.multi_label else ''}; "
            f"resize {resolved.resize}, crop {resolved.crop}; {schedule.total_steps} steps "
            f"(warm-up {schedule.warmup_steps}, x0.1 after {list(schedule.decay_steps)}); "
            f"lr {resolved.learning_rate:g} at batch {config.batch_size}; "
            f"MixUp alpha {resolved.mixup_alpha}"
            + ("" if config.trainable == "all" else f"; trainable: {config.trainable}")
        ),
        total_steps=schedule.total_steps,
        learning_rate=BiTLearningRate.from_schedule(resolved.learning_rate, schedule),
        build_model=build,
        optimizer=optimizer,
        train_dataset=training_data(
            examples,
            config,
            resize=resolved.resize,
            crop=resolved.crop,
            num_classes=resolved.num_classes,
            mixup_alpha=resolved.mixup_alpha,
        ),
        eval_dataset=evaluation_data(source, resolved.crop),
        eval_size=source.test_size,
        metric=metric_for(source.multi_label),
        loss=losses.for_data(source.multi_label),
        record={
            "resolved": dataclasses.asdict(resolved),
            "class_names": list(source.class_names),
            "multi_label": source.multi_label,
        },
    )


def _parameters(weights) -> int:
    return sum(int(keras.ops.size(w)) for w in weights)
