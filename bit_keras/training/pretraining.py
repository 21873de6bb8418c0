"""The upstream pre-training recipe (BiT's own): its config, `recipe` and `pretrain`.

What it takes from the paper and from big_vision is in `upstream.py` (the constants and
their sources): SGD with momentum 0.9 at 0.03 per 256 images, L2 weight decay 1e-4 on the
kernels, linear warm-up, the paper's steps or a cosine decay, the gradient's global norm
clipped to 1.0; Inception-style random crops and flips; evaluation on the shorter side
resized to 256/224 of the crop, centre-cropped. The loss follows the data: softmax
cross-entropy for one label per image, sigmoid cross-entropy for several (ImageNet-21k's
case), with the new head's bias at -10 as big_vision starts it.

At the end of the run the logdir holds `model.keras`, `model.npz` (the body and head in the
official BiT layout, which the official code, timm and big_vision read) and `config.json`.
The config loads no TensorFlow (`bit-pretrain` defines its flags from it first).
"""

from __future__ import annotations

import dataclasses

from bit_keras.training import upstream
from bit_keras.training.config import RunConfig, check_length, check_model
from bit_keras.training.recipe import Parts, Recipe


@dataclasses.dataclass(frozen=True, kw_only=True)
class PretrainConfig(RunConfig):
    """An upstream pre-training run (`bit-pretrain`): BiT's own recipe (`upstream`).

    The shared fields are `RunConfig`'s, with the paper's defaults where they differ: an
    architecture from scratch (`R50x1`, `weights="none"`), batch 4,096 and a 224 crop. `steps`
    sets the run's length in steps, `epochs` in passes over the training split (90 when
    neither is given).

    Attributes:
        base_lr: Learning rate per 256 images, scaled linearly to `batch_size` (paper: 0.03).
        weight_decay: L2 penalty on the kernels (paper: 1e-4; 0 for none).
        clip_norm: Clip the gradient's global norm to this (big_vision: 1.0; 0 for none).
        schedule: `paper` (x0.1 after 30, 60 and 80 of 90 epochs) or `cosine` (big_vision's).
        epochs: Passes over the training split; the paper's 90 when `steps` is not given.
        warmup_steps: Steps of linear warm-up. None: the paper's 5,000 at batch 4,096 (the
            same number of images at other batches), at most a fifth of the run.
    """

    model: str = "R50x1"
    weights: str = "none"
    batch_size: int = upstream.BATCH_SIZE
    crop: int | None = upstream.CROP
    base_lr: float = upstream.BASE_LR
    weight_decay: float = upstream.WEIGHT_DECAY
    clip_norm: float = upstream.CLIP_NORM
    schedule: str = "paper"
    epochs: float | None = None
    warmup_steps: int | None = None

    def _positive_numbers(self) -> tuple[str, ...]:
        return ("base_lr",)

    def __post_init__(self):
        super().__post_init__()
        for name in ("weight_decay", "clip_norm"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {name}={getattr(self, name)}")
        if self.schedule not in upstream.SCHEDULES:
            raise ValueError(
                f"`schedule` must be one of {upstream.SCHEDULES}. Received: {self.schedule!r}"
            )
        check_length(self)


def pretrain(config: PretrainConfig, strategy=None, *, out=print, return_model: bool = False):
    """Pre-trains a BiT with the upstream recipe; resumes from the last checkpoint in logdir.

    The training loop (`loop.run_recipe`) with this module's recipe, so everything
    `bit_keras.training.train` guarantees holds: checks before anything is written, every
    tf.distribute strategy, checkpoints on Ctrl-C and SIGTERM, exact resume.

    Returns:
        The final metrics (`step`, `test_accuracy` or `test_precision_at_1`, `train_loss`,
        `model_path`, `loss_history`, ...), and the model when `return_model`.
    """
    from bit_keras.training.loop import run_recipe

    return run_recipe(
        config, lambda: recipe(config, out), strategy, out=out, return_model=return_model
    )


def recipe(config: PretrainConfig, out=print) -> Recipe:
    """BiT's upstream recipe for `config`'s model and data, as the loop's recipe.

    Raises:
        ValueError: a model, weights or data flag that cannot work.
    """
    import keras

    from bit_keras import data
    from bit_keras.training import losses, shared
    from bit_keras.training.evaluation import classification

    check_model(config)
    source = shared.load_data(config, out)
    crop = config.crop or upstream.CROP
    eval_resize = round(crop * data.EVAL_RESIZE_RATIO)
    steps, warmup = shared.resolve_schedule(config, source.train_size, upstream.EPOCHS)
    lr = upstream.learning_rate(config.batch_size, config.base_lr)
    head_bias = losses.SIGMOID_HEAD_BIAS if source.multi_label else 0.0
    clip_norm = config.clip_norm or None
    if config.schedule == "paper":
        decays = upstream.paper_schedule(steps, warmup).decay_steps
        shape = f"x0.1 after {list(decays)}"
    else:
        shape = "cosine decay to 0"

    def build(learning_rate) -> Parts:
        # Going on from weights with a head of these classes keeps it; another is new.
        model = shared.build_model(
            config, source.num_classes, crop, out, new_head=False, head_bias=head_bias
        )
        sgd = keras.optimizers.SGD(learning_rate=learning_rate, momentum=upstream.MOMENTUM)
        return Parts(
            model=model,
            optimizer=sgd,
            loss=losses.for_data(source.multi_label),
            evaluation=classification(source.multi_label),
            weight_decay=config.weight_decay,
            decayed=shared.kernels(model) if config.weight_decay else (),
            clip_norm=clip_norm,
        )

    loss_name = "sigmoid" if source.multi_label else "softmax"
    resolved = {
        "train_size": source.train_size,
        "test_size": source.test_size,
        "num_classes": source.num_classes,
        "multi_label": source.multi_label,
        "loss": f"{loss_name} cross-entropy",
        "head_bias": head_bias,
        "crop": crop,
        "eval_resize": eval_resize,
        "steps": steps,
        "warmup_steps": warmup,
        "schedule": config.schedule,
        "learning_rate": lr,
        "weight_decay": config.weight_decay,
        "clip_norm": clip_norm,
        "momentum": upstream.MOMENTUM,
    }
    return Recipe(
        kind="Pre-training",
        settings=(
            f"{source.train_size} train / {source.test_size} test examples, "
            f"{source.num_classes} classes ({loss_name} cross-entropy"
            f"{', head bias -10' if head_bias else ''}); Inception crops at {crop}, evaluation "
            f"at {eval_resize} then centre {crop}; {steps} steps (warm-up {warmup}, {shape}); "
            f"lr {lr:g} at batch {config.batch_size}; weight decay {config.weight_decay:g}; "
            f"gradient norm clipped at {clip_norm if clip_norm else 'none'}"
        ),
        total_steps=steps,
        learning_rate=shared.learning_rate_schedule(config.schedule, lr, steps, warmup),
        build=build,
        # Inception crops (`resize=None`); no MixUp upstream.
        train_dataset=shared.training_data(
            source.train_examples, config, resize=None, crop=crop, num_classes=source.num_classes
        ),
        eval_dataset=shared.evaluation_data(source, crop, eval_resize),
        eval_size=source.test_size,
        advice=shared.lower_lr_advice(config),
        record={"resolved": resolved, "class_names": list(source.class_names)},
        write_outputs=shared.write_official_weights,
    )
