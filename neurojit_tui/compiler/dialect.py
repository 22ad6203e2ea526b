"""The TensorLang dialect: its single, declarative definition.

This table says what each op *is*: its operands, results, attributes, shape rule and
summary. The IRDL text that MLIR loads (``irdl_source``), the language server's hover
and completion and the README's op table read it. What each op *does* (its semantic
check, its lowering, its numpy meaning and how the LLM grammar writes it) is one class
per op in ``compiler/ops/``. The table is plain data and imports nothing from MLIR, so
the language server and the registry's warm path can read it without loading MLIR.

TensorLang programs are ordinary MLIR text in generic op syntax, e.g.::

    %y = "tensorlang.tanh"(%x) : (tensor<4xf64>) -> tensor<4xf64>

Values are ranked, statically shaped tensors of ``f64`` (``i1`` for comparison
results). Scalars are plain ``f64`` handled by scalar ``arith`` ops; ``extract``,
``dot``, ``sum`` and ``mean`` produce scalars and ``broadcast`` turns one back into
a tensor.

Controller ABI
--------------
A controller is a module with::

    func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>)
        -> (tensor<2xf64>, tensor<4xf64>)

* ``obs`` = [x, y, vx, vy, angle, angular velocity, left leg contact, right leg contact]
* result 0 = action [main engine, lateral engine], each meant to be in [-1, 1]
* result 1 = the controller's state for the next step; ``mem`` is zeros at the start.

Compiled, ``@control`` becomes the C function
``void control(const double *obs, const double *mem, double *action, double *mem_out)``
(bare-pointer calling convention, results as caller-owned out-parameters).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .ir_types import MlirContext

DIALECT_NAME = "tensorlang"
# Bumped whenever the meaning of a program may change (ops, lowering, ABI): it is part
# of every cache key that stores compiled code.
DIALECT_VERSION = "1"

CONTROL_ENTRY = "control"
# The module-level status word that a lowered ``tensorlang.assert`` writes its number to.
ASSERT_STATUS_GLOBAL = "__tensorlang_assert_status"
CONTROL_OBS_SIZE = 8
CONTROL_MEM_SIZE = 4
CONTROL_ACTION_SIZE = 2
CONTROL_SIGNATURE = (
    "func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>)"
)

# Largest tensor a program may declare, in elements. Keeps every intermediate buffer
# small enough to live on the stack of the compiled function.
MAX_TENSOR_ELEMENTS = 4096


class ShapeRule(enum.Enum):
    """How an op's result type follows from its operand types: the family an op belongs
    to, which its class in ``compiler/ops/`` implements."""

    ELEMENTWISE = "elementwise"  # operands and result share one tensor type
    CLAMP = "clamp"
    COMPARE = "compare"
    SELECT = "select"
    MATMUL = "matmul"
    MATVEC = "matvec"
    DOT = "dot"
    REDUCE = "reduce"
    SLICE = "slice"
    CONCAT = "concat"
    EXTRACT = "extract"
    BROADCAST = "broadcast"
    CONSTANT = "constant"
    ASSERT = "assert"


# tests/test_agents.py names this one rule directly.
ASSERT = ShapeRule.ASSERT

COMPARE_PREDICATES = ("lt", "le", "gt", "ge", "eq", "ne")


def tensor_type(shape: Iterable[int], element: str = "f64") -> str:
    """``tensor<2x8xf64>`` for shape (2, 8)."""
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def shape_of(type_: str) -> tuple[int, ...] | None:
    """(2, 8) for ``tensor<2x8xf64>``; None for a scalar."""
    match = re.fullmatch(r"tensor<((?:\d+x)+)(f64|i1)>", type_)
    if not match:
        return None
    return tuple(int(d) for d in match.group(1).rstrip("x").split("x"))


# IRDL constraint kinds for operands/results. "T" is one shared variable per op, so
# IRDL itself checks that all "T" operands and results have the same type.
_CONSTRAINTS = {
    "T": 'irdl.base "!builtin.tensor"',
    "tensor": 'irdl.base "!builtin.tensor"',
    "f64": "irdl.is f64",
    "any": "irdl.any",
}
_ATTRIBUTE_CONSTRAINTS = {
    "float": 'irdl.base "#builtin.float"',
    "string": 'irdl.base "#builtin.string"',
    "i64_array": 'irdl.base "#builtin.dense_array"',
    "dense": 'irdl.base "#builtin.dense_int_or_fp_elements"',
}


@dataclass(frozen=True)
class OpSpec:
    """One TensorLang operation."""

    name: str
    operands: tuple[tuple[str, str], ...]
    results: tuple[tuple[str, str], ...]
    shape_rule: ShapeRule
    summary: str
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def full_name(self) -> str:
        return f"{DIALECT_NAME}.{self.name}"


def _unary(name: str, summary: str) -> OpSpec:
    return OpSpec(name, (("x", "T"),), (("result", "T"),), ShapeRule.ELEMENTWISE, summary)


def _binary(name: str, summary: str) -> OpSpec:
    return OpSpec(
        name, (("lhs", "T"), ("rhs", "T")), (("result", "T"),), ShapeRule.ELEMENTWISE, summary
    )


OPS: tuple[OpSpec, ...] = (
    OpSpec(
        "constant",
        (),
        (("result", "tensor"),),
        ShapeRule.CONSTANT,
        "A constant tensor: {value = dense<...> : tensor<...xf64>}.",
        attributes=(("value", "dense"),),
    ),
    _binary("add", "Elementwise lhs + rhs."),
    _binary("sub", "Elementwise lhs - rhs."),
    _binary("mul", "Elementwise lhs * rhs."),
    _binary("div", "Elementwise lhs / rhs (IEEE: x/0 is inf or nan, never a trap)."),
    _binary("min", "Elementwise minimum."),
    _binary("max", "Elementwise maximum."),
    _unary("neg", "Elementwise -x."),
    _unary("abs", "Elementwise |x|."),
    _unary("tanh", "Elementwise tanh(x)."),
    _unary("exp", "Elementwise exp(x)."),
    _unary("relu", "Elementwise max(x, 0)."),
    _unary("sigmoid", "Elementwise 1 / (1 + exp(-x))."),
    OpSpec(
        "clamp",
        (("x", "T"),),
        (("result", "T"),),
        ShapeRule.CLAMP,
        "Elementwise min(max(x, lo), hi): {lo = -1.0 : f64, hi = 1.0 : f64}.",
        attributes=(("lo", "float"), ("hi", "float")),
    ),
    OpSpec(
        "cmp",
        (("lhs", "T"), ("rhs", "T")),
        (("result", "tensor"),),
        ShapeRule.COMPARE,
        'Elementwise comparison to an i1 tensor: {predicate = "lt"} '
        "(lt, le, gt, ge, eq, ne; ordered).",
        attributes=(("predicate", "string"),),
    ),
    OpSpec(
        "select",
        (("cond", "tensor"), ("on_true", "T"), ("on_false", "T")),
        (("result", "T"),),
        ShapeRule.SELECT,
        "Elementwise cond ? on_true : on_false; cond is an i1 tensor of the same shape.",
    ),
    OpSpec(
        "matmul",
        (("lhs", "tensor"), ("rhs", "tensor")),
        (("result", "tensor"),),
        ShapeRule.MATMUL,
        "Matrix product: tensor<MxK> x tensor<KxN> -> tensor<MxN>.",
    ),
    OpSpec(
        "matvec",
        (("matrix", "tensor"), ("vector", "tensor")),
        (("result", "tensor"),),
        ShapeRule.MATVEC,
        "Matrix-vector product: tensor<MxK> x tensor<K> -> tensor<M>.",
    ),
    OpSpec(
        "dot",
        (("lhs", "T"), ("rhs", "T")),
        (("result", "f64"),),
        ShapeRule.DOT,
        "Inner product of two tensor<Kxf64> -> f64.",
    ),
    OpSpec(
        "sum",
        (("x", "tensor"),),
        (("result", "f64"),),
        ShapeRule.REDUCE,
        "Sum of all elements -> f64.",
    ),
    OpSpec(
        "mean",
        (("x", "tensor"),),
        (("result", "f64"),),
        ShapeRule.REDUCE,
        "Mean of all elements -> f64.",
    ),
    OpSpec(
        "slice",
        (("x", "tensor"),),
        (("result", "tensor"),),
        ShapeRule.SLICE,
        "Static slice: {offsets = array<i64: ...>, sizes = array<i64: ...>}; "
        "the result has shape sizes.",
        attributes=(("offsets", "i64_array"), ("sizes", "i64_array")),
    ),
    # Binary because IRDL binds one constraint variable to one type across all values
    # of a variadic operand, so a variadic concat could not take different sizes.
    OpSpec(
        "concat",
        (("lhs", "tensor"), ("rhs", "tensor")),
        (("result", "tensor"),),
        ShapeRule.CONCAT,
        "Concatenation of two rank-1 tensors -> tensor<(M+N)xf64>; chain for more.",
    ),
    OpSpec(
        "extract",
        (("x", "tensor"),),
        (("result", "f64"),),
        ShapeRule.EXTRACT,
        "One element as an f64 scalar: {index = array<i64: i, ...>}.",
        attributes=(("index", "i64_array"),),
    ),
    OpSpec(
        "broadcast",
        (("x", "f64"),),
        (("result", "tensor"),),
        ShapeRule.BROADCAST,
        "A tensor filled with the scalar x.",
    ),
    OpSpec(
        "assert",
        (("cond", "any"),),
        (),
        ShapeRule.ASSERT,
        "Runtime check: every element of cond (i1 or an i1 tensor) must be true. "
        'A violation is reported with {message = "..."} and this op\'s location; '
        "execution goes on.",
        attributes=(("message", "string"),),
    ),
)

OPS_BY_NAME: dict[str, OpSpec] = {op.full_name: op for op in OPS}


def irdl_source() -> str:
    """Render the dialect as IRDL text for ``irdl.load_dialects``."""
    lines = [f"irdl.dialect @{DIALECT_NAME} {{"]
    for op in OPS:
        lines.append(f"  irdl.operation @{op.name} {{")
        shared_declared = False
        names: list[str] = []

        def constraint(kind: str, label: str) -> str:
            nonlocal shared_declared
            if kind == "T":
                if not shared_declared:
                    lines.append(f"    %T = {_CONSTRAINTS['T']}")
                    shared_declared = True
                return "%T"
            # called only within this iteration, so it sees this op's names
            var = f"%{label}_{len(names)}"  # noqa: B023
            names.append(var)  # noqa: B023
            lines.append(f"    {var} = {_CONSTRAINTS[kind]}")
            return var

        operands = [(n, constraint(k, n)) for n, k in op.operands]
        results = [(n, constraint(k, n)) for n, k in op.results]
        attrs = []
        for n, k in op.attributes:
            var = f"%attr_{n}"
            lines.append(f"    {var} = {_ATTRIBUTE_CONSTRAINTS[k]}")
            attrs.append((n, var))
        if operands:
            lines.append("    irdl.operands(" + ", ".join(f"{n}: {v}" for n, v in operands) + ")")
        if attrs:
            lines.append(
                "    irdl.attributes {" + ", ".join(f'"{n}" = {v}' for n, v in attrs) + "}"
            )
        if results:
            lines.append("    irdl.results(" + ", ".join(f"{n}: {v}" for n, v in results) + ")")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


_PYTHON_DIALECTS = "neurojit_tui.compiler.pydialects"


def load_tensorlang(context: MlirContext) -> None:
    """Register TensorLang in an MLIR context (must be called inside ``with context``)."""
    from mlir import ir
    from mlir._mlir_libs import _mlir
    from mlir.dialects import irdl

    if _PYTHON_DIALECTS not in _mlir.globals.dialect_search_modules:
        _mlir.globals.append_dialect_search_prefix(_PYTHON_DIALECTS)
    irdl.load_dialects(ir.Module.parse(irdl_source(), context=context))
