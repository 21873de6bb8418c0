"""CSV manifests of images: one row per image, its path and then one or more labels.

```
path,label
images/0001.jpg,cat
images/0002.jpg,dog,outdoor
```

The first column is the image's path, relative to the CSV file's folder or absolute; every
further non-empty column is one of its labels (a row with several is a multi-label example).
A first row whose first cell is `path`, `image`, `file`, `filename` or `image_path` is a
header. Quoting follows Python's `csv` module (a path with a comma is written in quotes).
"""

from __future__ import annotations

import csv
import dataclasses
import os

import numpy as np

from bit_keras._runtime import files as fs

HEADER_NAMES = ("path", "image", "file", "filename", "image_path")
# At most this many bad rows are listed in one error.
_MAX_LISTED = 20


@dataclasses.dataclass(frozen=True)
class Manifest:
    """The rows of a CSV manifest.

    Attributes:
        path: The CSV file.
        files: Image paths (absolute, or as written when absolute).
        labels: Each image's labels, as written.
        lines: Each row's line number in the file, for messages.
    """

    path: str
    files: np.ndarray
    labels: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]

    def label_ids(self, class_names: tuple[str, ...], multi_label: bool) -> np.ndarray:
        """Labels as class ids: (N,) for single-label data, else (N, L) padded with -1.

        Raises:
            ValueError: a label that is not among `class_names` (named with its line).
        """
        index = {name: i for i, name in enumerate(class_names)}
        unknown = [
            f"line {line}: label {label!r}"
            for line, labels in zip(self.lines, self.labels, strict=True)
            for label in labels
            if label not in index
        ]
        if unknown:
            raise ValueError(
                f"{self.path!r} has labels that the training rows do not have: " + _listed(unknown)
            )
        if not multi_label:
            return np.array([index[labels[0]] for labels in self.labels], np.int64)
        width = max(len(labels) for labels in self.labels)
        ids = np.full((len(self.labels), width), -1, np.int64)
        for row, labels in enumerate(self.labels):
            ids[row, : len(labels)] = [index[label] for label in labels]
        return ids

    def subset(self, keep: np.ndarray) -> Manifest:
        """The rows where `keep` (a boolean mask or indices) selects them."""
        rows = np.arange(len(self.files))[keep]
        return Manifest(
            self.path,
            self.files[rows],
            tuple(self.labels[i] for i in rows),
            tuple(self.lines[i] for i in rows),
        )


def read_manifest(path: str | os.PathLike) -> Manifest:
    """Reads and checks a CSV manifest.

    Raises:
        ValueError: no such file, no rows, or bad rows (a row without a label, an empty path,
            an image file that does not exist, a path listed twice), each named with its line.
    """
    path = os.fspath(path)
    if not fs.isfile(path):
        raise ValueError(f"CSV manifest {path!r} does not exist.")
    folder = fs.parent(fs.absolute(path))
    # Locally each image file is checked to exist now (a stat each); on a filesystem reached
    # through TensorFlow (gs://), that would be a request per row: there a missing file is
    # named when the image check or training reads it.
    check_exists = not fs.is_remote(path)
    files, labels, lines, problems, seen = [], [], [], [], {}
    try:
        with fs.open_file(path, "r", newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            for row in reader:
                line = reader.line_num
                cells = [cell.strip() for cell in row]
                if not any(cells):
                    continue  # blank line
                if not files and not problems and cells[0].lower() in HEADER_NAMES:
                    continue  # header
                image, names = cells[0], tuple(dict.fromkeys(c for c in cells[1:] if c))
                if not image:
                    problems.append(f"line {line}: no image path")
                    continue
                if not names:
                    problems.append(f"line {line}: {image!r} has no label")
                    continue
                absolute = os.path.isabs(image) or fs.is_remote(image)
                full = image if absolute else fs.join(folder, image)
                if check_exists and not fs.is_remote(full) and not os.path.isfile(full):
                    problems.append(f"line {line}: no image file at {full!r}")
                    continue
                if full in seen:
                    problems.append(f"line {line}: {image!r} is listed again (line {seen[full]})")
                    continue
                seen[full] = line
                files.append(full)
                labels.append(names)
                lines.append(line)
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{path!r} is not a readable CSV file: {e}") from e
    if problems:
        raise ValueError(
            f"CSV manifest {path!r} has {len(problems)} bad row(s): " + _listed(problems)
        )
    if not files:
        raise ValueError(f"CSV manifest {path!r} lists no images.")
    return Manifest(path, np.array(files, dtype=str), tuple(labels), tuple(lines))


def _listed(problems: list[str]) -> str:
    more = len(problems) - _MAX_LISTED
    return (
        "\n  "
        + "\n  ".join(problems[:_MAX_LISTED])
        + (f"\n  ... and {more} more" if more > 0 else "")
    )
