"""`tools/embed.py` as a user runs it: a folder embedded, a query answered, an interrupt kept
and resumed."""

import signal

import numpy as np
from PIL import Image

from bit_keras.features import read_embeddings
from bit_test_utils import OFFICIAL_CKPT, REPO, run_python, signal_when

MODEL = [f"--model={OFFICIAL_CKPT}", "--resolution=32"]


def test_a_folder_then_a_query(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(10):
        Image.fromarray(rng.integers(0, 256, (40, 30 + i, 3), dtype=np.uint8)).save(
            folder / f"{i}.jpg"
        )
    output = tmp_path / "photos.npz"
    args = ["tools/embed.py", *MODEL, f"--dataset=folder:{folder}", f"--output={output}"]
    result = run_python([*args, "--batch_size=4", "--dtype=float16"], as_user=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert "Embedding 10 images of folder:" in lines[3] and "unlabelled" in lines[3]
    assert lines[-1] == f"Wrote 10 embeddings of 2048 features (float16) to {output}"
    found = read_embeddings(output)
    assert found.embeddings.dtype == np.float16 and found.info["model"] == str(OFFICIAL_CKPT)
    again = run_python(args, as_user=True)
    assert again.returncode == 1 and "exists; pass --overwrite" in again.stderr

    query = folder / "6.jpg"
    result = run_python(
        [str(REPO / "tools/embed.py"), f"--embeddings={output}", f"--query={query}", "--top_k=3"],
        cwd=tmp_path,
        as_user=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[1].startswith(f"The 3 nearest of 10 images in {output} to {query}")
    rank, score, path = lines[2].split()
    assert (rank, path) == ("1.", str(query)) and float(score) > 0.999  # float16 rounding
    assert len(lines) == 5


def test_an_interrupted_run_keeps_its_shards_and_resumes(tmp_path):
    output = tmp_path / "digits.npz"
    command = [
        "tools/embed.py",
        *MODEL,
        "--dataset=digits",
        f"--output={output}",
        "--shard_size=100",
        "--batch_size=20",
    ]
    stopped = signal_when(command, lambda out: "Wrote shard 2/" in out, signal.SIGTERM)
    assert stopped.returncode == 130, stopped.stderr[-2000:]
    assert "shard(s)" in stopped.stderr and f"are kept in {output}.parts" in stopped.stderr
    assert "run the same command again to resume" in stopped.stderr
    assert not output.exists()

    resumed = run_python(command)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    resuming = [line for line in resumed.stdout.splitlines() if line.startswith("Resuming")]
    assert resuming and "of 18 shard(s)" in resuming[0]
    assert len(read_embeddings(output).embeddings) == 1797
    assert not (tmp_path / "digits.npz.parts").exists()
