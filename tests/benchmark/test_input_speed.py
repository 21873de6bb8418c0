"""The input benchmark at a toy size: every figure measured and printed."""

import pytest

from bit_keras.benchmark import input_speed


def test_resumes_and_bytes_are_measured_for_every_storage():
    lines = []
    # ImageNet-sized JPEGs (47 KiB): far smaller records make ArrayRecord's reader, which
    # fetches 32 KiB at a time, read each several times over.
    resumes, reads, speeds, resizes = input_speed.run(
        640,
        4,
        1,
        375,
        500,
        out=lines.append,
        throughput_batches=2,
        bytes_epochs=3,
        resize_cases=((375, 500, 448), (375, 500, 160)),
        resize_images=80,
    )
    assert [r.storage for r in resumes][:4] == [r.storage for r in reads]
    assert len(resumes) == 5 and all(r.at_10_percent > 0 and r.at_90_percent > 0 for r in resumes)
    before, *shared = reads
    # One stream: every pipeline reads (nearly) every file; by file: about a quarter each.
    assert min(before.per_pipeline) > 0.8 * before.total
    for figure in shared:
        # Within a window read ahead (here a whole share) over the 3 epochs measured.
        assert sum(figure.per_pipeline) == pytest.approx(figure.total, rel=0.35)
        assert max(figure.per_pipeline) <= figure.total / 4 + 2 * figure.largest_file
    assert sum(line.startswith("resume, ") for line in lines) == 5
    assert sum(line.startswith("bytes, ") for line in lines) == 4
    assert [s.threads for s in speeds] == [1, 2]
    assert all(s.pipeline > 0 and s.floor > 0 and s.floor_scaled > 0 for s in speeds)
    assert sum(line.startswith("throughput on ") for line in lines) == 2
    # Under twice the size, the same pixels; at 375 >= 2 * 160 - 1, a 1/2-scale decode.
    assert [(r.size, r.mean_difference == 0) for r in resizes] == [(448, True), (160, False)]
    assert all(r.whole > 0 and r.scaled > 0 for r in resizes)
    assert lines[-1].startswith("resize of 500x375 JPEGs to 160 (fine-tuning), 1 thread")


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match="examples=10"):
        input_speed.run(10, 4, 1)
