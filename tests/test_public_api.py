"""The public API is pinned: every name each public package exports, with its kind, equals the
snapshot in tests/public_api.txt, so that every change to the surface is deliberate (as keras
keeps its API files). After a deliberate change, write the snapshot again with
`python tests/test_public_api.py` and commit it with the change."""

import importlib
import inspect
import pathlib
import sys

SNAPSHOT = pathlib.Path(__file__).with_name("public_api.txt")
PACKAGES = (
    "bit_keras",
    "bit_keras.applications",
    "bit_keras.layers",
    "bit_keras.models",
    "bit_keras.checkpoint",
    "bit_keras.pretrained",
    "bit_keras.data",
    "bit_keras.training",
    "bit_keras.export",
    "bit_keras.features",
)


def _kind(value) -> str:
    if inspect.ismodule(value):
        return "module"
    if inspect.isclass(value):
        return "class"
    if callable(value):
        return "function"
    return type(value).__name__


def public_api() -> list[str]:
    """`package.name: kind` of every name in each public package's `__all__`, sorted."""
    lines = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names = getattr(module, "__all__", None)
        assert names is not None, f"{package} has no __all__: its public names are not stated"
        assert len(set(names)) == len(names), f"{package}.__all__ names something twice"
        lines += [f"{package}.{name}: {_kind(getattr(module, name))}" for name in names]
    return sorted(lines)


def test_the_public_api_is_the_snapshot():
    expected = SNAPSHOT.read_text().splitlines()
    actual = public_api()
    added = sorted(set(actual) - set(expected))
    removed = sorted(set(expected) - set(actual))
    assert not added and not removed, (
        f"The public API changed: added {added}, removed {removed}. If that is deliberate, "
        f"run `python tests/test_public_api.py` and commit {SNAPSHOT.name} with the change."
    )


if __name__ == "__main__":
    SNAPSHOT.write_text("\n".join(public_api()) + "\n")
    print(f"Wrote {SNAPSHOT} ({len(public_api())} names)", file=sys.stderr)
