"""Public names that load on first use (PEP 562), for the package namespaces.

`bit_keras`, `bit_keras.training` and `bit_keras.export` list their names here instead of
importing them, so that `import bit_keras...` loads no TensorFlow until a name is used and
the programs parse their flags first. Imports nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_names(
    namespace: dict, names: dict[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A module's `__getattr__` and `__dir__` for names defined in other modules.

    Args:
        namespace: The module's `globals()`; a name, once loaded, is kept there.
        names: Public name -> the module that defines it; a module that is itself the name
            (`"layers": "bit_keras.layers"`) is returned whole.

    Returns:
        `(__getattr__, __dir__)`, to assign at the module's top level.
    """
    module_name = namespace["__name__"]

    def get_attribute(name: str):
        if name not in names:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        module = importlib.import_module(names[name])
        value = module if module.__name__.rpartition(".")[2] == name else getattr(module, name)
        namespace[name] = value
        return value

    def list_names() -> list[str]:
        return sorted({*namespace, *names})

    return get_attribute, list_names
