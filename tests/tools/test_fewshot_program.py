"""`tools/fewshot.py` as a user runs it: the table, the JSON, the library's numbers."""

import json

import numpy as np

import bit_keras
from bit_keras import data
from bit_keras.features import Embedder
from bit_keras.features.fewshot import fewshot_accuracy
from bit_test_utils import OFFICIAL_CKPT, run_python


def test_table_and_json_are_the_librarys_numbers(tmp_path):
    output = tmp_path / "fewshot.json"
    result = run_python(
        [
            "tools/fewshot.py",
            f"--model={OFFICIAL_CKPT}",
            "--resolution=16",
            "--dataset=digits",
            "--shots=5,1",
            "--seeds=2",
            f"--output={output}",
        ],
        as_user=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    written = json.loads(output.read_text())
    assert list(written) == ["1", "5"]
    assert all(len(written[k]["seeds"]) == 2 for k in written)
    # The same numbers from the library, on features computed here.
    source = data.digits_source()
    embedder = Embedder(bit_keras.model_from_checkpoint(str(OFFICIAL_CKPT)))
    train = embedder.features_of(source, "train", resolution=16, batch_size=64)
    test = embedder.features_of(source, "test", resolution=16, batch_size=64)
    expected = fewshot_accuracy(*train, *test, shots=(1, 5), seeds=2)
    for k in (1, 5):
        np.testing.assert_allclose(written[str(k)]["seeds"], expected[k]["seeds"], atol=1e-9)
    lines = result.stdout.splitlines()
    table = lines[lines.index("shots  accuracy (mean +- std)  per seed") + 1 :]
    assert table[0].split()[:4] == [
        "1",
        f"{expected[1]['mean']:.4f}",
        "+-",
        f"{expected[1]['std']:.4f}",
    ]
    assert table[1].split()[0] == "5"
    assert lines[-1] == f"Wrote {output}"


def test_unlabelled_data_and_bad_shots_are_named(tmp_path):
    result = run_python(
        ["tools/fewshot.py", f"--model={OFFICIAL_CKPT}", "--resolution=16", "--shots=0"]
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "bit-fewshot: error: --shots must be at least 1. Received: ['0']"
    )
    result = run_python(
        ["tools/fewshot.py", f"--model={OFFICIAL_CKPT}", "--resolution=16", "--shots=200"]
    )
    assert result.returncode == 1
    assert "200 shots need 200 training examples of every class" in result.stderr
