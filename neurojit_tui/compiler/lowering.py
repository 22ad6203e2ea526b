"""Lowering: TensorLang -> linalg/tensor/arith/math (Python rewrite patterns), then the
upstream pipeline (bufferization, loops, LLVM dialect).

Each TensorLang op's pattern is its class's ``lower`` (``compiler/ops``); ``Lowering``
makes one MLIR rewrite pattern of each and applies them all.

``tensorlang.assert`` becomes a store into a module-level status word (0 = no
violation, n = assert number n failed first), so a violation is reported to the caller
without aborting: the JIT wrapper reads and resets the word around each call.
"""

from __future__ import annotations

from collections.abc import Callable

from mlir import ir, rewrite
from mlir.dialects import memref

from . import dialect as tl
from . import ops
from .diagnostics import location_parts
from .ir_types import MlirLocation, MlirOperation, MlirRewriter
from .jit import AssertSite
from .ops.base import ERASE, NO_MATCH, Op

# Upstream pipeline from tensors to the LLVM dialect. Results become caller-owned
# out-parameters and every memref argument a bare pointer, which gives controllers the
# plain C ABI documented in dialect.py. Buffers are small (MAX_TENSOR_ELEMENTS), so
# promoting them to the stack removes every malloc from the compiled code.
LLVM_PIPELINE = (
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}",
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions}",
    "func.func(promote-buffers-to-stack{max-alloc-size-in-bytes=1000000000 max-rank-of-allocated-memref=2})",
    "canonicalize",
    "convert-linalg-to-loops",
    "expand-strided-metadata",
    "lower-affine",
    "convert-scf-to-cf",
    "convert-math-to-llvm",
    "convert-arith-to-llvm",
    "finalize-memref-to-llvm",
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv}",
    "convert-cf-to-llvm",
    "reconcile-unrealized-casts",
)


class Lowering:
    """Rewrites one verified module from TensorLang to upstream dialects, in place."""

    def __init__(self, module_op: MlirOperation, default_file: str):
        self.module = module_op
        self.default_file = default_file
        self.asserts: list[AssertSite] = []

    def run(self) -> list[AssertSite]:
        patterns = rewrite.RewritePatternSet()
        for semantics in ops.ALL:
            patterns.add(semantics.spec.full_name, self._pattern(semantics))
        rewrite.apply_patterns_and_fold_greedily(self.module, patterns.freeze())
        return self.asserts

    def _pattern(self, semantics: Op) -> Callable[[MlirOperation, MlirRewriter], bool | None]:
        def pattern(op: MlirOperation, rewriter: MlirRewriter) -> bool | None:
            with rewriter.ip, op.location:
                replacement = semantics.lower(op, self)
            if replacement is NO_MATCH:
                return True  # a truthy return tells MLIR the pattern did not apply
            if replacement is ERASE:
                rewriter.erase_op(op.operation)
            else:
                rewriter.replace_op(op, [replacement])
            return None

        return pattern

    def record_assert(self, message: str, location: MlirLocation) -> int:
        """Note a lowered assert and where it is; returns its number (1-based)."""
        number = len(self.asserts) + 1
        file, line, col = location_parts(location, self.default_file)
        self.asserts.append(AssertSite(number, message, file, line, col))
        return number


def add_assert_status_global(module_op: MlirOperation) -> None:
    """Declare the mutable status word that lowered asserts write to."""
    with ir.InsertionPoint.at_block_begin(module_op.regions[0].blocks[0]), ir.Location.unknown():
        i32 = ir.IntegerType.get_signless(32)
        memref.global_(
            tl.ASSERT_STATUS_GLOBAL,
            ir.TypeAttr.get(ir.MemRefType.get([], i32)),
            sym_visibility="public",
            initial_value=ir.DenseElementsAttr.get_splat(
                ir.RankedTensorType.get([], i32), ir.IntegerAttr.get(i32, 0)
            ),
            alignment=8,
        )
