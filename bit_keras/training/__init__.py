"""Fine-tuning BiT models with BiT-HyperRule on tf.distribute.

A top layer of the package: it builds every model through `bit_keras.pretrained.create_model`
and reads data through `bit_keras.data`; nothing in bit_keras imports it.
"""

from bit_keras.training import hyperrule
from bit_keras.training.config import ResolvedConfig, TrainConfig, resolve
from bit_keras.training.loop import train
from bit_keras.training.strategy import make_strategy

__all__ = ["ResolvedConfig", "TrainConfig", "hyperrule", "make_strategy", "resolve", "train"]
