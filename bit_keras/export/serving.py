"""The functions exported models compute: [0, 1] images or encoded bytes in, BiT outputs out.

Both exporters share them, so a TF Hub SavedModel and a TFLite file of the same model take
the same input and give the same numbers.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from bit_keras.data import image_io

# The two shapes of TF Hub image models, and the name of the output of each.
SIGNATURES = ("feature_vector", "classification")
OUTPUT_NAMES = {"feature_vector": "feature_vector", "classification": "logits"}
IMAGES_INPUT = "images"
BYTES_INPUT = "image_bytes"
# The pre-logits: the global average pool in front of the head (`BiTResNetV2`).
PRE_LOGITS_LAYER = "avg_pool"


def output_model(model: keras.Model, signature: str) -> keras.Model:
    """The model an export computes: `model` for classification, its pre-logits for features.

    The feature-vector model shares `model`'s layers and variables, less the head.
    """
    if signature not in SIGNATURES:
        raise ValueError(f"`signature` must be one of {SIGNATURES}. Received: {signature!r}")
    if signature == "classification":
        if len(model.output_shape) != 2:
            raise ValueError(
                f"Model {model.name!r} has no classification head (output shape "
                f"{model.output_shape}); export its feature vector instead."
            )
        return model
    try:
        pre_logits = model.get_layer(PRE_LOGITS_LAYER).output
    except ValueError:
        raise ValueError(
            f"Model {model.name!r} has no {PRE_LOGITS_LAYER!r} layer, so its pre-logits "
            "cannot be found; build it with the top or with pooling='avg'."
        ) from None
    return keras.Model(model.inputs, pre_logits, name=f"{model.name}_feature_vector")


def model_outputs(model: keras.Model, images: tf.Tensor, training: bool = False) -> tf.Tensor:
    """Runs `model` on float images in [0, 1]: BiT's [-1, 1] scaling is done here, in the graph.

    `images * 2 - 1` is `bit_keras.preprocess_input(images * 255)`. Outputs are float32, also
    for a mixed-precision model.
    """
    # Checked when run (a signature's declared shape is not): a wrong rank or channel count
    # fails here, naming both shapes, instead of deep inside the network.
    images = tf.ensure_shape(images, [None, None, None, 3], name="check_images")
    return tf.cast(model(images * 2.0 - 1.0, training=training), tf.float32)


def decode_images(image_bytes: tf.Tensor, resolution: int) -> tf.Tensor:
    """Decodes a batch of encoded JPEG/PNG/GIF/BMP images to float32 [0, 1], resized square.

    The resize is `bit_keras.data.image_io`'s (bilinear, antialiased, the whole image: BiT
    evaluates without a center crop), the same as `load_image` and `tools/predict.py`.
    """

    def decode(data):
        image = image_io.resize_images(image_io.decode_image(data), resolution)
        return image / 255.0

    return tf.map_fn(
        decode,
        image_bytes,
        fn_output_signature=tf.TensorSpec([resolution, resolution, 3], tf.float32),
    )
