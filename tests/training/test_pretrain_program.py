"""The bit-pretrain program: one flag per PretrainConfig field, one-line errors, a short run."""

import dataclasses
import json

from bit_keras.training import PretrainConfig
from bit_test_utils import REPO, run_python

PROGRAM = str(REPO / "tools" / "pretrain.py")


def _run(*args, timeout=300):
    return run_python([PROGRAM, *args], timeout=timeout)


def test_every_field_is_a_flag_with_its_default():
    # In a process of its own: bit-train's flags of the same names live in this one.
    script = (
        "import json; from absl import flags; from bit_keras.programs import pretrain; "
        "print(json.dumps({n: [h.name, flags.FLAGS[n].default] "
        "for n, h in pretrain._FLAGS.items()}))"
    )
    result = run_python(["-c", script], timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    defined = json.loads(result.stdout)
    fields = dataclasses.fields(PretrainConfig)
    assert list(defined) == [field.name for field in fields]
    for field in fields:
        expected = None if field.default is dataclasses.MISSING else field.default
        assert defined[field.name] == [field.name, expected], field.name
    assert defined["batch_size"][1] == 4096 and defined["base_lr"][1] == 0.03
    assert defined["weight_decay"][1] == 1e-4 and defined["clip_norm"][1] == 1.0


def test_help_and_one_line_errors(tmp_path):
    listed = {line.split(":")[0].strip() for line in _run("--help").stdout.splitlines()}
    for name in ("--schedule", "--epochs", "--weight_decay", "--clip_norm", "--logdir"):
        assert name in listed
    for args, message in [
        (["--steps=10", "--epochs=2"], "not both"),
        (["--schedule=linear"], "--schedule"),
        (["--dataset=csv:/no/such.csv", "--model=R14x1"], "does not exist"),
        (["--model=R13x1"], "Unknown architecture"),
        (["--weights=/no/such.npz"], "weights"),
    ]:
        result = _run(f"--logdir={tmp_path / 'run'}", *args)
        assert result.returncode != 0, args
        # One line says it (TensorFlow's own start-up lines may come before it).
        errors = [
            line
            for line in result.stderr.splitlines()
            if line.startswith(("bit-pretrain: error:", "FATAL Flags parsing error"))
        ]
        assert len(errors) == 1 and message in errors[0], result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "run").exists()


def test_a_short_run_from_the_command_line(tmp_path):
    result = _run(
        "--model=R14x1",
        "--dataset=digits",
        f"--logdir={tmp_path}",
        "--batch_size=16",
        "--steps=4",
        "--crop=8",
        "--schedule=cosine",
        "--norandom_flip",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(warm-up 0, cosine decay to 0)" in result.stdout
    assert f"Wrote {tmp_path / 'model.npz'}" in result.stdout
    record = json.loads((tmp_path / "config.json").read_text())
    assert record["config"]["schedule"] == "cosine" and record["metrics"]["step"] == 4
