"""Products and reductions: matmul, matvec, dot, sum, mean."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from ..ir_types import MlirOperation, MlirValue
from .base import (
    Alternative,
    Batch,
    CEmitter,
    CScalar,
    CValue,
    Evaluate,
    Op,
    OpSpec,
    ScalarC,
    ShapeRule,
    ValueTypes,
    tensor_shape,
    tensor_type,
)
from .bindings import arith, ir, linalg
from .builders import elementwise, f64_constant, full_reduction, zero_filled
from .types import element_count, is_f64, ranked_tensor, shape

if TYPE_CHECKING:
    from ..lowering import Lowering
    from ..reference import ReferenceProgram
    from ..verifier import SemanticVerifier


class Matmul(Op):
    spec = OpSpec(
        "matmul",
        (("lhs", "tensor"), ("rhs", "tensor")),
        (("result", "tensor"),),
        ShapeRule.MATMUL,
        "Matrix product: tensor<MxK> x tensor<KxN> -> tensor<MxN>.",
    )

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        if not verifier.require_ranks(op, (2, 2, 2)):
            return
        (m, k), (k2, n) = shape(op.operands[0].type), shape(op.operands[1].type)
        if k != k2:
            verifier.error(
                op, f"'{op.name}' inner dimensions differ: lhs is {m}x{k}, rhs is {k2}x{n}"
            )
        elif shape(op.results[0].type) != [m, n]:
            verifier.error(
                op, f"'{op.name}' result must be tensor<{m}x{n}xf64>, got {op.results[0].type}"
            )

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        init = zero_filled(op.results[0].type)
        return linalg.matmul(op.operands[0], op.operands[1], outs=[init])

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        return lambda ins, batch: np.matmul(ins[0], ins[1])

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        (rows, inner), (_, cols) = shape(op.operands[0].type), shape(op.operands[1].type)
        return _sums_of_products(
            emitter.c,
            [
                [(ins[0][r * inner + k], ins[1][k * cols + j]) for k in range(inner)]
                for r in range(rows)
                for j in range(cols)
            ],
        )

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for a, b in itertools.product(values.matrices, values.matrices):
            (rows, inner), (inner2, cols) = tensor_shape(a), tensor_shape(b)
            if inner == inner2:
                yield Alternative((a, b), tensor_type((rows, cols)))


class Matvec(Op):
    spec = OpSpec(
        "matvec",
        (("matrix", "tensor"), ("vector", "tensor")),
        (("result", "tensor"),),
        ShapeRule.MATVEC,
        "Matrix-vector product: tensor<MxK> x tensor<K> -> tensor<M>.",
    )

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        if not verifier.require_ranks(op, (2, 1, 1)):
            return
        (m, k), (k2,) = shape(op.operands[0].type), shape(op.operands[1].type)
        if k != k2:
            verifier.error(op, f"'{op.name}' matrix is {m}x{k} but vector has {k2} elements")
        elif shape(op.results[0].type) != [m]:
            verifier.error(
                op, f"'{op.name}' result must be tensor<{m}xf64>, got {op.results[0].type}"
            )

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        init = zero_filled(op.results[0].type)
        return linalg.matvec(op.operands[0], op.operands[1], outs=[init])

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        return lambda ins, batch: np.einsum("...ij,...j->...i", ins[0], ins[1])

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        rows, cols = shape(op.operands[0].type)
        return _sums_of_products(
            emitter.c,
            [[(ins[0][r * cols + k], ins[1][k]) for k in range(cols)] for r in range(rows)],
        )

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for m in values.matrices:
            rows, cols = tensor_shape(m)
            yield Alternative((m, tensor_type((cols,))), tensor_type((rows,)))


class Dot(Op):
    spec = OpSpec(
        "dot",
        (("lhs", "T"), ("rhs", "T")),
        (("result", "f64"),),
        ShapeRule.DOT,
        "Inner product of two tensor<Kxf64> -> f64.",
    )

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        t = ranked_tensor(op.operands[0].type)
        assert t is not None  # IRDL: a tensor
        if t.rank != 1 or not is_f64(t.element_type):
            verifier.error(
                op, f"'{op.name}' expects two rank-1 f64 tensors, got {op.operands[0].type}"
            )

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        product = elementwise(op.operands, op.operands[0].type, arith.mulf)
        return full_reduction(product, 0.0, arith.addf)

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        return lambda ins, batch: np.einsum("...i,...i->...", ins[0], ins[1])

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        return _sums_of_products(emitter.c, [list(zip(ins[0], ins[1]))])[0]

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for v in values.vectors:
            yield Alternative((v, v), "f64")


class Reduction(Op):
    """A full reduction of an f64 tensor to one f64; ``numpy`` reduces over axes."""

    numpy: Callable[..., Batch]  # np.sum or np.mean, set by each reduction

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        verifier.require_f64_tensor(op, op.operands[0], "operand")

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        rank = ir.RankedTensorType(op.operands[0].type).rank
        reduce = self.numpy

        def evaluate(ins: list[Batch], batch: int) -> Batch:
            x = ins[0]
            return reduce(x, axis=tuple(range(x.ndim - rank, x.ndim)))  # all but the batch

        return evaluate

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for t in values.f64_tensors:
            yield Alternative((t,), "f64")

    @staticmethod
    def _c_total(c: ScalarC, elements: list[CScalar]) -> CScalar:
        total = c.lift(0.0, "f64")
        for x in elements:
            total = total + x
        return total


class Sum(Reduction):
    spec = OpSpec(
        "sum",
        (("x", "tensor"),),
        (("result", "f64"),),
        ShapeRule.REDUCE,
        "Sum of all elements -> f64.",
    )
    numpy = staticmethod(np.sum)

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        return full_reduction(op.operands[0], 0.0, arith.addf)

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        return self._c_total(emitter.c, ins[0])


class Mean(Reduction):
    spec = OpSpec(
        "mean",
        (("x", "tensor"),),
        (("result", "f64"),),
        ShapeRule.REDUCE,
        "Mean of all elements -> f64.",
    )
    # numpy's stubs pick np.mean's overload without axis (a scalar); with one, an array.
    numpy = staticmethod(np.mean)  # type: ignore[assignment]

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        total = full_reduction(op.operands[0], 0.0, arith.addf)
        return arith.divf(total, f64_constant(float(element_count(op.operands[0].type))))

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        c = emitter.c
        total = self._c_total(c, ins[0])
        return total / c.lift(float(len(ins[0])), "f64")


def _sums_of_products(c: ScalarC, rows: list[list[tuple[CScalar, CScalar]]]) -> list[CScalar]:
    """For each row of (a, b) pairs, the sum of a * b from 0.0 in order."""
    sums = []
    for terms in rows:
        acc = c.lift(0.0, "f64")
        for a, b in terms:
            acc = acc + a * b
        sums.append(acc)
    return sums


OPS = (Matmul(), Matvec(), Dot(), Sum(), Mean())
