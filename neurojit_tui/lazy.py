"""Package attributes whose modules are imported on first use (a module ``__getattr__``,
PEP 562).

A package whose public API mixes light names with ones that need MLIR (the compiler's
``Compiler``, the simulation's ``evaluate``, the search's ``evolve``) exports the heavy
ones this way, so a process that only reads the light ones (the workstation, the language
server, the registry's warm path) never loads MLIR. The package also imports those names
under ``TYPE_CHECKING``, which is what mypy reads.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def lazy_attributes(package: str, modules: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: each name in ``modules`` is looked up
    in its module (relative to the package) when first asked for."""

    def __getattr__(name: str) -> object:
        if name in modules:
            return getattr(import_module(f".{modules[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
