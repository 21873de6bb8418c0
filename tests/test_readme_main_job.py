"""The README's main job, run as written (its training command), must reach 97% on digits."""

import re
import shlex
import subprocess
import sys
import time

from bit_test_utils import REPO


def _main_job_args() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("Main job:", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)[1]
    command = block.split("tools/train.py", 1)[1].split("&&")[0]
    return shlex.split(command.replace("\\\n", " "))


def test_main_job_reaches_97_percent_on_digits(tmp_path):
    args = [a for a in _main_job_args() if not a.startswith("--logdir")]
    assert "--dataset=digits" in args and "--weights=none" in args
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "train.py"), *args, f"--logdir={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"Test accuracy (\d\.\d+) on 359 examples", result.stdout)
    print(f"README main job: {match[0]} in {seconds:.0f} s")
    assert float(match[1]) >= 0.97
    assert f"Saved the model to {tmp_path / 'model.keras'}" in result.stdout
