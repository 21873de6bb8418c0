"""The tests' program server (tests/program_server.py, through `run_python`): a served run
ends as a process would, with its status, output, signal and timeout, and a run that needs an
interpreter of its own gets one; a started run is served too, and signalled as a process."""

import os
import signal
import subprocess
import sys
import time

import pytest

from bit_test_utils import kill_started_runs, run_python, signal_when, start_python

# Prints its own process id and its parent's, and whether TensorFlow was imported before it
# ran: a served run is a child of the server (TensorFlow imported), a started one a child of
# this worker.
WHO = "import os, sys; print(os.getppid(), 'tensorflow' in sys.modules)"


def test_a_served_run_is_a_child_of_the_server_with_its_status_and_output(tmp_path):
    served = run_python(["-c", WHO])
    parent, tensorflow = served.stdout.split()
    assert int(parent) != os.getpid() and tensorflow == "True"
    script = tmp_path / "script.py"
    script.write_text("import sys; print(sys.argv[1:], sys.path[0]); sys.exit(3)")
    result = run_python([str(script), "a", "b"], cwd=tmp_path)
    assert result.returncode == 3 and result.stdout == f"['a', 'b'] {tmp_path}\n"
    assert result.args == [sys.executable, str(script), "a", "b"]
    failed = run_python(["-c", "import sys; print('out'); raise ValueError('no')"])
    assert failed.returncode == 1 and failed.stdout == "out\n"
    assert failed.stderr.splitlines()[-1] == "ValueError: no"
    again = run_python(["-c", WHO])  # the same server
    assert again.stdout.split()[0] == parent


def test_runs_that_end_at_once_answer_at_once():
    start = time.monotonic()
    for status in range(20):
        assert run_python(["-c", f"raise SystemExit({status})"]).returncode == status
    assert time.monotonic() - start < 20  # each well under a second, not a timeout


def test_a_signal_and_a_timeout_end_a_run_as_subprocess_says():
    killed = run_python(["-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"])
    assert killed.returncode == -15
    with pytest.raises(subprocess.TimeoutExpired):
        run_python(["-c", "print('started', flush=True); import time; time.sleep(60)"], timeout=2)
    assert run_python(["-c", "print(1)"]).stdout == "1\n"  # and the server goes on


def test_runs_that_need_their_own_interpreter_get_one():
    worker = str(os.getpid())
    own_env = run_python(["-c", WHO], env={"BIT_KERAS_TEST": "1"})
    as_user = run_python(["-c", WHO], as_user=True)
    option = run_python(["-X", "importtime", "-c", WHO])
    for result in (own_env, as_user, option):
        assert result.stdout.split() == [worker, "False"], result.stderr[-2000:]


def test_a_started_run_is_served_its_lines_come_as_written_and_a_signal_reaches_it():
    # It prints a line, then waits for SIGINT, which its own handler turns into status 130.
    code = (
        "import os, signal, sys, time, tensorflow\n"
        "signal.signal(signal.SIGINT, lambda *_: sys.exit(130))\n"
        "print(os.getppid(), 'ready')\n"
        "time.sleep(60)\n"
    )
    started = start_python(["-c", code])
    deadline = time.monotonic() + 30
    while "ready" not in started.stdout() and time.monotonic() < deadline:
        assert started.poll(0.05) is None
    server, _ = started.stdout().split()
    assert int(server) != os.getpid()  # forked by the server, not started by this worker
    # While it runs the server is busy: another run gets an interpreter of its own.
    assert run_python(["-c", WHO]).stdout.split() == [str(os.getpid()), "False"]
    started.send_signal(signal.SIGINT)
    result = started.wait(30)
    assert result.returncode == 130 and result.stdout == f"{server} ready\n"
    assert run_python(["-c", WHO]).stdout.split()[0] == server  # served again


def test_signal_when_fails_if_the_run_ends_first_and_a_left_run_is_killed():
    with pytest.raises(AssertionError, match="ended before"):
        signal_when(["-c", "print('done')"], lambda out: "never" in out, signal.SIGTERM)
    left = start_python(["-c", "import time; time.sleep(60)"])
    kill_started_runs()
    assert left.poll() == -signal.SIGKILL
    assert run_python(["-c", "print(1)"]).stdout == "1\n"
