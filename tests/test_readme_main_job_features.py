"""The README's feature commands, as written, on the main job's model (tests/main_job.py):
bit-embed and its file read as the README reads it, bit-fewshot against raw pixels, and a
linear probe (`--trainable=head`)."""

import json
import re

import numpy as np

from bit_test_utils import readme_python_blocks, run_python
from main_job import readme_command


def test_the_main_jobs_feature_commands_as_written(main_job, tmp_path):
    logdir = main_job.logdir
    result = run_python(readme_command("tools/embed.py --model=/tmp/bit_digits", logdir, tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    (block,) = [b for b in readme_python_blocks() if "bit_digits_embeddings.npz" in b]
    block = block.replace("/tmp/", f"{tmp_path}/") + "\nprint(embeddings.shape, len(labels))"
    read = run_python(["-c", block])
    assert read.returncode == 0 and "(1797, 2048) 1797" in read.stdout, read.stderr[-2000:]

    result = run_python(
        readme_command("tools/fewshot.py --model=/tmp/bit_digits", logdir, tmp_path)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout)
    results = json.loads((tmp_path / "bit_digits_fewshot.json").read_text())
    assert sorted(results, key=int) == ["1", "5", "10", "25"]
    # The fine-tuned model's features beat the raw pixels at 10 shots (82% here).
    pixels = _raw_pixel_fewshot()
    print(f"10 shots: the main job's features {results['10']['mean']:.4f}, raw pixels {pixels:.4f}")
    assert results["10"]["mean"] > pixels + 0.05

    args = readme_command(
        "--weights=/tmp/bit_digits/model.keras --dataset=digits", logdir, tmp_path
    )
    assert f"--weights={logdir}/model.keras" in args
    result = run_python(args, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Training head: 20,490 of " in result.stdout
    match = re.search(r"Test accuracy (\d\.\d+) on 359 examples", result.stdout)
    print(f"Linear probe on the main job's model: {match[0]}")
    assert float(match[1]) >= 0.9


def _raw_pixel_fewshot() -> float:
    from bit_keras.data import digits_source
    from bit_keras.features.fewshot import fewshot_accuracy

    source = digits_source()
    train = list(source.train().as_numpy_iterator())
    test = list(source.test().as_numpy_iterator())
    features = [
        np.stack([x.reshape(-1) for x, _ in split]).astype("float32") for split in (train, test)
    ]
    labels = [np.array([y for _, y in split]) for split in (train, test)]
    results = fewshot_accuracy(features[0], labels[0], features[1], labels[1], shots=(10,))
    return results[10]["mean"]
