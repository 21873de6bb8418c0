r"""Classifies an image with a BiT model and prints the top classes.

Example (no download; the small checkpoint in the official layout that the project's fixtures
hold has RANDOM weights, so its classes mean nothing):
    bit-predict \
        --checkpoint=../shared/fixtures/bit_official_layout/bit_r14x1_head10_official_layout.npz

With a published model (downloaded once, run at its registry resolution, 448 here) and a
picture of your own:
    bit-predict --checkpoint=BiT-M-R50x1-ILSVRC2012 --image=cat.jpg

timm's copy of it on the Hugging Face Hub (into the Hugging Face cache; HF_HUB_OFFLINE=1
runs from that cache):
    bit-predict --checkpoint=hf-hub:timm/resnetv2_50x1_bit.goog_in21k_ft_in1k
"""

from __future__ import annotations

import os

from absl import flags

from bit_keras.programs.runner import run, start

PROGRAM = "bit-predict"

_CHECKPOINT = flags.DEFINE_string(
    "checkpoint",
    None,
    "A published model's name (e.g. BiT-M-R50x1), an official .npz file, timm's "
    "model.safetensors or its folder, or an hf-hub:ORG/NAME[@REVISION] repository in timm's "
    "layout.",
)
_IMAGE = flags.DEFINE_string(
    "image", None, "JPEG/PNG/GIF/BMP to classify. Default: a synthetic picture made in memory."
)
_RESOLUTION = flags.DEFINE_integer(
    "resolution",
    None,
    "Size the image is resized to. Default: the published model's resolution (the registry's, "
    "also for its official file name or timm's Hub copy), or the input size in timm's "
    "config.json, else 224.",
    lower_bound=1,
)
_TOP = flags.DEFINE_integer("top", 5, "How many classes to print.", lower_bound=1)


def _check() -> tuple:
    from bit_keras.pretrained.catalog import check_source

    check_source(_CHECKPOINT.value)
    if _IMAGE.value and not os.path.isfile(_IMAGE.value):
        raise ValueError(f"No image file at {_IMAGE.value!r}.")
    return ()


def _predict() -> None:
    import bit_keras
    from bit_keras.data import image_io
    from bit_keras.predictions import top_classes
    from bit_keras.pretrained.builder import checkpoint_path, default_resolution

    path = checkpoint_path(_CHECKPOINT.value)
    model = bit_keras.model_from_checkpoint(path)
    resolution = _RESOLUTION.value or default_resolution(_CHECKPOINT.value)
    if _IMAGE.value:
        image, what = image_io.load_image(_IMAGE.value, resolution), _IMAGE.value
    else:
        image = image_io.synthetic_image(resolution)
        what = "a synthetic picture (made in memory, shows nothing real)"
    logits = model.predict(bit_keras.preprocess_input(image[None]), verbose=0)
    print(f"Model: {model.name} from {path} ({model.count_params():,} parameters)")
    print(f"Image: {what}, {resolution}x{resolution}")
    rows = top_classes(logits, _TOP.value)[0]  # at most as many as the head has classes
    print(f"Top {len(rows)} of {logits.shape[-1]:,} classes (logits):")
    for rank, (class_id, name, score) in enumerate(rows, 1):
        print(f"  {rank}. {score:9.4f}  {class_id}  {name}")


def main() -> None:
    """The `bit-predict` command (and tools/predict.py)."""
    start(__name__, lambda: run(PROGRAM, _check, _predict), required=["checkpoint"])
