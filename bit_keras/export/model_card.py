"""The model card published with a TF Hub SavedModel: Markdown made from the export's facts."""

from __future__ import annotations

import dataclasses

CITATION = """@inproceedings{kolesnikov2020bit,
  title={Big Transfer (BiT): General Visual Representation Learning},
  author={Kolesnikov, Alexander and Beyer, Lucas and Zhai, Xiaohua and Puigcerver, Joan and
          Yung, Jessica and Gelly, Sylvain and Houlsby, Neil},
  booktitle={European Conference on Computer Vision (ECCV)},
  year={2020}
}"""
# The official BiT checkpoints are published under Apache 2.0 (google-research/big_transfer).
LICENCE = "Apache-2.0"


@dataclasses.dataclass(frozen=True)
class CardFacts:
    """What the card says.

    Attributes:
        name: Short name of the model (`bit_m_r50x1`).
        description: One line on what it is.
        source: Where it was exported from (a published name, a file).
        signature: `"feature_vector"` or `"classification"`.
        resolution: The resolution it was trained or evaluated at.
        output_size: Features (2048 x width) or classes.
        output_name: The output key of the signatures.
        parameters: Number of parameters of the exported part of the model.
        bundle: File name of the `.tar.gz`.
    """

    name: str
    description: str
    source: str
    signature: str
    resolution: int
    output_size: int
    output_name: str
    parameters: int
    bundle: str


def model_card(facts: CardFacts) -> str:
    """Returns the Markdown model card of an exported SavedModel."""
    f = facts
    what = (
        f"the pre-logits feature vector ({f.output_size} floats)"
        if f.signature == "feature_vector"
        else f"the logits over {f.output_size} classes (no softmax)"
    )
    return f"""# {f.name}: BiT ResNet-v2, {f.signature.replace("_", " ")}

{f.description}

A Big Transfer (BiT) ResNet-v2 (weight-standardized convolutions, GroupNorm) exported by
bit_keras from `{f.source}` as a TF2 SavedModel ({f.parameters:,} parameters). It outputs
{what}.

## Input and output

- Input: float32 images, `[batch, height, width, 3]`, RGB, values in **[0, 1]**, any size.
  Scaling to BiT's [-1, 1] happens inside the model.
- Resolution: **{f.resolution} x {f.resolution}**, what the weights were trained or evaluated at.
- Output: float32 `[batch, {f.output_size}]`, {what}.
- Signatures: `serving_default` (input `images`, output `{f.output_name}`) for TF Serving, and
  `serving_bytes` (input `image_bytes`: a batch of encoded JPEG/PNG/GIF/BMP strings, decoded and
  resized to {f.resolution} x {f.resolution} in the graph; output `{f.output_name}`).
- The Reusable SavedModel API: `__call__(images, training=False)`, `variables`,
  `trainable_variables`, `regularization_losses`.

## Use with TF Hub (tf-keras)

```python
import tensorflow as tf
import tensorflow_hub as hub
import tf_keras

layer = hub.KerasLayer("path/to/{f.name}", trainable=False)
model = tf_keras.Sequential([
    tf_keras.Input(shape=({f.resolution}, {f.resolution}, 3)),
    layer,
])
outputs = model(images)  # images: float32 in [0, 1]
```

### Fine-tuning

Pass `trainable=True` and add a head; BiT-HyperRule (SGD with momentum 0.9, learning rate
0.003 for batch 512, MixUp) is the recipe of the paper:

```python
model = tf_keras.Sequential([
    tf_keras.Input(shape=({f.resolution}, {f.resolution}, 3)),
    hub.KerasLayer("path/to/{f.name}", trainable=True),
    tf_keras.layers.Dense(num_classes, kernel_initializer="zeros"),
])
model.compile(tf_keras.optimizers.SGD(0.003, momentum=0.9),
              tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
```

## Use in Keras 3

```python
import keras
layer = keras.layers.TFSMLayer("path/to/{f.name}", call_endpoint="serving_default")
outputs = layer(images)["{f.output_name}"]
# or: keras.layers.TFSMLayer("path/to/{f.name}")(images), the `serve` endpoint
```

## Files

`{f.bundle}` holds the SavedModel's files at its root (`saved_model.pb`, `variables/`,
`assets/`), the layout TF Hub and Kaggle Models take.

## Citation

```bibtex
{CITATION}
```

## Licence

{LICENCE}, as the official BiT checkpoints. Weights fine-tuned on your own data are yours to
license.
"""
