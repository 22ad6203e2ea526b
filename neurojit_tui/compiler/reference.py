"""Reference semantics of TensorLang in numpy, batched over a leading axis.

``ReferenceProgram`` evaluates a verified program for many inputs at once: every value
carries a leading batch axis (a scalar ``f64`` becomes shape ``[B]``, a
``tensor<2x8xf64>`` becomes ``[B, 2, 8]``). What each TensorLang op means in numpy is
its class's ``reference`` (``compiler/ops``), the readable specification of the op; this
module runs those for whole programs, as the numpy baseline that the swarm benchmark
compares the native kernel against. It follows MLIR's semantics where numpy's differ:
``cmp "ne"`` is ordered (false when either side is NaN), min/max propagate NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
from mlir import ir
from numpy.typing import ArrayLike

from . import ops
from .ir_types import MlirOperation, MlirValue
from .ops.base import Batch, Check, Evaluate
from .ops.comparison import NUMPY_PREDICATES, BatchedAssertFailure
from .ops.types import float_attribute

# The scalar arith ops that programs may use (TensorLang ops mean what their classes in
# compiler/ops say).
_ARITH: dict[str, Callable[..., Batch]] = {
    "arith.addf": np.add,
    "arith.subf": np.subtract,
    "arith.mulf": np.multiply,
    "arith.divf": np.divide,
    "arith.negf": np.negative,
    "arith.maximumf": np.maximum,
    "arith.minimumf": np.minimum,
    "arith.maxnumf": np.fmax,
    "arith.minnumf": np.fmin,
    "arith.andi": np.logical_and,
    "arith.ori": np.logical_or,
    "arith.xori": np.logical_xor,
}
# arith.cmpf predicates by their integer value in MLIR's CmpFPredicate enum.
_CMPF = {1: "eq", 2: "gt", 3: "ge", 4: "lt", 5: "le", 6: "ne"}

__all__ = ["BatchedAssertFailure", "ReferenceProgram"]

# What ReferenceProgram._prepare makes of a function (see there).
Step = tuple[str, "Evaluate | Check | str", list[int], list[int]]
Prepared = tuple[list[int], list[Step], list[int]]


class ReferenceProgram:
    """A verified TensorLang module, evaluated with numpy over a batch axis.

    The module is read once into a list of numpy closures per function, so a call does
    no MLIR work: this is the numpy baseline, and it should be a fair one.
    """

    def __init__(self, module_op: MlirOperation, path: str):
        self.path = path
        funcs: dict[str, MlirOperation] = {}
        for op in module_op.regions[0].blocks[0].operations:
            op = op.operation
            if op.name == "func.func":
                funcs[ir.StringAttr(op.attributes["sym_name"]).value] = op
        self.functions = {name: self._prepare(func) for name, func in funcs.items()}

    def call(self, name: str, *args: ArrayLike) -> tuple[list[Batch], BatchedAssertFailure | None]:
        """Evaluate ``@name`` for a batch; returns (results, first assert failure or None)."""
        failures: list[BatchedAssertFailure] = []
        results = self._run(name, [np.asarray(a, dtype=np.float64) for a in args], failures)
        return results, (failures[0] if failures else None)

    # A prepared function is (argument slots, steps, returned slots); a step is
    # (kind, payload, input slots, output slots) with kind "op" (a numpy function of
    # the inputs), "check" (an op without results, an assert: a function of the inputs
    # that returns a BatchedAssertFailure or None) or "call".

    def _prepare(self, func: MlirOperation) -> Prepared:
        block = func.regions[0].blocks[0]
        slots: dict[MlirValue, int] = {}

        def slot(value: MlirValue) -> int:
            return slots.setdefault(value, len(slots))

        arguments = [slot(a) for a in block.arguments]
        steps: list[Step] = []
        returned: list[int] = []
        for op in block.operations:
            op = op.operation
            ins = [slot(v) for v in op.operands]
            outs = [slot(r) for r in op.results]
            if op.name == "func.return":
                returned = ins
            elif op.name == "func.call":
                callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
                steps.append(("call", callee, ins, outs))
            else:
                steps.append(("op" if outs else "check", self._semantics(op), ins, outs))
        return arguments, steps, returned

    def _run(
        self, name: str, args: list[Batch], failures: list[BatchedAssertFailure]
    ) -> list[Batch]:
        arguments, steps, returned = self.functions[name]
        values = dict(zip(arguments, args))
        batch = args[0].shape[0] if args else 1
        for kind, payload, ins, outs in steps:
            inputs = [values[i] for i in ins]
            if kind == "op":
                values[outs[0]] = cast("Evaluate", payload)(inputs, batch)
            elif kind == "call":
                values.update(zip(outs, self._run(cast(str, payload), inputs, failures)))
            else:
                failure = cast("Check", payload)(inputs, batch)
                if failure is not None and not failures:
                    failures.append(failure)
        return [np.broadcast_to(values[i], (batch,) + np.shape(values[i])[1:]) for i in returned]

    def _semantics(self, op: MlirOperation) -> Evaluate | Check:
        """A function (inputs, batch size) -> result that evaluates ``op`` with numpy."""
        if op.name in ops.BY_NAME:
            return ops.BY_NAME[op.name].reference(op, self)
        return _arith_semantics(op)


def _arith_semantics(op: MlirOperation) -> Evaluate:
    if op.name in _ARITH:
        fn = _ARITH[op.name]
        return lambda ins, batch: fn(*ins)
    if op.name == "arith.constant":
        value = np.asarray(np.float64(float_attribute(op, "value")))[None]  # batch axis of 1
        return lambda ins, batch: value
    if op.name == "arith.cmpf":
        compare = NUMPY_PREDICATES[_CMPF[ir.IntegerAttr(op.attributes["predicate"]).value]]
        return lambda ins, batch: compare(ins[0], ins[1])
    if op.name == "arith.select":
        return lambda ins, batch: np.where(ins[0], ins[1], ins[2])
    if op.name == "arith.uitofp":
        return lambda ins, batch: ins[0].astype(np.float64)
    raise NotImplementedError(f"no reference semantics for {op.name}")
