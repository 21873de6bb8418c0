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
    "bit_keras.vtab",
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


def _public_objects() -> dict[int, list[str]]:
    objects = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                objects.setdefault(id(value), []).append(f"{package}.{name}")
    return objects


def test_every_class_and_function_has_one_public_name():
    twice = sorted(names for names in _public_objects().values() if len(names) > 1)
    assert not twice, f"Public under several names: {twice}"


def test_the_readme_api_section_lists_every_public_name():
    readme = (SNAPSHOT.parents[1] / "README.md").read_text()
    section = readme.split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    missing = []
    for line in public_api():
        qualified = line.split(":")[0]
        package, name = qualified.rsplit(".", 1)
        if package == "bit_keras.applications":
            continue  # the constructors, listed as a group
        if f"`{name}`" not in section and f"`{qualified}`" not in section:
            missing.append(qualified)
    assert not missing, f"README's API section does not list {missing}"


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
