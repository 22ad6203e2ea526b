"""The TensorLang compiler: real MLIR parse + verify, lowering, ORC JIT, hot-swap.

Public API::

    compiler = Compiler()
    diagnostics = compiler.check(text, path)              # [] when the program is valid
    program = compiler.compile(text, path, require_control=True)   # or CompileError
    results, violation = program.call("control", obs, mem)
    slot = ControllerSlot(program, "pd-v1"); slot.swap(other_program, "pd-v2")

This package never imports textual: the UI talks to it through the engine process.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes
from .diagnostics import Diagnostic
from .dialect import (
    CONTROL_ACTION_SIZE,
    CONTROL_ENTRY,
    CONTROL_MEM_SIZE,
    CONTROL_OBS_SIZE,
    CONTROL_SIGNATURE,
    DIALECT_VERSION,
    OPS,
)
from .jit import AssertViolation

if TYPE_CHECKING:  # what mypy reads for the lazy names below
    from .driver import EMIT_KINDS, CompileError, Compiler
    from .hotswap import ControllerSlot, NativeLoop
    from .jit import CompiledProgram

# Names that need MLIR load it on first use, so that code which only runs stored machine
# code (the registry's warm path) never imports MLIR.
_LAZY = {
    "EMIT_KINDS": "driver",
    "CompileError": "driver",
    "Compiler": "driver",
    "ControllerSlot": "hotswap",
    "NativeLoop": "hotswap",
    "CompiledProgram": "jit",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "AssertViolation",
    "CompileError",
    "CompiledProgram",
    "Compiler",
    "ControllerSlot",
    "Diagnostic",
    "NativeLoop",
    "EMIT_KINDS",
    "OPS",
    "DIALECT_VERSION",
    "CONTROL_ENTRY",
    "CONTROL_SIGNATURE",
    "CONTROL_OBS_SIZE",
    "CONTROL_MEM_SIZE",
    "CONTROL_ACTION_SIZE",
]
