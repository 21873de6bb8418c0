"""BiT-HyperRule for Keras' own `compile` and `fit`: `fit_recipe(...)` gives a `FitSettings`.

The same rule as `bit-train` (one `hyperrule.settings` serves both): SGD with momentum 0.9
on BiT's schedule, the resolution rule and MixUp, here as the pieces `compile` and `fit`
take, for any callbacks and any `tf.data` input.
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from bit_keras import data
from bit_keras.models.freezing import check_trainable, set_trainable
from bit_keras.training import hyperrule
from bit_keras.training.lr_schedule import BiTLearningRate


@dataclasses.dataclass(frozen=True)
class FitSettings(hyperrule.Settings):
    """BiT-HyperRule's settings (`hyperrule.Settings`) with what `compile` and `fit` need.

    Example:
    >>> recipe = fit_recipe(train_size=1_437, image_size=(32, 32), batch_size=64)
    >>> recipe.crop, recipe.steps, recipe.mixup_alpha
    (128, 500, 0.0)
    >>> recipe.fit_arguments(epochs=10)
    {'epochs': 10, 'steps_per_epoch': 50, 'shuffle': False}

    Attributes:
        trainable: What trains (`models.freezing`): `all`, `head`, or `block1`..`block4`;
            `set_trainable(model)` applies it.
    """

    trainable: str = "all"

    def set_trainable(self, model: keras.Model) -> list[str]:
        """Freezes the layers of `model` that `trainable` leaves out (before `compile`, so
        that the optimizer holds no slots for them); returns the frozen layers' names."""
        return set_trainable(model, self.trainable)

    def optimizer(self) -> keras.optimizers.SGD:
        """A new SGD optimizer (momentum 0.9) on the rule's learning-rate schedule.

        The schedule follows the optimizer's own step count (`optimizer.iterations`), which
        `ModelCheckpoint` and `BackupAndRestore` save and restore with the model.
        """
        schedule = BiTLearningRate.from_schedule(self.learning_rate, self.schedule)
        return keras.optimizers.SGD(learning_rate=schedule, momentum=hyperrule.MOMENTUM)

    def fit_arguments(self, epochs: int = 10) -> dict[str, int | bool]:
        """`epochs` and `steps_per_epoch` for `fit`, so that the run takes the rule's steps.

        Keras' callbacks act at the end of an epoch; more epochs of fewer steps each give
        more checkpoints and validations. Also `shuffle=False`: `train_dataset` already
        orders the examples (Keras would only warn that it cannot shuffle a dataset).

        Raises:
            ValueError: if the steps do not divide into `epochs` epochs of equal length.
        """
        if not isinstance(epochs, int) or epochs < 1 or self.steps % epochs:
            raise ValueError(
                f"`epochs` must be a positive int that divides the {self.steps} steps of the "
                f"schedule. Received: epochs={epochs}"
            )
        return {"epochs": epochs, "steps_per_epoch": self.steps // epochs, "shuffle": False}

    def train_dataset(
        self,
        examples: data.Examples | tf.data.Dataset,
        num_classes: int,
        *,
        seed: int = 0,
        random_flip: bool = True,
    ) -> tf.data.Dataset:
        """Endless training batches of the rule's size, crop and MixUp (`data.train_dataset`).

        Args:
            examples: The training split: `DataSource.train_examples()` or a finite
                `tf.data.Dataset` of `(image uint8, label int64)`.
            num_classes: For the one-hot labels.
            seed: Seeds the order and every random crop, flip and MixUp draw.
            random_flip: Random left-right flips (the rule's); off where a flip changes the
                class (digits, text).

        Returns:
            Batches `(images float32 [-1, 1], one-hot labels)`: train with
            `categorical_crossentropy` (a softmax head) or
            `CategoricalCrossentropy(from_logits=True)` (logits).
        """
        return data.train_dataset(
            examples,
            batch_size=self.batch_size,
            resize=self.resize,
            crop=self.crop,
            num_classes=num_classes,
            mixup_alpha=self.mixup_alpha,
            seed=seed,
            random_flip=random_flip,
        )

    def test_dataset(self, dataset: tf.data.Dataset, num_classes: int) -> tf.data.Dataset:
        """Test batches at the rule's crop with one-hot labels (`data.test_dataset`)."""
        return data.test_dataset(
            dataset, batch_size=self.batch_size, crop=self.crop, num_classes=num_classes
        )


def fit_recipe(
    train_size: int,
    image_size: tuple[int, int],
    batch_size: int,
    *,
    base_lr: float = hyperrule.BASE_LR,
    steps: int | None = None,
    resize: int | None = None,
    crop: int | None = None,
    mixup_alpha: float | None = None,
    trainable: str = "all",
) -> FitSettings:
    """BiT-HyperRule for fine-tuning with Keras' `compile` and `fit`.

    Args:
        train_size: Examples in the training set (`DataSource.train_size`).
        image_size: (height, width) of its images (`DataSource.image_size`).
        batch_size: Global batch size (BiT: 512).
        base_lr: Learning rate at batch 512 (BiT: 0.003), scaled linearly to `batch_size`.
        steps: Total steps; None: the rule's (500, 10,000 or 20,000 by data-set size).
        resize: Resize before the random crop; None: the rule's (160 or 512).
        crop: Training crop and evaluation size; None: the rule's (128 or 480).
        mixup_alpha: MixUp's alpha; None: the rule's (0.1 from 20,000 examples up).
        trainable: What trains: `all` (BiT's), `head` (a linear probe) or `block1`..`block4`
            (that block, those after it and the head); `FitSettings.set_trainable` applies it.

    Returns:
        A `FitSettings`.
    """
    check_trainable(trainable)
    rule = hyperrule.settings(
        train_size,
        image_size,
        batch_size,
        base_lr=base_lr,
        steps=steps,
        resize=resize,
        crop=crop,
        mixup_alpha=mixup_alpha,
    )
    settings = {f.name: getattr(rule, f.name) for f in dataclasses.fields(rule)}
    return FitSettings(**settings, trainable=trainable)
