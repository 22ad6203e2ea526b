"""Small MLIR builders that op lowerings (and parametric compilation) share. Each
builds at the current insertion point and location."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..ir_types import MlirType, MlirValue
from .bindings import arith, ir, linalg, tensor


def f64_constant(value: float) -> MlirValue:
    return arith.constant(ir.F64Type.get(), value)


def empty_tensor(result_type: MlirType) -> MlirValue:
    t = ir.RankedTensorType(result_type)
    return tensor.empty(t.shape, t.element_type)


def zero_filled(result_type: MlirType) -> MlirValue:
    return linalg.fill(f64_constant(0.0), outs=[empty_tensor(result_type)])


def with_element(tensor_type: MlirType, element_type: MlirType) -> MlirType:
    return ir.RankedTensorType.get(list(tensor_type.shape), element_type)


def elementwise(
    inputs: Sequence[MlirValue], result_type: MlirType, scalar_fn: Callable[..., MlirValue]
) -> MlirValue:
    """One linalg.generic applying ``scalar_fn`` to matching elements of ``inputs``."""
    rank = ir.RankedTensorType(result_type).rank
    identity = ir.AffineMap.get_identity(rank)
    generic = linalg.GenericOp_(
        list(inputs),
        [empty_tensor(result_type)],
        [identity] * (len(inputs) + 1),
        [linalg.IteratorType.parallel] * rank,
    )
    block = generic.regions[0].blocks[0]
    with ir.InsertionPoint(block):
        linalg.YieldOp([scalar_fn(*block.arguments[: len(inputs)])])
    return generic.result


def full_reduction(
    x: MlirValue, init_value: float, combine: Callable[[MlirValue, MlirValue], MlirValue]
) -> MlirValue:
    """Reduce every element of tensor ``x`` to a scalar with ``combine``."""
    t = ir.RankedTensorType(x.type)
    init = linalg.fill(
        arith.constant(t.element_type, init_value), outs=[tensor.empty([], t.element_type)]
    )
    maps = [ir.AffineMap.get_identity(t.rank), ir.AffineMap.get(t.rank, 0, [])]
    generic = linalg.GenericOp_([x], [init], maps, [linalg.IteratorType.reduction] * t.rank)
    block = generic.regions[0].blocks[0]
    with ir.InsertionPoint(block):
        linalg.YieldOp([combine(block.arguments[0], block.arguments[1])])
    return tensor.extract(generic.result, [])
