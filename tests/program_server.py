"""A process that has imported TensorFlow, Keras and bit_keras once and forks a child for each
program run a test asks for (`bit_test_utils.run_python`): the child runs the script as
`python SCRIPT ARGS` would, without paying the imports again (about 6 of the 7 CPU seconds
of a short program run on 2 cores).

Only the runs that cannot tell the difference come here: this interpreter, TensorFlow's C++
log level 3 (the server's own), the worker's environment, a script or `-c` (no `-X`, `-m`,
nor a check of what gets imported: tests that look at `sys.modules` start their own). A README
command run as the user runs it (`as_user=True`) and a run with its own environment start a
real process. A run started to be signalled (`start_python`) is served too: the child is a
process of its own, and the signal reaches it as it would reach a started one.

Protocol, one JSON line each way on stdin/stdout: the request
`{"argv": [...], "cwd": ..., "stdout": PATH, "stderr": PATH}` (and `"unbuffered": 1` for
output written as it comes, as PYTHONUNBUFFERED), then the answers
`{"pid": N}` (so the client can kill it on a timeout) and `{"returncode": N}` (as
`subprocess`: minus the signal's number for a run a signal ended).

The server runs no TensorFlow op before it forks: TensorFlow's runtime (its thread pools,
the eager context) starts in each child, as in a fresh process. It checks this (`_forkable`).
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import traceback

# The modules every program imports, and what they import that takes longest.
PRELOADED = (
    "tensorflow",
    "keras",
    "numpy",
    "bit_keras",
    "bit_keras.data",
    "bit_keras.training",
    "bit_keras.features",
    "bit_keras.export",
    "bit_keras.programs.runner",
    "tensorflow_datasets",
    "matplotlib.pyplot",
)


def _forkable() -> None:
    """Fails if TensorFlow's runtime has started here: a child would inherit its locks and
    not its threads."""
    from tensorflow.python.eager import context

    if context.context_safe() is not None and context.context()._context_handle is not None:
        raise RuntimeError("program_server: TensorFlow's runtime started before a fork")


def _child(request: dict) -> int:
    """Runs the request's script or `-c` code in this (forked) process; returns its status."""
    os.chdir(request["cwd"])
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    if request.get("unbuffered"):  # as PYTHONUNBUFFERED: each line readable as it comes
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(line_buffering=True)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 (fd 0 stays open for the run)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    argv = request["argv"]
    try:
        if argv[0] == "-c":  # as `python -c CODE ARGS`: argv[0] is "-c", the path starts at ""
            sys.argv, sys.path[0] = ["-c", *argv[2:]], ""
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
        else:  # as `python SCRIPT ARGS`: the script's folder starts the path
            sys.argv, sys.path[0] = list(argv), os.path.dirname(os.path.abspath(argv[0]))
            runpy.run_path(argv[0], run_name="__main__")
        status = 0
    except SystemExit as e:
        if e.code is None:
            status = 0
        elif isinstance(e.code, int):
            status = e.code
        else:
            print(e.code, file=sys.stderr)
            status = 1
    except BaseException:  # as the interpreter: the traceback, status 1
        traceback.print_exc()
        status = 1
    return status


def main() -> None:
    for name in PRELOADED:
        __import__(name)
    protocol_in, protocol_out = sys.stdin, os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what the server itself might print stays out of the protocol
    for line in protocol_in:
        request = json.loads(line)
        _forkable()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                status = _child(request)
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(status & 0xFF)
        protocol_out.write(json.dumps({"pid": pid}) + "\n")
        protocol_out.flush()
        _, wait_status = os.waitpid(pid, 0)
        protocol_out.write(json.dumps({"returncode": os.waitstatus_to_exitcode(wait_status)}))
        protocol_out.write("\n")
        protocol_out.flush()


if __name__ == "__main__":
    main()
