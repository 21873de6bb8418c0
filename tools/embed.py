r"""Embeds a data set's images with a BiT, or finds the nearest images to a query (`bit-embed`).

Writes one .npz: `embeddings` (N, D), `labels` where the data set has them, `paths` for image
files, `split`, `class_names` and `info` (how it was made). The pre-logits by default
(`--features=P2|P3|P4` pools a feature map instead). Progress lines give images/s and the
ETA; the work is kept in shards of --shard_size images (OUTPUT.parts/), so an interrupted run
(Ctrl-C, SIGTERM) resumes where it stopped when the same command is run again; the file is
written only when complete.

Example (offline, the main job's fine-tuned model on digits):
    .venv/bin/python tools/embed.py --model=/tmp/bit_digits/model.keras --dataset=digits \
        --output=/tmp/bit_digits_embeddings.npz

The nearest images to a query, from that file (by cosine similarity, embedded with the model,
resolution and features the file records):
    .venv/bin/python tools/embed.py --embeddings=/tmp/bit_photos.npz --query=cat.jpg --top_k=5

A published model on a folder of photos (no class sub-folders needed):
    python tools/embed.py --model=BiT-M-R50x1 --dataset=folder:photos --output=photos.npz
"""

from bit_keras.features.embed_cli import run

if __name__ == "__main__":
    run()
