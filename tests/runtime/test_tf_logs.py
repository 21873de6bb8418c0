"""TensorFlow's own log lines stay out of the programs' output, and come back when asked."""

import os

from bit_keras._runtime import tf_logs
from bit_test_utils import OFFICIAL_CKPT, TENSORFLOW_LOG_LINE, TF_LOGS_ENV, run_python


def test_held_stderr_drops_tensorflows_lines_and_keeps_the_rest(capfd):
    with tf_logs.held_stderr():
        # Written to the descriptor, as TensorFlow's C++ code writes.
        os.write(2, b"I0000 00:00:1796244671.452020    6761 port.cc:153] oneDNN custom ops\n")
        os.write(
            2,
            b"WARNING: All log messages before absl::InitializeLog() is called are written "
            b"to STDERR\n",
        )
        os.write(2, b"a line of ours\n")
        os.write(2, b"E1202 20:51:30.613528 140348393823104 saver.py:440] absl's format\n")
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    assert capfd.readouterr().err == "a line of ours\n"


def test_a_program_prints_its_own_lines_unless_told_otherwise():
    args = ["tools/predict.py", f"--checkpoint={OFFICIAL_CKPT}"]
    quiet = run_python(args, as_user=True)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert quiet.stderr == ""
    assert not any(TENSORFLOW_LOG_LINE.match(line) for line in quiet.stdout.splitlines())
    loud = run_python(args, as_user=True, env={TF_LOGS_ENV: "1"})
    assert loud.returncode == 0, loud.stderr[-2000:]
    assert any(TENSORFLOW_LOG_LINE.match(line) for line in loud.stderr.splitlines())
