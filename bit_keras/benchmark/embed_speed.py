"""bit-embed's images/s against the model's own inference figure (`tools/benchmark.py`'s).

`run` writes synthetic JPEGs, then times, on one random-weight BiT: the inference figure
exactly as `compare` measures it (a `tf.function` forward on one batch of random tensors,
kernels cached, median of repeats), and `bit-embed`'s library (`features.Embedder`) reading,
decoding, resizing and embedding the whole folder at the same batch and resolution. The
inference figure is taken before and after the embedding pass and averaged, so that a shared
machine's drift does not favour either.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable

import keras
import tensorflow as tf

from bit_keras._runtime.backend_check import require_tensorflow_backend
from bit_keras.benchmark.compare import interleaved, random_images
from bit_keras.benchmark.image_check import write_images
from bit_keras.data.sources import load_source
from bit_keras.features.embedder import Embedder
from bit_keras.layers.kernel_cache import cached_standardization
from bit_keras.pretrained.builder import create_model


@dataclasses.dataclass(frozen=True)
class EmbedBenchmarkConfig:
    """What `run` measures.

    Attributes:
        model: A bit_keras architecture (`R50x1`), random weights.
        batch_size: Batch of both figures (`tools/benchmark.py`'s default, 16).
        resolution: Image size of both (its default, 224).
        images: Synthetic JPEGs embedded.
        height: Their height (ImageNet's are ~375x500).
        width: Their width.
        repeats: Timed calls of the inference figure, before and after.
        warmup: Untimed calls before them.
        jit_compile: XLA for both.
    """

    model: str = "R50x1"
    batch_size: int = 16
    resolution: int = 224
    images: int = 320
    height: int = 375
    width: int = 500
    repeats: int = 5
    warmup: int = 2
    jit_compile: bool = False

    def __post_init__(self):
        for name in ("batch_size", "resolution", "images", "height", "width", "repeats"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be positive. Received: {getattr(self, name)}")


def run(config: EmbedBenchmarkConfig, log: Callable[[str], object] = print) -> dict:
    """Times both figures; returns `{"inference": images/s, "embed": images/s, "ratio": r}`."""
    require_tensorflow_backend("The embedding benchmark")
    keras.utils.set_random_seed(0)
    model = create_model(config.model, weights=None, input_shape=(None, None, 3))
    batch, size = config.batch_size, config.resolution
    images = random_images(batch, size)

    def inference() -> float:
        with cached_standardization(model):
            forward = tf.function(
                lambda x: model(x, training=False), jit_compile=config.jit_compile
            )
            seconds = interleaved(
                {"bit": lambda: forward(images).numpy()}, config, log, "inference"
            )["bit"]
        return batch / seconds

    with tempfile.TemporaryDirectory(prefix="bit_keras_embed_") as folder:
        log(f"Writing {config.images} synthetic {config.width}x{config.height} JPEGs ...")
        write_images(folder, config.images, config.height, config.width)
        source = load_source(f"folder:{folder}", image_check="header", unlabelled=True, out=log)
        before = inference()
        embedder = Embedder(model, jit_compile=config.jit_compile)
        batches = embedder.batches(source, "all", resolution=size, batch_size=batch)
        next(batches)  # traces and compiles, as the first of the inference figure's calls
        began, count = time.perf_counter(), 0
        for embeddings, _ in batches:
            count += len(embeddings)
        embed = count / (time.perf_counter() - began)
        after = inference()
    model_figure = (before + after) / 2
    log(
        f"{config.model}, batch {batch} at {size} px: inference (tools/benchmark.py's figure, "
        f"kernels cached) {model_figure:.1f} images/s ({before:.1f} before, {after:.1f} after); "
        f"bit-embed on {config.width}x{config.height} JPEGs (read, decoded, resized) "
        f"{embed:.1f} images/s: {embed / model_figure:.3f}x"
    )
    return {"inference": model_figure, "embed": embed, "ratio": embed / model_figure}
