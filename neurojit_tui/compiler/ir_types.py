"""Names for MLIR Python binding objects in type annotations.

The MLIR bindings ship no usable stubs: their Python layer (``mlir.ir``,
``mlir.dialects.*``) has no ``py.typed``, and the nanobind ``.pyi`` files under
``mlir._mlir_libs`` do not describe it, so mypy is told not to follow ``mlir`` at all
(pyproject.toml) and sees every binding object as ``Any``. These aliases are ``Any``
too; they say in a signature which MLIR object is meant. This module imports nothing,
so MLIR-free modules (``dialect``, ``diagnostics``, ``jit``) can use it, and its name
leaves out "mlir" (tests/test_memory.py takes a loaded module named so for MLIR).
"""

from __future__ import annotations

from typing import Any, TypeAlias

MlirContext: TypeAlias = Any  # ir.Context
MlirOperation: TypeAlias = Any  # ir.Operation or an OpView (``.operation`` is the Operation)
MlirValue: TypeAlias = Any  # ir.Value (an op result, a block argument)
MlirType: TypeAlias = Any  # ir.Type and its subclasses (ir.RankedTensorType, ir.F64Type...)
MlirAttribute: TypeAlias = Any  # ir.Attribute and its subclasses
MlirLocation: TypeAlias = Any  # ir.Location
MlirDiagnostic: TypeAlias = Any  # ir.Diagnostic
MlirRewriter: TypeAlias = Any  # rewrite.PatternRewriter
MlirPassManager: TypeAlias = Any  # passmanager.PassManager
