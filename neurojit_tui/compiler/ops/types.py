"""Reading MLIR types and attributes: what the verifier and the op classes ask of them."""

from __future__ import annotations

from mlir import ir


def is_f64(t) -> bool:
    return isinstance(t, ir.F64Type)


def is_i1(t) -> bool:
    return isinstance(t, ir.IntegerType) and t.width == 1


def ranked_tensor(t):
    """``t`` if it is a ranked tensor type, else None."""
    return t if isinstance(t, ir.RankedTensorType) else None


def is_bool_tensor(t) -> bool:
    return ranked_tensor(t) is not None and is_i1(ranked_tensor(t).element_type)


def shape(t) -> list[int]:
    return list(ranked_tensor(t).shape)


def format_shape(dims) -> str:
    return "x".join(str(d) for d in dims) if dims else "scalar"


def element_count(t) -> int:
    count = 1
    for d in ir.RankedTensorType(t).shape:
        count *= d
    return count


def float_attribute(op, name: str) -> float:
    return ir.FloatAttr(op.attributes[name]).value


def string_attribute(op, name: str) -> str:
    return ir.StringAttr(op.attributes[name]).value


def i64_array_attribute(op, name: str) -> list[int]:
    """An ``array<i64: ...>`` attribute of a verified op."""
    return list(ir.DenseI64ArrayAttr(op.attributes[name]))
