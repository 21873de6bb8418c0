"""The memory benchmark reads a program's resident memory at its progress lines: a process
that holds more and more is seen to grow, one that does not is flat."""

import sys

import pytest

from bit_keras.benchmark.memory import follow

# A program that prints progress lines as bit-train does, holding 4 MiB more at each one
# (`grow`) or the same 4 MiB all along.
_PROGRAM = """
import sys, time
grow, held = sys.argv[1] == "grow", []
for step in range(1, 11):
    if grow or not held:
        held.append(bytearray(4 << 20))
    print(f"step {step}/10 (x%) loss 1.0", flush=True)
    time.sleep(0.02)
print("Test accuracy 0.5 on 10 examples.")
"""


@pytest.mark.parametrize("grow", [True, False])
def test_resident_memory_is_read_at_each_progress_line(grow):
    figure = follow(
        [sys.executable, "-c", _PROGRAM, "grow" if grow else "flat"], "toy", "step", 0.2
    )
    assert [done for done, _ in figure.samples] == list(range(1, 11))
    assert figure.warm_up == 2 and figure.end == 10
    held = figure.end_bytes - figure.warm_bytes
    if grow:  # 8 lines of 4 MiB more
        assert 30 << 20 <= held <= 34 << 20, held
    else:
        assert abs(held) < 1 << 20, held
    assert figure.peak_bytes >= figure.end_bytes
    assert figure.words().startswith("toy: resident memory ")
