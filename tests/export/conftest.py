"""A tiny BiT model as an export source: two units, random kernels and head, 5 classes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

RESOLUTION = 32
CLASSES = 5


@pytest.fixture(scope="session")
def tiny_source():
    from bit_keras.export import ModelSource
    from bit_keras.models.bit_resnet_v2 import BiTResNetV2
    from bit_keras.pretrained.model_source import ModelSpec

    keras.utils.set_random_seed(0)
    model = BiTResNetV2((1, 1), 1, classes=CLASSES, name="tiny_bit")
    rng = np.random.default_rng(0)
    # BiT's head starts at zero; a random one makes the logits (and their checks) informative.
    head = model.get_layer("head")
    head.kernel.assign(rng.normal(0, 0.05, head.kernel.shape).astype("float32"))
    head.bias.assign(rng.normal(0, 0.1, head.bias.shape).astype("float32"))
    spec = ModelSpec("tiny_bit.keras", "keras", RESOLUTION, "the test")
    labels = tuple(f"class_{i}" for i in range(CLASSES))
    return ModelSource(spec, model, labels, "tiny_bit", "A tiny BiT for tests.")


@pytest.fixture(scope="session")
def images():
    from bit_keras.export import synthetic_images

    return synthetic_images(6, RESOLUTION).images
