"""Ops that make, cut, join and index tensors: constant, slice, concat, extract,
broadcast."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..ir_types import MlirAttribute, MlirOperation, MlirValue
from .base import (
    Alternative,
    Batch,
    CEmitter,
    CValue,
    DenseLiteral,
    Evaluate,
    Op,
    OpSpec,
    ShapeRule,
    ValueTypes,
    tensor_shape,
    tensor_type,
)
from .bindings import arith, ir, linalg, tensor
from .builders import elementwise, empty_tensor
from .types import format_shape, i64_array_attribute, is_f64, ranked_tensor, shape

if TYPE_CHECKING:
    from ..lowering import Lowering
    from ..reference import ReferenceProgram
    from ..verifier import SemanticVerifier


def dense_array(attr: MlirAttribute) -> NDArray[np.float64]:
    """The elements of a ``dense<...>`` f64 attribute as an array of its shape."""
    attr = ir.DenseElementsAttr(attr)
    dims = tuple(ir.ShapedType(attr.type).shape)
    if attr.is_splat:
        return np.full(dims, ir.FloatAttr(attr.get_splat_value()).value)
    return np.array(ir.DenseFPElementsAttr(attr), dtype=np.float64).reshape(dims)


class Constant(Op):
    spec = OpSpec(
        "constant",
        (),
        (("result", "tensor"),),
        ShapeRule.CONSTANT,
        "A constant tensor: {value = dense<...> : tensor<...xf64>}.",
        attributes=(("value", "dense"),),
    )
    MAX_GRAMMAR_ELEMENTS = 32  # the largest dense literal the grammar offers

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        value = op.attributes["value"]
        result = ranked_tensor(op.results[0].type)
        if value.type != result:
            verifier.error(op, f"constant value has type {value.type} but the result is {result}")

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        return arith.constant(op.results[0].type, op.attributes["value"])

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        array = dense_array(op.attributes["value"])[None]  # batch axis of 1: numpy broadcasts it
        return lambda ins, batch: array

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        return [
            emitter.c.lift(float(v), "f64") for v in dense_array(op.attributes["value"]).ravel()
        ]

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for t in dict.fromkeys(values.f64_tensors + list(values.seed_types)):
            dims = tensor_shape(t)
            if int(np.prod(dims)) <= self.MAX_GRAMMAR_ELEMENTS:
                yield Alternative((), t, (" {value = dense<", DenseLiteral(dims), f"> : {t}}}"))


class Slice(Op):
    spec = OpSpec(
        "slice",
        (("x", "tensor"),),
        (("result", "tensor"),),
        ShapeRule.SLICE,
        "Static slice: {offsets = array<i64: ...>, sizes = array<i64: ...>}; "
        "the result has shape sizes.",
        attributes=(("offsets", "i64_array"), ("sizes", "i64_array")),
    )
    # The grammar enumerates every (offset, size) pair, so it offers only small sources.
    MAX_GRAMMAR_SOURCE = 8

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        if not verifier.require_f64_tensor(op, op.operands[0], "operand"):
            return
        dims = shape(op.operands[0].type)
        offsets, sizes = verifier.i64_array(op, "offsets"), verifier.i64_array(op, "sizes")
        if offsets is None or sizes is None:
            return
        if len(offsets) != len(dims) or len(sizes) != len(dims):
            verifier.error(
                op,
                f"'{op.name}' needs {len(dims)} offsets and sizes for a rank-"
                f"{len(dims)} tensor, got {len(offsets)} and {len(sizes)}",
            )
            return
        for d, (o, s, n) in enumerate(zip(offsets, sizes, dims)):
            if o < 0 or s < 1 or o + s > n:
                verifier.error(
                    op, f"slice out of bounds in dimension {d}: offset {o} + size {s} exceeds {n}"
                )
                return
        if shape(op.results[0].type) != sizes:
            verifier.error(
                op,
                f"'{op.name}' result must be tensor<{format_shape(sizes)}xf64>, "
                f"got {op.results[0].type}",
            )

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        offsets = i64_array_attribute(op, "offsets")
        sizes = i64_array_attribute(op, "sizes")
        view = tensor.extract_slice(
            op.results[0].type, op.operands[0], [], [], [], offsets, sizes, [1] * len(sizes)
        )
        # Copy the strided view into a dense tensor. Left as a view, a slice that is
        # returned needs memref.copy with a strided layout, which lowers to a call into
        # MLIR's C runner library; this keeps the compiled code self-contained.
        return elementwise([view], op.results[0].type, lambda x: x)

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        index = (slice(None),) + tuple(
            slice(o, o + s)
            for o, s in zip(i64_array_attribute(op, "offsets"), i64_array_attribute(op, "sizes"))
        )
        return lambda ins, batch: ins[0][index]

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        (offset,), (size,) = i64_array_attribute(op, "offsets"), i64_array_attribute(op, "sizes")
        return ins[0][offset : offset + size]

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for v in values.vectors:
            (n,) = tensor_shape(v)
            if n > self.MAX_GRAMMAR_SOURCE:
                continue
            for offset in range(n):
                for size in range(1, n - offset + 1):
                    yield Alternative(
                        (v,),
                        tensor_type((size,)),
                        (f" {{offsets = array<i64: {offset}>, sizes = array<i64: {size}>}}",),
                    )


class Concat(Op):
    """Along dimension 0, of two rank-1 tensors."""

    # Binary because IRDL binds one constraint variable to one type across all values
    # of a variadic operand, so a variadic concat could not take different sizes.
    spec = OpSpec(
        "concat",
        (("lhs", "tensor"), ("rhs", "tensor")),
        (("result", "tensor"),),
        ShapeRule.CONCAT,
        "Concatenation of two rank-1 tensors -> tensor<(M+N)xf64>; chain for more.",
    )
    MAX_GRAMMAR_RESULT = 16  # elements

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        total = 0
        for v in op.operands:
            t = ranked_tensor(v.type)
            assert t is not None  # IRDL: a tensor
            if t.rank != 1 or not is_f64(t.element_type):
                verifier.error(op, f"'{op.name}' inputs must be rank-1 f64 tensors, got {v.type}")
                return
            total += t.shape[0]
        if shape(op.results[0].type) != [total]:
            verifier.error(
                op, f"'{op.name}' result must be tensor<{total}xf64>, got {op.results[0].type}"
            )

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        result = empty_tensor(op.results[0].type)
        offset = 0
        for value in op.operands:
            size = ir.RankedTensorType(value.type).shape[0]
            result = tensor.insert_slice(value, result, [], [], [], [offset], [size], [1])
            offset += size
        return result

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        def evaluate(ins: list[Batch], batch: int) -> Batch:
            # Only the batch axes broadcast (a constant has a batch axis of 1); the
            # concatenated axes may differ.
            return np.concatenate([np.broadcast_to(x, (batch,) + x.shape[1:]) for x in ins], axis=1)

        return evaluate

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        return list(ins[0]) + list(ins[1])

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for a, b in itertools.product(values.vectors, values.vectors):
            total = tensor_shape(a)[0] + tensor_shape(b)[0]
            if total <= self.MAX_GRAMMAR_RESULT:
                yield Alternative((a, b), tensor_type((total,)))


class Extract(Op):
    spec = OpSpec(
        "extract",
        (("x", "tensor"),),
        (("result", "f64"),),
        ShapeRule.EXTRACT,
        "One element as an f64 scalar: {index = array<i64: i, ...>}.",
        attributes=(("index", "i64_array"),),
    )

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        if not verifier.require_f64_tensor(op, op.operands[0], "operand"):
            return
        dims = shape(op.operands[0].type)
        index = verifier.i64_array(op, "index")
        if index is None:
            return
        if len(index) != len(dims):
            verifier.error(op, f"'{op.name}' needs {len(dims)} indices, got {len(index)}")
            return
        for d, (i, n) in enumerate(zip(index, dims)):
            if not 0 <= i < n:
                verifier.error(op, f"index {i} out of bounds for dimension {d} of size {n}")
                return

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        index = [arith.constant(ir.IndexType.get(), i) for i in i64_array_attribute(op, "index")]
        return tensor.extract(op.operands[0], index)

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        index = (slice(None),) + tuple(i64_array_attribute(op, "index"))
        return lambda ins, batch: ins[0][index]

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        flat = 0  # the element's place in row-major order
        for index, size in zip(i64_array_attribute(op, "index"), shape(op.operands[0].type)):
            flat = flat * size + index
        return ins[0][flat]

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for v in values.vectors:
            for i in range(tensor_shape(v)[0]):
                yield Alternative((v,), "f64", (f" {{index = array<i64: {i}>}}",))


class Broadcast(Op):
    spec = OpSpec(
        "broadcast",
        (("x", "f64"),),
        (("result", "tensor"),),
        ShapeRule.BROADCAST,
        "A tensor filled with the scalar x.",
    )

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        verifier.require_f64_tensor(op, op.results[0], "result")

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        return linalg.fill(op.operands[0], outs=[empty_tensor(op.results[0].type)])

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate:
        dims = tuple(ir.RankedTensorType(op.results[0].type).shape)
        return lambda ins, batch: np.broadcast_to(
            ins[0].reshape((-1,) + (1,) * len(dims)), (len(ins[0]),) + dims
        )

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        count = 1
        for d in shape(op.results[0].type):
            count *= d
        return [ins[0]] * count

    def alternatives(self, values: ValueTypes) -> Iterator[Alternative]:
        for t in dict.fromkeys(values.f64_tensors + list(values.seed_types)):
            yield Alternative(("f64",), t)


OPS = (Constant(), Slice(), Concat(), Extract(), Broadcast())
