"""The README's distillation example, run as written: an R26x1 teacher fine-tuned on digits, an
R14x1 student of it that reads no label, then the student as an int8 TFLite file."""

import re
import shlex

from bit_test_utils import REPO, TENSORFLOW_LOG_LINE, readme_bash_lines, run_python

README = (REPO / "README.md").read_text()


def _example() -> list[list[str]]:
    section = README.split("## Distillation", 1)[1].split("\n## ", 1)[0]
    return [shlex.split(line) for line in readme_bash_lines(section) if line]


def test_teacher_student_then_int8(tmp_path):
    teacher, student, export = (
        [a.replace("/tmp/", f"{tmp_path}/") for a in command] for command in _example()
    )
    assert [teacher[1], student[1], export[1]] == [
        "tools/train.py",
        "tools/distill.py",
        "export/tflite.py",
    ]
    result = run_python(teacher[1:], timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    teacher_accuracy = float(re.search(r"Test accuracy (\d\.\d+)", result.stdout)[1])

    result = run_python(student[1:], timeout=1800, as_user=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [line for line in result.stderr.splitlines() if TENSORFLOW_LOG_LINE.match(line)] == []
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
