r"""Pre-trains a BiT with BiT's upstream recipe (also installed as the `bit-pretrain` command).

Example (the README's pre-training example: offline, a small BiT from scratch on the built-in
digits; prints the test accuracy and where the model and its official-layout .npz went):
    python tools/pretrain.py --model=R14x1 --dataset=digits --logdir=/tmp/bit_digits_pretrain \
        --batch_size=64 --base_lr=0.4 --steps=300 --crop=16 --norandom_flip --jit_compile

Then fine-tune from it (bit-train's --weights takes the run's model.keras or model.npz):
    python tools/train.py --model=R14x1 --weights=/tmp/bit_digits_pretrain/model.keras ...

BiT-S-R50x1 as the paper trains it, on ILSVRC-2012 (TFDS: prepare imagenet2012 first):
    python tools/pretrain.py --model=R50x1 --dataset=imagenet2012 --logdir=/tmp/bit_s_r50x1

Restarting the same command resumes from the last checkpoint in --logdir. Flags: --helpfull.
"""

from bit_keras.training.pretrain_cli import run

if __name__ == "__main__":
    run()
