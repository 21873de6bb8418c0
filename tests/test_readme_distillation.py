"""The README's distillation example, run as written: the main job's model (tests/main_job.py,
once per session) as the teacher of an R14x1 student that reads no label, then the student as
an int8 TFLite file."""

import re
import shlex

from bit_test_utils import REPO, readme_bash_lines, run_python
from main_job import on_the_main_job, tensorflow_lines

README = (REPO / "README.md").read_text()


def _example() -> list[list[str]]:
    section = README.split("## Distillation", 1)[1].split("\n## ", 1)[0]
    return [shlex.split(line) for line in readme_bash_lines(section) if line]


def test_student_of_the_main_job_then_int8(main_job, tmp_path):
    student, export = (on_the_main_job(c, main_job.logdir, tmp_path) for c in _example())
    assert [student[1], export[1]] == ["tools/distill.py", "export/tflite.py"]
    teacher = main_job.logdir / "model.keras"
    assert f"--teacher={teacher}" in student
    teacher_accuracy = float(re.search(r"Test accuracy (\d\.\d+)", main_job.stdout)[1])

    result = run_python(student[1:], timeout=1200, as_user=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert tensorflow_lines(result) == []
    assert f"Teacher: {teacher} (keras)" in result.stdout
    match = re.search(
        r"Student's test accuracy (\d\.\d+) on 359 examples; teacher accuracy (\d\.\d+); "
        r"agreement (\d\.\d+)\.",
        result.stdout,
    )
    assert match, result.stdout[-2000:]
    print(f"README distillation: {match[0]}")
    student_accuracy, measured_teacher, agreement = map(float, match.groups())
    assert measured_teacher == teacher_accuracy  # the same model, the same test split
    assert agreement >= 0.90
    assert student_accuracy >= 0.85  # it never saw a label

    result = run_python(export[1:], timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "bit_digits_student_int8.tflite").is_file()
    agreement = re.search(r"top-1 agreement (\d+\.\d)%", result.stdout)
    assert agreement, result.stdout[-2000:]
    print(f"README distillation export: {agreement[0]}")
    assert float(agreement[1]) >= 95.0  # the exporter's own bar is 90%
