"""The fine-tuning recipe (BiT-HyperRule): its config, `recipe` and `train`, which runs it.

BiT's transfer recipe (Kolesnikov et al., Section 3.3): a new zero-initialised head, SGD with
momentum 0.9 at 0.003 per 512 images, no weight decay, the resolution, schedule and MixUp by
the data's size (`hyperrule`, the rule's constants and their sources), resize-then-random-crop,
evaluation on the whole image resized.

The config loads no TensorFlow (`bit-train` defines its flags from it first); the recipe's
build does.
"""

from __future__ import annotations

import dataclasses
import math

from bit_keras.models.freezing import check_trainable
from bit_keras.training import hyperrule
from bit_keras.training.config import RunConfig, check_model
from bit_keras.training.recipe import Parts, Recipe


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(RunConfig):
    """A fine-tuning run (`bit-train`). `None` fields are filled in by BiT-HyperRule.

    The shared fields are `RunConfig`'s; `steps` stretches the rule's schedule, `crop` and
    `resize` override the rule's resolution.

    Attributes:
        base_lr: Learning rate at batch 512, scaled linearly to `batch_size` (BiT: 0.003).
        resize: Resize before the random crop. None: the rule's.
        random_crop: Random crops (BiT's). False: each image is resized to the crop size
            whole, for labels a crop changes (positions, counts; VTAB's dSprites location and
            CLEVR count, where BiT omits crops); `resize` must then be unset.
        examples_per_class: Few-shot: keep exactly K training examples per class.
        examples_per_class_seed: Seed of the few-shot draw.
        mixup_alpha: MixUp's alpha. None: the rule's (0.1 from 20,000 examples up).
        trainable: What trains: `all` (BiT's fine-tuning), `head` (a linear probe on the
            pre-logits) or `block1`..`block4` (that block, the ones after it and the head;
            the root and earlier blocks stay as loaded). See `models.freezing`.
    """

    base_lr: float = hyperrule.BASE_LR
    resize: int | None = None
    random_crop: bool = True
    examples_per_class: int | None = None
    examples_per_class_seed: int = 0
    mixup_alpha: float | None = None
    trainable: str = "all"

    def _positive_fields(self) -> tuple[str, ...]:
        return (*super()._positive_fields(), "resize", "examples_per_class")

    def _positive_numbers(self) -> tuple[str, ...]:
        return ("base_lr",)

    def __post_init__(self):
        super().__post_init__()
        if self.mixup_alpha is not None and self.mixup_alpha < 0:
            raise ValueError(f"`mixup_alpha` must be >= 0. Received: {self.mixup_alpha}")
        check_trainable(self.trainable)
        if self.resize and not self.random_crop:
            raise ValueError(
                f"Without random crops images are resized to the crop size: drop `resize` "
                f"(Received: resize={self.resize}, random_crop=False)."
            )
        if self.resize and self.crop and self.crop > self.resize:
            raise ValueError(f"`crop` ({self.crop}) must not exceed `resize` ({self.resize}).")


@dataclasses.dataclass(frozen=True)
class ResolvedConfig:
    """The numbers a run trains with, after BiT-HyperRule and the overrides."""

    train_size: int
    test_size: int
    num_classes: int
    resize: int
    crop: int
    schedule: hyperrule.Schedule
    mixup_alpha: float
    learning_rate: float


def resolve(
    config: TrainConfig, train_size: int, test_size: int, num_classes: int, image_size
) -> ResolvedConfig:
    """Applies BiT-HyperRule to a data set, then the config's overrides."""
    rule = hyperrule.settings(
        train_size,
        image_size,
        config.batch_size,
        base_lr=config.base_lr,
        steps=config.steps,
        resize=config.resize,
        crop=config.crop,
        mixup_alpha=config.mixup_alpha,
    )
    return ResolvedConfig(
        train_size=train_size,
        test_size=test_size,
        num_classes=num_classes,
        resize=rule.resize if config.random_crop else rule.crop,
        crop=rule.crop,
        schedule=rule.schedule,
        mixup_alpha=rule.mixup_alpha,
        learning_rate=rule.learning_rate,
    )


def train(config: TrainConfig, strategy=None, *, out=print, return_model: bool = False):
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
    from bit_keras.training.loop import run_recipe

    return run_recipe(
        config, lambda: recipe(config, out), strategy, out=out, return_model=return_model
    )


def recipe(config: TrainConfig, out=print) -> Recipe:
    """BiT-HyperRule for `config`'s model and data, as the loop's recipe.

    Raises:
        ValueError: a model, weights or data flag that cannot work (before anything is read
            beyond the data set's listing).
    """
    import keras

    from bit_keras import data
    from bit_keras.models.freezing import set_trainable
    from bit_keras.training import losses, shared
    from bit_keras.training.evaluation import classification
    from bit_keras.training.lr_schedule import BiTLearningRate

    check_model(config)
    source = shared.load_data(config, out)
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

    def build(learning_rate) -> Parts:
        # BiT transfers with a new zero-initialised head, whatever the loss and the file's.
        model = shared.build_model(config, resolved.num_classes, resolved.crop, out, new_head=True)
        frozen = set_trainable(model, config.trainable)
        if frozen:
            out(
                f"Training {config.trainable}: {_parameters(model.trainable_weights):,} "
                f"of {model.count_params():,} parameters; frozen: {', '.join(frozen)}."
            )
        sgd = keras.optimizers.SGD(learning_rate=learning_rate, momentum=hyperrule.MOMENTUM)
        return Parts(
            model=model,
            optimizer=sgd,
            loss=losses.for_data(source.multi_label),
            evaluation=classification(source.multi_label),
        )

    return Recipe(
        kind="Fine-tuning",
        settings=(
            f"{resolved.train_size} train / {resolved.test_size} test examples, "
            f"{resolved.num_classes} classes{' (multi-label)' if source.multi_label else ''}; "
            f"resize {resolved.resize}, crop {resolved.crop}"
            f"{'' if config.random_crop else ' (no random crop)'}; {schedule.total_steps} steps "
            f"(warm-up {schedule.warmup_steps}, x0.1 after {list(schedule.decay_steps)}); "
            f"lr {resolved.learning_rate:g} at batch {config.batch_size}; "
            f"MixUp alpha {resolved.mixup_alpha}"
            + ("" if config.trainable == "all" else f"; trainable: {config.trainable}")
        ),
        total_steps=schedule.total_steps,
        learning_rate=BiTLearningRate.from_schedule(resolved.learning_rate, schedule),
        build=build,
        train_dataset=shared.training_data(
            examples,
            config,
            resize=resolved.resize,
            crop=resolved.crop,
            num_classes=resolved.num_classes,
            mixup_alpha=resolved.mixup_alpha,
        ),
        eval_dataset=shared.evaluation_data(source, resolved.crop),
        eval_size=source.test_size,
        advice=shared.lower_lr_advice(config),
        record={
            "resolved": dataclasses.asdict(resolved),
            "class_names": list(source.class_names),
            "multi_label": source.multi_label,
            "data": source.origin,
        },
    )


def _parameters(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)
