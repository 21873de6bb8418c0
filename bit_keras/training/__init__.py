"""Fine-tuning BiT models with BiT-HyperRule on tf.distribute."""

from bit_keras.training import hyperrule
from bit_keras.training.config import ResolvedConfig, TrainConfig, resolve
from bit_keras.training.loop import train
from bit_keras.training.strategy import make_strategy

__all__ = ["ResolvedConfig", "TrainConfig", "hyperrule", "make_strategy", "resolve", "train"]
