"""Reference semantics of TensorLang in numpy, batched over a leading axis.

``ReferenceProgram`` evaluates a verified program for many inputs at once: every value
carries a leading batch axis (a scalar ``f64`` becomes shape ``[B]``, a
``tensor<2x8xf64>`` becomes ``[B, 2, 8]``). It is the readable specification of what
each op means, and the numpy baseline that the swarm benchmark compares the native
kernel against. It follows MLIR's semantics where numpy's differ: ``cmp "ne"`` is
ordered (false when either side is NaN), min/max propagate NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mlir import ir

from .diagnostics import location_parts


def _attr_float(op, name: str) -> float:
    return ir.FloatAttr(op.attributes[name]).value


def _attr_ints(op, name: str) -> list[int]:
    return list(ir.DenseI64ArrayAttr(op.attributes[name]))


def _dense(attr) -> np.ndarray:
    attr = ir.DenseElementsAttr(attr)
    shape = tuple(ir.ShapedType(attr.type).shape)
    if attr.is_splat:
        return np.full(shape, ir.FloatAttr(attr.get_splat_value()).value)
    return np.array(ir.DenseFPElementsAttr(attr), dtype=np.float64).reshape(shape)


def _ordered(fn):
    """An MLIR ordered comparison: false whenever an operand is NaN."""
    return lambda a, b: fn(a, b) & ~(np.isnan(a) | np.isnan(b))


_COMPARE = {
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "eq": np.equal, "ne": _ordered(np.not_equal),
}
# arith.cmpf predicates by their integer value in MLIR's CmpFPredicate enum.
_CMPF = {1: "eq", 2: "gt", 3: "ge", 4: "lt", 5: "le", 6: "ne"}

_ELEMENTWISE = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "min": np.minimum, "max": np.maximum, "neg": np.negative, "abs": np.abs,
    "tanh": np.tanh, "exp": np.exp, "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    # the scalar arith ops that programs may use
    "addf": np.add, "subf": np.subtract, "mulf": np.multiply, "divf": np.divide,
    "negf": np.negative, "maximumf": np.maximum, "minimumf": np.minimum,
    "maxnumf": np.fmax, "minnumf": np.fmin, "andi": np.logical_and, "ori": np.logical_or,
    "xori": np.logical_xor,
}


def _last_axes(x: np.ndarray, rank: int) -> tuple[int, ...]:
    return tuple(range(x.ndim - rank, x.ndim))


@dataclass
class BatchedAssertFailure:
    """The first assert that failed in a call, and which batch rows violated it."""

    message: str
    file: str
    line: int
    col: int
    rows: np.ndarray  # bool mask over the batch


class ReferenceProgram:
    """A verified TensorLang module, evaluated with numpy over a batch axis.

    The module is read once into a list of numpy closures per function, so a call does
    no MLIR work: this is the numpy baseline, and it should be a fair one.
    """

    def __init__(self, module_op, path: str):
        self.path = path
        funcs = {}
        for op in module_op.regions[0].blocks[0].operations:
            op = op.operation
            if op.name == "func.func":
                funcs[ir.StringAttr(op.attributes["sym_name"]).value] = op
        self.functions = {name: self._prepare(func) for name, func in funcs.items()}

    def call(self, name: str, *args: np.ndarray):
        """Evaluate ``@name`` for a batch; returns (results, first assert failure or None)."""
        failures: list[BatchedAssertFailure] = []
        results = self._run(name, [np.asarray(a, dtype=np.float64) for a in args], failures)
        return results, (failures[0] if failures else None)

    # A prepared function is (argument slots, steps, returned slots); a step is
    # (kind, payload, input slots, output slots) with kind "op", "call" or "assert".

    def _prepare(self, func):
        block = func.regions[0].blocks[0]
        slots: dict = {}

        def slot(value) -> int:
            return slots.setdefault(value, len(slots))

        arguments = [slot(a) for a in block.arguments]
        steps, returned = [], []
        for op in block.operations:
            op = op.operation
            ins = [slot(v) for v in op.operands]
            outs = [slot(r) for r in op.results]
            if op.name == "func.return":
                returned = ins
            elif op.name == "func.call":
                steps.append(("call", ir.FlatSymbolRefAttr(op.attributes["callee"]).value, ins, outs))
            elif op.name == "tensorlang.assert":
                file, line, col = location_parts(op.location, self.path)
                message = ir.StringAttr(op.attributes["message"]).value
                steps.append(("assert", (message, file, line, col), ins, outs))
            else:
                steps.append(("op", _semantics(op), ins, outs))
        return arguments, steps, returned

    def _run(self, name: str, args, failures):
        arguments, steps, returned = self.functions[name]
        values = dict(zip(arguments, args))
        batch = args[0].shape[0] if args else 1
        for kind, payload, ins, outs in steps:
            inputs = [values[i] for i in ins]
            if kind == "op":
                values[outs[0]] = payload(inputs, batch)
            elif kind == "call":
                values.update(zip(outs, self._run(payload, inputs, failures)))
            else:
                holds = np.broadcast_to(inputs[0], (batch,) + np.shape(inputs[0])[1:])
                rows = ~holds.reshape(batch, -1).all(axis=1)
                if rows.any() and not failures:
                    failures.append(BatchedAssertFailure(*payload, rows))
        return [np.broadcast_to(values[i], (batch,) + np.shape(values[i])[1:]) for i in returned]


def _semantics(op):
    """A function (inputs, batch size) -> result that evaluates ``op`` with numpy."""
    short = op.name.split(".", 1)[1]
    result_type = op.results[0].type
    if short in _ELEMENTWISE:
        fn = _ELEMENTWISE[short]
        return lambda ins, batch: fn(*ins)
    if short == "constant":
        value = op.attributes["value"]
        array = _dense(value) if isinstance(result_type, ir.RankedTensorType) else (
            np.float64(ir.FloatAttr(value).value))
        array = np.asarray(array)[None]  # batch axis of 1: numpy broadcasts it
        return lambda ins, batch: array
    if short == "clamp":
        lo, hi = _attr_float(op, "lo"), _attr_float(op, "hi")
        return lambda ins, batch: np.minimum(np.maximum(ins[0], lo), hi)
    if short == "matmul":
        return lambda ins, batch: np.matmul(ins[0], ins[1])
    if short == "matvec":
        return lambda ins, batch: np.einsum("...ij,...j->...i", ins[0], ins[1])
    if short == "dot":
        return lambda ins, batch: np.einsum("...i,...i->...", ins[0], ins[1])
    if short in ("sum", "mean"):
        rank = ir.RankedTensorType(op.operands[0].type).rank
        reduce = np.sum if short == "sum" else np.mean
        return lambda ins, batch: reduce(ins[0], axis=_last_axes(ins[0], rank))
    if short == "slice":
        index = (slice(None),) + tuple(slice(o, o + s) for o, s in
                                       zip(_attr_ints(op, "offsets"), _attr_ints(op, "sizes")))
        return lambda ins, batch: ins[0][index]
    if short == "concat":  # TensorLang concatenates along dim 0
        return lambda ins, batch: np.concatenate(np.broadcast_arrays(*ins), axis=1)
    if short == "extract":
        index = (slice(None),) + tuple(_attr_ints(op, "index"))
        return lambda ins, batch: ins[0][index]
    if short == "broadcast":
        shape = tuple(ir.RankedTensorType(result_type).shape)
        return lambda ins, batch: np.broadcast_to(
            ins[0].reshape((-1,) + (1,) * len(shape)), (len(ins[0]),) + shape)
    if short in ("cmp", "cmpf"):
        if short == "cmp":
            predicate = ir.StringAttr(op.attributes["predicate"]).value
        else:
            predicate = _CMPF[ir.IntegerAttr(op.attributes["predicate"]).value]
        compare = _COMPARE[predicate]
        return lambda ins, batch: compare(ins[0], ins[1])
    if short == "select":
        return lambda ins, batch: np.where(ins[0], ins[1], ins[2])
    if short == "uitofp":
        return lambda ins, batch: ins[0].astype(np.float64)
    raise NotImplementedError(f"no reference semantics for {op.name}")
