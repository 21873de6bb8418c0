"""export/hub.py and export/tflite.py, run as programs."""

import os
import signal

import pytest

from bit_test_utils import OFFICIAL_CKPT, REPO, run_python, signal_when


def _export(program, *args, cwd=REPO, backend="tensorflow"):
    return run_python(
        [str(REPO / "export" / program), *args],
        cwd=cwd,
        timeout=600,
        env=None if backend == "tensorflow" else {"KERAS_BACKEND": backend},
    )


def test_hub_program_writes_the_saved_model_and_bundle(tmp_path):
    output = tmp_path / "r14"
    result = _export("hub.py", f"--model={OFFICIAL_CKPT}", "--resolution=32", f"--output={output}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resolution 32 from --resolution" in result.stdout
    assert "restored outputs within" in result.stdout
    assert (output / "saved_model.pb").is_file()
    assert sorted(os.listdir(tmp_path)) == ["r14", "r14.md", "r14.tar.gz"]


def test_tflite_program_checks_and_writes(tmp_path):
    output = tmp_path / "r14.tflite"
    result = _export(
        "tflite.py",
        f"--model={OFFICIAL_CKPT}",
        "--resolution=32",
        f"--output={output}",
        "--mode=float16",
        "--num_check_images=4",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "float16:" in result.stdout and "passed" in result.stdout
    assert sorted(os.listdir(tmp_path)) == ["r14.labels.txt", "r14.tflite"]


@pytest.mark.parametrize(
    "program, args, message",
    [
        ("hub.py", ["--model=BiT-M-R50X1"], "Did you mean BiT-M-R50x1"),
        ("hub.py", ["--model=BiT-M-R50x1", "--resolution=16"], "at least 32"),
        ("hub.py", [f"--model={OFFICIAL_CKPT}"], "pass --resolution"),
        ("tflite.py", ["--model=BiT-M-R50x1", "--output=/no/such/dir/x.tflite"], "does not exist"),
        ("tflite.py", ["--model=BiT-M-R50x1", "--mode=int8"], "needs --representative_dataset"),
        ("tflite.py", ["--model=BiT-M-R50x1", "--output=x.lite"], "must end in .tflite"),
        ("tflite.py", ["--model=bad.keras", "--resolution=32"], "Cannot load"),
    ],
)
def test_bad_flags_fail_at_once_with_one_line(tmp_path, program, args, message):
    (tmp_path / "bad.keras").write_text("not a model")
    if not any(a.startswith("--output") for a in args):
        args = [*args, f"--output={tmp_path / 'out.tflite'}"]
    result = _export(program, *args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["bad.keras"]


@pytest.mark.parametrize("program", ["hub.py", "tflite.py"])
def test_under_jax_the_exporters_say_they_need_tensorflow(tmp_path, program):
    output = tmp_path / ("out.tflite" if program == "tflite.py" else "out")
    result = _export(
        program, f"--model={OFFICIAL_CKPT}", "--resolution=32", f"--output={output}", backend="jax"
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "needs KERAS_BACKEND=tensorflow; the Keras backend here is 'jax'" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []


def test_an_existing_output_is_kept(tmp_path):
    target = tmp_path / "taken.tflite"
    target.write_bytes(b"mine")
    result = _export(
        "tflite.py", f"--model={OFFICIAL_CKPT}", "--resolution=32", f"--output={target}"
    )
    assert result.returncode != 0
    assert "exists; pass --overwrite" in result.stderr.strip().splitlines()[-1]
    assert target.read_bytes() == b"mine"


def _writing_the_saved_model(stdout: str) -> bool:
    return any(line.startswith("Writing the SavedModel") for line in stdout.splitlines())


def test_sigterm_mid_export_leaves_nothing_and_exits_130(tmp_path):
    output = tmp_path / "out"
    args = [
        str(REPO / "export" / "hub.py"),
        f"--model={OFFICIAL_CKPT}",
        "--resolution=32",
        f"--output={output}",
    ]
    result = signal_when(args, _writing_the_saved_model, signal.SIGTERM)
    assert result.returncode == 130, result.stderr[-2000:]
    assert "interrupted; no half-written file was left" in result.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("program", ["hub.py", "tflite.py"])
def test_help_lists_the_model_and_output_flags(program):
    result = _export(program, "--help")
    listed = {line.split(":")[0].strip() for line in result.stdout.splitlines()}
    assert {"--model", "--output", "--resolution", "--[no]overwrite", "--signature"} <= listed
