"""`keras.applications`-style constructors, one per published BiT model and weight set.

The public path of `bit_keras.pretrained.applications`, where they are defined:

    model = bit_keras.applications.BiT_M_R50x1()                # ImageNet-21k, 21,843 classes
    model = bit_keras.applications.BiT_M_R50x1(classes=10)      # new zero head for transfer
    features = bit_keras.applications.BiT_S_R101x1(include_top=False, pooling="avg")
"""

from bit_keras.pretrained.applications import *  # noqa: F403
from bit_keras.pretrained.applications import __all__  # noqa: F401
