"""MLIR's Python modules, imported when an op first uses one.

The op classes are also the dialect's declaration (``dialect.OPS`` is read from them),
and processes that never load MLIR read that declaration: the workstation, the language
server and the registry's warm path. So the op modules name MLIR's modules through these
stand-ins, which import the real module on the first attribute looked up (a lowering, a
verification, a reference), never at import time.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any


class DeferredModule:
    """Stands for the module ``name`` until an attribute of it is first asked for."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<deferred module {self._name!r}>"


ir = DeferredModule("mlir.ir")
arith = DeferredModule("mlir.dialects.arith")
linalg = DeferredModule("mlir.dialects.linalg")
math = DeferredModule("mlir.dialects.math")
memref = DeferredModule("mlir.dialects.memref")
tensor = DeferredModule("mlir.dialects.tensor")
