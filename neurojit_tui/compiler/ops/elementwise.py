"""Elementwise ops: every operand and the result share one f64 tensor type (IRDL checks
that), and each element of the result is a scalar function of the matching elements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from ..ir_types import MlirOperation, MlirValue
from .base import (
    NUMBER,
    Alternative,
    Batch,
    CEmitter,
    CScalar,
    CValue,
    Evaluate,
    Op,
    OpSpec,
    ShapeRule,
    ValueTypes,
)
from .bindings import arith, math
from .builders import elementwise, f64_constant
from .types import float_attribute

if TYPE_CHECKING:
    from ..lowering import Lowering
    from ..reference import ReferenceProgram
    from ..verifier import SemanticVerifier


class Elementwise(Op):
    """An op whose whole meaning is its scalar function: ``scalar`` builds it in MLIR
    from the operands' elements, ``numpy`` computes it on arrays, ``c`` writes it as C
    (given the ``ScalarC`` and the elements). The ops of this family are instances
    (``ADD`` ...), not subclasses: their declaration and functions are all that differs."""

    def __init__(
        self,
        name: str,
        operands: tuple[str, ...],
        summary: str,
        scalar: Callable[..., MlirValue],
        numpy: Callable[..., Batch],
        c: Callable[..., CScalar],
    ):
        # "T": IRDL checks that every operand and the result have one type.
        declared = tuple((operand, "T") for operand in operands)
        self.spec = OpSpec(name, declared, (("result", "T"),), ShapeRule.ELEMENTWISE, summary)
        self.scalar, self.numpy, self.c = scalar, numpy, c

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        verifier.require_f64_tensor(op, op.results[0], "operands and result")

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        return elementwise(op.operands, op.results[0].type, self.scalar)

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        return lambda ins, batch: self.numpy(*ins)

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        return [self.c(emitter.c, *elements) for elements in zip(*ins)]

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        arity = len(self.spec.operands)
        for t in values.f64_tensors:
            yield Alternative((t,) * arity, t)


def _relu(x: MlirValue) -> MlirValue:
    return arith.maximumf(x, f64_constant(0.0))


def _sigmoid(x: MlirValue) -> MlirValue:
    return arith.divf(f64_constant(1.0), arith.addf(f64_constant(1.0), math.exp(arith.negf(x))))


UNARY, BINARY = ("x",), ("lhs", "rhs")
# The MLIR builders are wrapped in lambdas: the op modules import no MLIR until used.
ADD = Elementwise(
    "add",
    BINARY,
    "Elementwise lhs + rhs.",
    lambda a, b: arith.addf(a, b),
    np.add,
    lambda c, a, b: c.binary("add", a, b),
)
SUB = Elementwise(
    "sub",
    BINARY,
    "Elementwise lhs - rhs.",
    lambda a, b: arith.subf(a, b),
    np.subtract,
    lambda c, a, b: c.binary("sub", a, b),
)
MUL = Elementwise(
    "mul",
    BINARY,
    "Elementwise lhs * rhs.",
    lambda a, b: arith.mulf(a, b),
    np.multiply,
    lambda c, a, b: c.binary("mul", a, b),
)
DIV = Elementwise(
    "div",
    BINARY,
    "Elementwise lhs / rhs (IEEE: x/0 is inf or nan, never a trap).",
    lambda a, b: arith.divf(a, b),
    np.divide,
    lambda c, a, b: c.binary("div", a, b),
)
# minimumf/maximumf, np.minimum/np.maximum and the C's minimum/maximum all propagate NaN.
MIN = Elementwise(
    "min",
    BINARY,
    "Elementwise minimum.",
    lambda a, b: arith.minimumf(a, b),
    np.minimum,
    lambda c, a, b: c.extremum("minimum", a, b),
)
MAX = Elementwise(
    "max",
    BINARY,
    "Elementwise maximum.",
    lambda a, b: arith.maximumf(a, b),
    np.maximum,
    lambda c, a, b: c.extremum("maximum", a, b),
)
NEG = Elementwise(
    "neg", UNARY, "Elementwise -x.", lambda x: arith.negf(x), np.negative, lambda c, x: c.negate(x)
)
ABS = Elementwise(
    "abs", UNARY, "Elementwise |x|.", lambda x: math.absf(x), np.abs, lambda c, x: c.abs(x)
)
TANH = Elementwise(
    "tanh",
    UNARY,
    "Elementwise tanh(x).",
    lambda x: math.tanh(x),
    np.tanh,
    lambda c, x: c.math("tanh", x),
)
EXP = Elementwise(
    "exp",
    UNARY,
    "Elementwise exp(x).",
    lambda x: math.exp(x),
    np.exp,
    lambda c, x: c.math("exp", x),
)
RELU = Elementwise(
    "relu",
    UNARY,
    "Elementwise max(x, 0).",
    _relu,
    lambda x: np.maximum(x, 0.0),
    lambda c, x: c.maximum(x, 0.0),
)
SIGMOID = Elementwise(
    "sigmoid",
    UNARY,
    "Elementwise 1 / (1 + exp(-x)).",
    _sigmoid,
    lambda x: 1.0 / (1.0 + np.exp(-x)),
    lambda c, x: 1.0 / (1.0 + c.math("exp", -x)),
)


class Clamp(Op):
    """Elementwise min(max(x, lo), hi), the bounds being attributes."""

    spec = OpSpec(
        "clamp",
        (("x", "T"),),
        (("result", "T"),),
        ShapeRule.CLAMP,
        "Elementwise min(max(x, lo), hi): {lo = -1.0 : f64, hi = 1.0 : f64}.",
        attributes=(("lo", "float"), ("hi", "float")),
    )

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        if not verifier.require_f64_tensor(op, op.results[0], "operand and result"):
            return
        lo, hi = float_attribute(op, "lo"), float_attribute(op, "hi")
        if not lo <= hi:
            verifier.error(op, f"'{op.name}' needs lo <= hi, got lo = {lo}, hi = {hi}")

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        lo, hi = float_attribute(op, "lo"), float_attribute(op, "hi")
        return elementwise(
            op.operands,
            op.results[0].type,
            lambda x: arith.minimumf(arith.maximumf(x, f64_constant(lo)), f64_constant(hi)),
        )

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        lo, hi = float_attribute(op, "lo"), float_attribute(op, "hi")
        return lambda ins, batch: np.minimum(np.maximum(ins[0], lo), hi)

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        c = emitter.c
        lo, hi = float_attribute(op, "lo"), float_attribute(op, "hi")
        return [c.minimum(c.maximum(x, lo), hi) for x in ins[0]]

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        bounds = (" {lo = ", NUMBER, " : f64, hi = ", NUMBER, " : f64}")
        for t in values.f64_tensors:
            yield Alternative((t,), t, bounds)


OPS = (ADD, SUB, MUL, DIV, MIN, MAX, NEG, ABS, TANH, EXP, RELU, SIGMOID, Clamp())
