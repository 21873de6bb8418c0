r"""Few-shot linear evaluation of a BiT's frozen features, as big_vision judges representations
(`bit-fewshot`).

The pre-logits (or --features) of the training and test splits are computed once; then, for
each number of --shots per class and each of --seeds seeds, a closed-form L2-regularised
least-squares classifier on one-hot targets is fit on that many training examples per class
and scored on the whole test split (`bit_keras.features.fewshot`: big_vision's
evaluators/fewshot_lsr.py, its regulariser 2^10 and shots 1, 5, 10, 25). Prints a table of
mean +- std over the seeds and writes it to --output as JSON: {"10": {"mean": ..., "std": ...,
"seeds": [...]}, ...}.

Example (offline, the main job's fine-tuned model on digits):
    .venv/bin/python tools/fewshot.py --model=/tmp/bit_digits/model.keras --dataset=digits \
        --output=/tmp/bit_digits_fewshot.json

A published model on a TFDS data set (downloaded once):
    python tools/fewshot.py --model=BiT-M-R50x1 --dataset=cifar10 --shots=1,5,10,25 --seeds=5
"""

from bit_keras.features.fewshot_cli import run

if __name__ == "__main__":
    run()
