"""Comparisons and what consumes them: ``cmp`` makes an i1 tensor, ``select`` picks with
it, ``assert`` checks it at run time.

Boolean tensors are never stored: MLIR cannot lower a buffer of i1. The verifier lets a
cmp result flow only into select or assert, which evaluate the comparison inline when
they are lowered; the cmp op itself then has no users and is erased.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import NDArray

from ..diagnostics import location_parts
from ..ir_types import MlirOperation, MlirValue
from .base import (
    ERASE,
    NO_MATCH,
    Alternative,
    Batch,
    CEmitter,
    Check,
    CValue,
    Evaluate,
    OneOf,
    Op,
    OpSpec,
    ShapeRule,
    ValueTypes,
    tensor_shape,
    tensor_type,
)
from .bindings import arith, ir, memref
from .builders import elementwise, full_reduction, with_element
from .types import format_shape, is_i1, ranked_tensor, shape, string_attribute

if TYPE_CHECKING:
    from ..lowering import Lowering
    from ..reference import ReferenceProgram
    from ..verifier import SemanticVerifier

COMPARE_PREDICATES = ("lt", "le", "gt", "ge", "eq", "ne")
# Each predicate's ordered MLIR comparison, by its name in ``arith.CmpFPredicate``.
MLIR_PREDICATES = {
    "lt": "OLT",
    "le": "OLE",
    "gt": "OGT",
    "ge": "OGE",
    "eq": "OEQ",
    "ne": "ONE",
}
# The module-level status word that a lowered ``tensorlang.assert`` writes its number to.
ASSERT_STATUS_GLOBAL = "__tensorlang_assert_status"


# A numpy comparison of two batches, elementwise.
Compare = Callable[[Batch, Batch], NDArray[np.bool_]]
# An MLIR comparison of two scalar values, built at the insertion point.
ScalarCompare = Callable[[MlirValue, MlirValue], MlirValue]


def _ordered(fn: Compare) -> Compare:
    """An MLIR ordered comparison: false whenever an operand is NaN."""
    return lambda a, b: fn(a, b) & ~(np.isnan(a) | np.isnan(b))


# numpy's comparisons are false on NaN already, except "ne".
NUMPY_PREDICATES: dict[str, Compare] = {
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": _ordered(np.not_equal),
}


def comparison(cmp_op: MlirOperation) -> tuple[list[MlirValue], ScalarCompare]:
    """(the cmp's operands, a function building the comparison of two elements)."""
    predicate = getattr(arith.CmpFPredicate, MLIR_PREDICATES[string_attribute(cmp_op, "predicate")])
    return list(cmp_op.operands), lambda a, b: arith.cmpf(predicate, a, b)


class Cmp(Op):
    spec = OpSpec(
        "cmp",
        (("lhs", "T"), ("rhs", "T")),
        (("result", "tensor"),),
        ShapeRule.COMPARE,
        'Elementwise comparison to an i1 tensor: {predicate = "lt"} '
        "(lt, le, gt, ge, eq, ne; ordered).",
        attributes=(("predicate", "string"),),
    )

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        if not verifier.require_f64_tensor(op, op.operands[0], "operands"):
            return
        predicate = string_attribute(op, "predicate")
        if predicate not in COMPARE_PREDICATES:
            verifier.error(
                op,
                f'unknown predicate "{predicate}"; expected one of '
                + ", ".join(COMPARE_PREDICATES),
            )
        for use in op.results[0].uses:
            user = use.owner
            if not (
                user.name == "tensorlang.assert"
                or (user.name == "tensorlang.select" and use.operand_number == 0)
            ):
                verifier.error(
                    op,
                    f"the result of '{op.name}' may only be used as the "
                    "condition of tensorlang.select or tensorlang.assert "
                    f"(used by '{user.name}')",
                )
                break
        result = ranked_tensor(op.results[0].type)
        assert result is not None  # IRDL: a tensor
        operand_shape = shape(op.operands[0].type)
        if not is_i1(result.element_type) or list(result.shape) != operand_shape:
            verifier.error(
                op,
                f"'{op.name}' result must be "
                f"tensor<{format_shape(operand_shape)}xi1>, "
                f"got {op.results[0].type}",
            )

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        return NO_MATCH if list(op.results[0].uses) else ERASE

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        compare = NUMPY_PREDICATES[string_attribute(op, "predicate")]
        return lambda ins, batch: compare(ins[0], ins[1])

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        predicate = string_attribute(op, "predicate")
        return [emitter.c.compare(predicate, a, b) for a, b in zip(*ins)]

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        predicate = (' {predicate = "', OneOf("predicate", COMPARE_PREDICATES), '"}')
        for t in values.f64_tensors:
            yield Alternative((t, t), tensor_type(tensor_shape(t), "i1"), predicate)


class Select(Op):
    spec = OpSpec(
        "select",
        (("cond", "tensor"), ("on_true", "T"), ("on_false", "T")),
        (("result", "T"),),
        ShapeRule.SELECT,
        "Elementwise cond ? on_true : on_false; cond is an i1 tensor of the same shape.",
    )

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        cond = ranked_tensor(op.operands[0].type)
        value_shape = shape(op.operands[1].type)
        if op.operands[0].owner.name != "tensorlang.cmp":
            verifier.error(op, f"'{op.name}' condition must be the result of tensorlang.cmp")
            return
        assert cond is not None  # IRDL: a cmp's result is a tensor
        if not is_i1(cond.element_type) or list(cond.shape) != value_shape:
            verifier.error(
                op,
                f"'{op.name}' condition must be "
                f"tensor<{format_shape(value_shape)}xi1>, "
                f"got {op.operands[0].type}",
            )
        verifier.require_f64_tensor(op, op.results[0], "values")

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        (lhs, rhs), compare = comparison(op.operands[0].owner)
        return elementwise(
            [lhs, rhs, op.operands[1], op.operands[2]],
            op.results[0].type,
            lambda a, b, t, f: arith.select(compare(a, b), t, f),
        )

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        return lambda ins, batch: np.where(ins[0], ins[1], ins[2])

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        return [emitter.c.select(k, a, b) for k, a, b in zip(*ins)]

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for c in values.bool_tensors:
            t = tensor_type(tensor_shape(c))
            yield Alternative((c, t, t), t)


@dataclass
class BatchedAssertFailure:
    """The first assert that failed in a reference call, and which batch rows violated it."""

    message: str
    file: str
    line: int
    col: int
    rows: NDArray[np.bool_]  # bool mask over the batch


class Assert(Op):
    """A run-time check that reports a violation without aborting.

    Lowered, it stores into a module-level status word (0 = no violation, n = assert
    number n failed first); the caller reads and resets the word around each call."""

    spec = OpSpec(
        "assert",
        (("cond", "any"),),
        (),
        ShapeRule.ASSERT,
        "Runtime check: every element of cond (i1 or an i1 tensor) must be true. "
        'A violation is reported with {message = "..."} and this op\'s location; '
        "execution goes on.",
        attributes=(("message", "string"),),
    )

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        cond = op.operands[0].type
        t = ranked_tensor(cond)
        if not (is_i1(cond) or (t is not None and is_i1(t.element_type))):
            verifier.error(op, f"'{op.name}' condition must be i1 or a tensor of i1, got {cond}")
        elif t is not None and op.operands[0].owner.name != "tensorlang.cmp":
            verifier.error(op, f"'{op.name}' tensor condition must be the result of tensorlang.cmp")

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        number = lowering.record_assert(string_attribute(op, "message"), op.location)
        cond = op.operands[0]
        i32 = ir.IntegerType.get_signless(32)
        if isinstance(cond.type, ir.RankedTensorType):
            (lhs, rhs), compare = comparison(cond.owner)
            holds = elementwise(
                [lhs, rhs],
                with_element(lhs.type, i32),
                lambda a, b: arith.extui(i32, compare(a, b)),
            )
            all_hold = full_reduction(holds, 1, arith.andi)
            cond = arith.cmpi(arith.CmpIPredicate.ne, all_hold, arith.constant(i32, 0))
        status_type = ir.MemRefType.get([], i32)
        status = memref.get_global(status_type, ASSERT_STATUS_GLOBAL)
        previous = memref.load(status, [])
        # Keep the first violation of this call: write our number only if none yet.
        none_yet = arith.cmpi(arith.CmpIPredicate.eq, previous, arith.constant(i32, 0))
        violated = arith.xori(cond, arith.constant(ir.IntegerType.get_signless(1), 1))
        record = arith.andi(none_yet, violated)
        memref.store(arith.select(record, arith.constant(i32, number), previous), status, [])
        return ERASE

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Check:
        """A function (inputs, batch size) -> the failure, or None if every row holds."""
        file, line, col = location_parts(op.location, program.path)
        message = string_attribute(op, "message")

        def check(ins: list[Batch], batch: int) -> BatchedAssertFailure | None:
            holds = np.broadcast_to(ins[0], (batch,) + np.shape(ins[0])[1:])
            rows = cast("NDArray[np.bool_]", ~holds.reshape(batch, -1).all(axis=1))  # 2-d: an array
            return BatchedAssertFailure(message, file, line, col, rows) if rows.any() else None

        return check

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        emitter.assert_holds(op, ins[0] if isinstance(ins[0], list) else [ins[0]])
        return None

    def alternatives(self, values: ValueTypes) -> Iterable[Alternative]:
        return ()  # a synthesized controller does not add asserts


OPS = (Cmp(), Select(), Assert())
