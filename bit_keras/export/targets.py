"""Checking where an exporter will write, before it does any work."""

from __future__ import annotations

import os


def check_target(path: str, *, overwrite: bool, suffix: str | None = None) -> str:
    """Checks an output path: its folder exists and is writable, it is free (or `overwrite`).

    Args:
        path: The file or folder to write.
        overwrite: Whether an existing target may be replaced.
        suffix: Required ending of the name (`.tflite`), if any.

    Returns:
        The absolute path.

    Raises:
        ValueError: a missing or read-only folder, a taken path, or the wrong suffix.
    """
    if not path:
        raise ValueError("--output is empty.")
    path = os.path.abspath(os.fspath(path))
    if suffix and not path.endswith(suffix):
        raise ValueError(f"--output must end in {suffix}. Received: {path!r}")
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise ValueError(f"The output folder {folder!r} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"The output folder {folder!r} is not writable.")
    if os.path.lexists(path) and not overwrite:
        raise ValueError(f"{path!r} exists; pass --overwrite to replace it.")
    return path


def bundle_paths(output: str) -> tuple[str, str]:
    """The publishing bundle beside a SavedModel folder: (`OUTPUT.tar.gz`, `OUTPUT.md`)."""
    output = os.path.abspath(output).rstrip(os.sep)
    return output + ".tar.gz", output + ".md"
