"""The README's export commands, as written, on the main job's model (tests/main_job.py):
a TF Hub SavedModel and an int8 TFLite file checked against Keras on held-out digits."""

import re
import shlex

from bit_test_utils import readme_bash_lines, run_python
from main_job import on_the_main_job, tensorflow_lines


def _export_commands() -> list[list[str]]:
    return [
        shlex.split(line)
        for line in readme_bash_lines()
        if line.startswith(".venv/bin/python export/") and "/tmp/bit_digits/model.keras" in line
    ]


def test_the_main_jobs_exports_as_written(main_job, tmp_path):
    logdir = main_job.logdir
    commands = _export_commands()
    assert {args[1] for args in commands} == {"export/hub.py", "export/tflite.py"}
    outputs = {}
    for args in commands:
        args = on_the_main_job(args, logdir, tmp_path)
        assert f"--model={logdir}/model.keras" in args
        result = run_python(args[1:], timeout=600, as_user=True)
        assert result.returncode == 0, result.stderr[-3000:]
        assert tensorflow_lines(result) == []
        outputs[args[1]] = result.stdout
    assert "resolution 16 from the run's config.json" in outputs["export/hub.py"]
    assert (tmp_path / "bit_digits_hub" / "saved_model.pb").is_file()
    assert (tmp_path / "bit_digits_hub.tar.gz").is_file()
    # int8 against Keras on real held-out digits the model never saw (the test split).
    report = re.search(
        r"on (\d+) held-out \(test split\) images of digits: max abs diff (\S+) .*"
        r"top-1 agreement ([\d.]+)%",
        outputs["export/tflite.py"],
    )
    assert report, outputs["export/tflite.py"]
    images, agreement = int(report[1]), float(report[3])
    print(f"int8 TFLite vs Keras: top-1 agreement {agreement}% on {images} held-out digits")
    assert images >= 300 and agreement >= 95.0, report[0]
    labels = (tmp_path / "bit_digits_int8.labels.txt").read_text().split()
    assert labels == [str(d) for d in range(10)]
