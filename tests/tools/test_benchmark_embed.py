"""tools/benchmark_embed.py: bit-embed's images/s against the model's inference figure."""

import re

from bit_test_utils import run_python


def test_prints_both_figures_and_their_ratio():
    result = run_python(
        [
            "tools/benchmark_embed.py",
            "--model=R14x1",
            "--resolution=32",
            "--batch_size=4",
            "--images=12",
            "--height=40",
            "--width=48",
            "--repeats=2",
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = re.search(
        r"R14x1, batch 4 at 32 px: inference .* ([\d.]+) images/s \(([\d.]+) before, ([\d.]+) "
        r"after\); bit-embed on 48x40 JPEGs .* ([\d.]+) images/s: ([\d.]+)x",
        result.stdout,
    )
    assert line, result.stdout
    model, before, after, embed, ratio = (float(line[i]) for i in range(1, 6))
    assert min(before, after, embed) > 0
    assert abs(model - (before + after) / 2) < 0.1
    assert abs(ratio - embed / model) < 0.01
