"""The `bit-fewshot` program: absl flags in, one call into `bit_keras.features`.

Run it as `bit-fewshot` (installed with the package) or `python tools/fewshot.py`; see the module
docstring of tools/fewshot.py for examples.
"""

from __future__ import annotations

import json
import os

from absl import app, flags

from bit_keras.checked_run import run_checked
from bit_keras.features.cli import (
    check_feature_flags,
    define_feature_flags,
    load_feature_model,
    load_feature_source,
    print_line,
    register_key_flags,
)
from bit_keras.features.fewshot import FEWSHOT_L2_REG, FEWSHOT_SEEDS, FEWSHOT_SHOTS

_FLAGS = define_feature_flags(dataset_default="digits")
_SHOTS = flags.DEFINE_list(
    "shots", [str(k) for k in FEWSHOT_SHOTS], "Training examples per class, comma-separated."
)
_SEEDS = flags.DEFINE_integer(
    "seeds", FEWSHOT_SEEDS, "Seeds (draws of the examples) per number of shots.", lower_bound=1
)
_L2_REG = flags.DEFINE_float(
    "l2_reg", FEWSHOT_L2_REG, "The ridge penalty (big_vision's 2^10).", lower_bound=0.0
)
_OUTPUT = flags.DEFINE_string("output", None, "JSON file to write the results to.")

PROGRAM = "tools/fewshot.py"


def _check():
    spec = check_feature_flags(_FLAGS)
    try:
        shots = sorted({int(k) for k in _SHOTS.value})
    except ValueError as e:
        raise ValueError(f"--shots must be whole numbers. Received: {_SHOTS.value}") from e
    if not shots or shots[0] < 1:
        raise ValueError(f"--shots must be at least 1. Received: {_SHOTS.value}")
    output = _OUTPUT.value
    if output and not os.path.isdir(os.path.dirname(os.path.abspath(output))):
        raise ValueError(f"The folder of --output {output!r} does not exist.")
    return spec, shots


def _evaluate(spec, shots):
    from bit_keras._runtime.atomic_write import save_atomically
    from bit_keras.features.embedding_run import Embedder
    from bit_keras.features.fewshot import fewshot_accuracy, fewshot_table

    model = load_feature_model(spec, out=print_line).model
    source = load_feature_source(_FLAGS, out=print_line)
    if source.multi_label or not source.labelled:
        raise ValueError(
            f"The few-shot evaluation needs one class per image; {source.name} is "
            f"{'multi-label' if source.labelled else 'unlabelled'}."
        )
    embedder = Embedder(model, _FLAGS.features.value, _FLAGS.jit_compile.value)
    features = {}
    for split in ("train", "test"):
        print_line(
            f"Computing the {_FLAGS.features.value} ({embedder.width} features) of "
            f"{source.name}'s {split} split ..."
        )
        features[split] = embedder.features_of(
            source, split, resolution=spec.resolution, batch_size=_FLAGS.batch_size.value
        )
    results = fewshot_accuracy(
        *features["train"],
        *features["test"],
        shots=shots,
        seeds=_SEEDS.value,
        l2_reg=_L2_REG.value,
        num_classes=source.num_classes,
    )
    print_line(
        f"Few-shot linear evaluation of {spec.source} ({_FLAGS.features.value}) on "
        f"{source.name}: {source.num_classes} classes, {source.test_size:,} test images, "
        f"l2_reg {_L2_REG.value:g}, {_SEEDS.value} seed(s)"
    )
    print_line(fewshot_table(results))
    if _OUTPUT.value:
        text = json.dumps({str(k): v for k, v in results.items()}, indent=2)

        def write(tmp):
            with open(tmp, "w") as f:
                f.write(text + "\n")

        save_atomically(_OUTPUT.value, write)
        print_line(f"Wrote {_OUTPUT.value}")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    run_checked(PROGRAM, _check, _evaluate)


def run() -> None:
    """Entry point of the `bit-fewshot` console command (and of tools/fewshot.py)."""
    register_key_flags(__name__)
    app.run(main)
