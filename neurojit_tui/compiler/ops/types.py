"""Reading MLIR types and attributes: what the verifier and the op classes ask of them."""

from __future__ import annotations

from collections.abc import Sequence

from ..ir_types import MlirOperation, MlirType
from .bindings import ir


def is_f64(t: MlirType) -> bool:
    return isinstance(t, ir.F64Type)


def is_i1(t: MlirType) -> bool:
    return isinstance(t, ir.IntegerType) and t.width == 1


def ranked_tensor(t: MlirType) -> MlirType | None:
    """``t`` if it is a ranked tensor type, else None."""
    return t if isinstance(t, ir.RankedTensorType) else None


def is_bool_tensor(t: MlirType) -> bool:
    tensor = ranked_tensor(t)
    return tensor is not None and is_i1(tensor.element_type)


def shape(t: MlirType) -> list[int]:
    """The shape of ranked tensor type ``t``."""
    tensor = ranked_tensor(t)
    assert tensor is not None, f"{t} is not a ranked tensor type"
    return list(tensor.shape)


def format_shape(dims: Sequence[int]) -> str:
    return "x".join(str(d) for d in dims) if dims else "scalar"


def element_count(t: MlirType) -> int:
    count = 1
    for d in ir.RankedTensorType(t).shape:
        count *= d
    return count


def float_attribute(op: MlirOperation, name: str) -> float:
    value: float = ir.FloatAttr(op.attributes[name]).value
    return value


def string_attribute(op: MlirOperation, name: str) -> str:
    value: str = ir.StringAttr(op.attributes[name]).value
    return value


def i64_array_attribute(op: MlirOperation, name: str) -> list[int]:
    """An ``array<i64: ...>`` attribute of a verified op."""
    return list(ir.DenseI64ArrayAttr(op.attributes[name]))
