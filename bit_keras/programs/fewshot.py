r"""Few-shot linear evaluation of a BiT's frozen features, as big_vision judges representations.

The pre-logits (or --features) of the training and test splits are computed once; then, for
each number of --shots per class and each of --seeds seeds, a closed-form L2-regularised
least-squares classifier on one-hot targets is fit on that many training examples per class
and scored on the whole test split (`bit_keras.features.fewshot`: big_vision's
evaluators/fewshot_lsr.py, its regulariser 2^10 and shots 1, 5, 10, 25). Prints a table of
mean +- std over the seeds and writes it to --output as JSON: {"10": {"mean": ..., "std": ...,
"seeds": [...]}, ...}.

Example (offline, the main job's fine-tuned model on digits):
    bit-fewshot --model=/tmp/bit_digits/model.keras --dataset=digits \
        --output=/tmp/bit_digits_fewshot.json

A published model on a TFDS data set (downloaded once):
    bit-fewshot --model=BiT-M-R50x1 --dataset=cifar10 --shots=1,5,10,25 --seeds=5
"""

from __future__ import annotations

import json
import os

from absl import flags

from bit_keras.features.fewshot import FEWSHOT_L2_REG, FEWSHOT_SEEDS, FEWSHOT_SHOTS
from bit_keras.programs.runner import run, start
from bit_keras.programs.shared_flags import DataFlags, ModelFlags, define, load_model, print_line

PROGRAM = "bit-fewshot"

_MODEL = ModelFlags.define()
_DATA = DataFlags.define(dataset_default="digits")
_FEATURES = define("features", "pre_logits")
_BATCH_SIZE = define("batch_size", 64, "Images per batch.", lower_bound=1)
_JIT_COMPILE = define("jit_compile", False)
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


def _check():
    spec = _MODEL.check(min_resolution=1)
    _DATA.check()
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
    from bit_keras.features.fewshot import fewshot_table
    from bit_keras.features.fewshot_evaluation import evaluate_fewshot

    model = load_model(spec, out=print_line).model
    source = _DATA.load(out=print_line)
    results = evaluate_fewshot(
        model,
        source,
        resolution=spec.resolution,
        features=_FEATURES.value,
        shots=shots,
        seeds=_SEEDS.value,
        l2_reg=_L2_REG.value,
        batch_size=_BATCH_SIZE.value,
        jit_compile=_JIT_COMPILE.value,
        out=print_line,
    )
    print_line(
        f"Few-shot linear evaluation of {spec.source} ({_FEATURES.value}) on "
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


def main() -> None:
    """The `bit-fewshot` command (and tools/fewshot.py)."""
    start(__name__, lambda: run(PROGRAM, _check, _evaluate))
