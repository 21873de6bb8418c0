"""TensorFlow's own log lines, kept out of the programs' output unless asked for.

TensorFlow writes its start-up lines (`oneDNN custom operations are on`, `Could not find
cuda drivers`, `All log messages before absl::InitializeLog()`, the CPU-feature notice, and on
a machine without a GPU an ERROR-level `failed call to cuInit`) from C++ straight to file
descriptor 2, before any logging setting of its own applies; then INFO lines from Python (a
`Sharding callback duration` at every checkpoint) and deprecation warnings. `quiet_tensorflow`
imports TensorFlow and Keras and makes the first device query with descriptor 2 held in a
temporary file, writes back every line that is not a TensorFlow or absl log line, sets
`TF_CPP_MIN_LOG_LEVEL=2` for later C++ lines (errors still show), TensorFlow's Python logger
to ERROR and absl's verbosity to WARNING. `BIT_KERAS_TF_LOGS=1`, or absl's `--verbosity`
given to a program, keeps all of it. The exporters hold descriptor 2 for the whole export,
whose converter and LiteRT write their own lines there too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator

VERBOSE_ENV = "BIT_KERAS_TF_LOGS"
# A glog/absl line (`I0000 00:00:1796244574.595172    6344 port.cc:153] ...`, also absl's
# Python `I1202 19:58:46.607282 140194300607360 functional_saver.py:440] ...`), and the
# start-up lines without that prefix.
_LOG_LINE = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d+(?:\.\d+)? +\d+ [\w.\-/]+:\d+\] ")
_BARE_LINES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions:",  # the second line of the CPU-feature notice
    "INFO: ",  # LiteRT's own INFO lines ("Created TensorFlow Lite XNNPACK delegate for CPU.")
    "fully_quantize: ",  # the TFLite calibrator's settings line
    # libjpeg's own lines as TensorFlow's decoder meets a damaged file (the error names it)
    "Improper call to JPEG library",
    "Corrupt JPEG data",
    "Premature end of JPEG file",
)


def is_tensorflow_log_line(line: str) -> bool:
    """Whether `line` is one of TensorFlow's or absl's log lines."""
    return bool(_LOG_LINE.match(line)) or line.startswith(_BARE_LINES)


@contextlib.contextmanager
def held_stderr() -> Iterator[None]:
    """Holds what is written to file descriptor 2 in the block (by C++ code too), then writes
    it back without TensorFlow's and absl's log lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read().decode(errors="replace")
            kept = [
                line for line in text.splitlines(keepends=True) if not is_tensorflow_log_line(line)
            ]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


def logs_wanted() -> bool:
    """Whether TensorFlow's lines are asked for: `BIT_KERAS_TF_LOGS=1`, or absl's
    `--verbosity` (or `-v`) given to the program."""
    from absl import flags

    if os.environ.get(VERBOSE_ENV, "") not in ("", "0"):
        return True
    return "verbosity" in flags.FLAGS and flags.FLAGS["verbosity"].present > 0


def quiet_tensorflow() -> None:
    """Imports TensorFlow and Keras, keeping TensorFlow's log lines out of the output (see
    the module docstring); when `logs_wanted()`, imports them as they are."""
    if logs_wanted():
        import keras
        import tensorflow  # noqa: F401

        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with held_stderr():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe and its cuInit line
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    # TensorFlow also logs through absl (functional_saver's line at every checkpoint), whose
    # verbosity the programs would otherwise leave at INFO; bit_keras' warnings still show.
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.WARNING)
