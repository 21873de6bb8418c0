r"""Fine-tunes a BiT model with BiT-HyperRule (also installed as the `bit-train` command).

Example (the README's main job: offline, about 2 minutes on 2 CPU cores, a small BiT
trained from scratch on the built-in digits; prints the test accuracy and the model's path):
    python tools/train.py --model=R14x1 --weights=none --dataset=digits --logdir=/tmp/digits \
        --batch_size=64 --base_lr=0.24 --steps=300 --resize=16 --crop=16 --norandom_flip \
        --jit_compile

Fine-tune BiT-M-R50x1 on CIFAR-10 with the full rule (downloads the checkpoint and the data):
    python tools/train.py --model=BiT-M-R50x1 --dataset=cifar10 --logdir=/tmp/cifar10

Restarting the same command resumes from the last checkpoint in --logdir. Flags: --helpfull.
"""

from bit_keras.training.cli import run

if __name__ == "__main__":
    run()
