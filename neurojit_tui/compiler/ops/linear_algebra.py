"""Products and reductions: matmul, matvec, dot, sum, mean."""

from __future__ import annotations

import itertools

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg

from .. import dialect as tl
from .base import Alternative, Op
from .builders import elementwise, f64_constant, full_reduction, zero_filled
from .types import element_count, is_f64, ranked_tensor, shape


class Matmul(Op):
    name = "matmul"

    def verify(self, op, verifier) -> None:
        if not verifier.require_ranks(op, (2, 2, 2)):
            return
        (m, k), (k2, n) = shape(op.operands[0].type), shape(op.operands[1].type)
        if k != k2:
            verifier.error(op, f"'{op.name}' inner dimensions differ: lhs is {m}x{k}, "
                               f"rhs is {k2}x{n}")
        elif shape(op.results[0].type) != [m, n]:
            verifier.error(op, f"'{op.name}' result must be tensor<{m}x{n}xf64>, "
                               f"got {op.results[0].type}")

    def lower(self, op, lowering):
        init = zero_filled(op.results[0].type)
        return linalg.matmul(op.operands[0], op.operands[1], outs=[init])

    def reference(self, op, program):
        return lambda ins, batch: np.matmul(ins[0], ins[1])

    def alternatives(self, values):
        for a, b in itertools.product(values.matrices, values.matrices):
            (rows, inner), (inner2, cols) = tl.shape_of(a), tl.shape_of(b)
            if inner == inner2:
                yield Alternative((a, b), tl.tensor_type((rows, cols)))


class Matvec(Op):
    name = "matvec"

    def verify(self, op, verifier) -> None:
        if not verifier.require_ranks(op, (2, 1, 1)):
            return
        (m, k), (k2,) = shape(op.operands[0].type), shape(op.operands[1].type)
        if k != k2:
            verifier.error(op, f"'{op.name}' matrix is {m}x{k} but vector has {k2} elements")
        elif shape(op.results[0].type) != [m]:
            verifier.error(op, f"'{op.name}' result must be tensor<{m}xf64>, "
                               f"got {op.results[0].type}")

    def lower(self, op, lowering):
        init = zero_filled(op.results[0].type)
        return linalg.matvec(op.operands[0], op.operands[1], outs=[init])

    def reference(self, op, program):
        return lambda ins, batch: np.einsum("...ij,...j->...i", ins[0], ins[1])

    def alternatives(self, values):
        for m in values.matrices:
            rows, cols = tl.shape_of(m)
            yield Alternative((m, tl.tensor_type((cols,))), tl.tensor_type((rows,)))


class Dot(Op):
    name = "dot"

    def verify(self, op, verifier) -> None:
        t = ranked_tensor(op.operands[0].type)
        if t.rank != 1 or not is_f64(t.element_type):
            verifier.error(op, f"'{op.name}' expects two rank-1 f64 tensors, "
                               f"got {op.operands[0].type}")

    def lower(self, op, lowering):
        product = elementwise(op.operands, op.operands[0].type, arith.mulf)
        return full_reduction(product, 0.0, arith.addf)

    def reference(self, op, program):
        return lambda ins, batch: np.einsum("...i,...i->...", ins[0], ins[1])

    def alternatives(self, values):
        for v in values.vectors:
            yield Alternative((v, v), "f64")


class Reduction(Op):
    """A full reduction of an f64 tensor to one f64; ``numpy`` reduces over axes."""

    numpy = None  # np.sum or np.mean

    def verify(self, op, verifier) -> None:
        verifier.require_f64_tensor(op, op.operands[0], "operand")

    def reference(self, op, program):
        rank = ir.RankedTensorType(op.operands[0].type).rank
        reduce = self.numpy

        def evaluate(ins, batch):
            x = ins[0]
            return reduce(x, axis=tuple(range(x.ndim - rank, x.ndim)))  # all but the batch

        return evaluate

    def alternatives(self, values):
        for t in values.f64_tensors:
            yield Alternative((t,), "f64")


class Sum(Reduction):
    name = "sum"
    numpy = staticmethod(np.sum)

    def lower(self, op, lowering):
        return full_reduction(op.operands[0], 0.0, arith.addf)


class Mean(Reduction):
    name = "mean"
    numpy = staticmethod(np.mean)

    def lower(self, op, lowering):
        total = full_reduction(op.operands[0], 0.0, arith.addf)
        return arith.divf(total, f64_constant(float(element_count(op.operands[0].type))))


OPS = (Matmul(), Matvec(), Dot(), Sum(), Mean())
