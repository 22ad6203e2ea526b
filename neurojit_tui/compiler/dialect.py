"""The TensorLang dialect: the declarations of its ops, its controller ABI and its IRDL.

Each op is one class in ``compiler/ops/`` that declares it (its ``spec``: operands,
results, attributes, shape rule, summary) and says what it does. ``OPS`` here is those
declarations in order; the IRDL text that MLIR loads (``irdl_source``) and the language
server's hover and completion are made from it. Neither this module nor
the op modules load MLIR when imported, so the language server and the registry's warm
path read the dialect without it.

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

from .ir_types import MlirContext
from .ops import ALL as _OP_CLASSES

# Declared beside the ops, and part of the dialect's vocabulary for everyone else:
from .ops.base import DIALECT_NAME as DIALECT_NAME
from .ops.base import OpSpec as OpSpec
from .ops.base import ShapeRule as ShapeRule
from .ops.base import shape_of as shape_of
from .ops.base import tensor_type as tensor_type
from .ops.comparison import ASSERT_STATUS_GLOBAL as ASSERT_STATUS_GLOBAL
from .ops.comparison import COMPARE_PREDICATES as COMPARE_PREDICATES

# Bumped whenever the meaning of a program may change (ops, lowering, ABI): it is part
# of every cache key that stores compiled code.
DIALECT_VERSION = "1"

CONTROL_ENTRY = "control"
CONTROL_OBS_SIZE = 8
CONTROL_MEM_SIZE = 4
CONTROL_ACTION_SIZE = 2
CONTROL_SIGNATURE = (
    "func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>)"
)

# Largest tensor a program may declare, in elements. Keeps every intermediate buffer
# small enough to live on the stack of the compiled function.
MAX_TENSOR_ELEMENTS = 4096


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


OPS: tuple[OpSpec, ...] = tuple(op.spec for op in _OP_CLASSES)
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
