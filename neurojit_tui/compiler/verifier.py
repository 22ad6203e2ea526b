"""Semantic checks that IRDL cannot express, emitted as MLIR diagnostics.

IRDL checks operand counts, attribute kinds and "same type" constraints while MLIR
parses. This pass adds what needs arithmetic on shapes (matmul dimensions, slice
bounds...), the controller ABI, and the safety rule: a user program may contain only
``func``, ``tensorlang`` and scalar ``arith`` operations on statically shaped values,
so a verified program cannot touch raw memory, call outside code or recurse.

Each TensorLang op's own check is its class's ``verify`` (``compiler/ops``), which
reports through this pass. Each problem is reported with ``Location.emit_error`` on the
offending op, so it carries that op's file:line:col like any MLIR diagnostic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from mlir import ir

from . import dialect as tl
from . import ops
from .ir_types import MlirOperation, MlirType, MlirValue
from .ops.types import is_bool_tensor, is_f64, is_i1, ranked_tensor, shape

# Scalar arith ops a program may use. Integer division and shifts are left out on
# purpose: they can trap or be undefined on some inputs.
ALLOWED_ARITH = frozenset(
    {
        "arith.constant",
        "arith.addf",
        "arith.subf",
        "arith.mulf",
        "arith.divf",
        "arith.negf",
        "arith.maximumf",
        "arith.minimumf",
        "arith.maxnumf",
        "arith.minnumf",
        "arith.cmpf",
        "arith.select",
        "arith.andi",
        "arith.ori",
        "arith.xori",
        "arith.uitofp",
    }
)
ALLOWED_FUNC = frozenset({"func.func", "func.return", "func.call"})


def walk(op: MlirOperation) -> Iterator[MlirOperation]:
    """Every operation nested in ``op`` (pre-order), ``op`` included."""
    op = op.operation
    yield op
    for region in op.regions:
        for block in region.blocks:
            for child in block.operations:
                yield from walk(child)


class SemanticVerifier:
    """Checks one parsed module; problems are emitted as MLIR error diagnostics."""

    def __init__(self, module_op: MlirOperation):
        self.module = module_op.operation
        self.errors = 0

    def error(self, op: MlirOperation, message: str) -> None:
        self.errors += 1
        op.location.emit_error(message)

    def run(self, require_control: bool = False) -> int:
        functions: dict[str, MlirOperation] = {}
        for op in self.module.regions[0].blocks[0].operations:
            op = op.operation
            if op.name != "func.func":
                self.error(
                    op,
                    f"'{op.name}' is not allowed at the top level of a TensorLang "
                    "program (only func.func)",
                )
                continue
            functions[ir.StringAttr(op.attributes["sym_name"]).value] = op
        for name, func in functions.items():
            self.check_function(name, func, functions)
        self.check_recursion(functions)
        if require_control and tl.CONTROL_ENTRY not in functions:
            self.error(self.module, f"a controller needs {tl.CONTROL_SIGNATURE}")
        return self.errors

    # -- functions and types -------------------------------------------------------

    def check_function(
        self, name: str, func: MlirOperation, functions: dict[str, MlirOperation]
    ) -> None:
        if len(func.regions[0].blocks) == 0:
            self.error(
                func,
                f"function @{name} has no body: external functions are not allowed in TensorLang",
            )
            return
        if len(func.regions[0].blocks) > 1:
            self.error(func, f"function @{name} must be a single block (no branches)")
        ftype = ir.FunctionType(ir.TypeAttr(func.attributes["function_type"]).value)
        for t in list(ftype.inputs) + list(ftype.results):
            if self.check_type(func, t, f"function @{name} signature") and is_bool_tensor(t):
                self.error(
                    func,
                    f"function @{name} signature: {t} is not allowed; boolean "
                    "tensors exist only between tensorlang.cmp and select/assert",
                )
        if name == tl.CONTROL_ENTRY:
            self.check_control_abi(func, ftype)
        for op in list(walk(func))[1:]:  # [0] is the function itself
            self.check_op(op, functions)

    def check_control_abi(self, func: MlirOperation, ftype: MlirType) -> None:
        want_in = [[tl.CONTROL_OBS_SIZE], [tl.CONTROL_MEM_SIZE]]
        want_out = [[tl.CONTROL_ACTION_SIZE], [tl.CONTROL_MEM_SIZE]]

        def matches(types: list[MlirType], want: list[list[int]]) -> bool:
            return len(types) == len(want) and all(
                (tensor := ranked_tensor(t)) is not None
                and is_f64(tensor.element_type)
                and shape(t) == w
                for t, w in zip(types, want)
            )

        if not (matches(list(ftype.inputs), want_in) and matches(list(ftype.results), want_out)):
            self.error(
                func,
                f"@control does not match the controller ABI: expected "
                f"{tl.CONTROL_SIGNATURE}, got {ftype}",
            )

    def check_type(self, op: MlirOperation, t: MlirType, what: str) -> bool:
        if is_f64(t) or is_i1(t):
            return True
        tensor = ranked_tensor(t)
        if tensor is None:
            self.error(
                op, f"{what}: type {t} is not allowed (use f64, i1 or a static tensor of f64/i1)"
            )
            return False
        if not tensor.has_static_shape:
            self.error(op, f"{what}: tensor type {t} must have a static shape")
            return False
        if not (is_f64(tensor.element_type) or is_i1(tensor.element_type)):
            self.error(op, f"{what}: tensor element type must be f64 or i1, got {t}")
            return False
        if tensor.encoding is not None:
            self.error(op, f"{what}: tensor encodings are not allowed ({t})")
            return False
        if not 1 <= tensor.rank <= 2:
            self.error(op, f"{what}: tensors must have rank 1 or 2, got {t}")
            return False
        elements = 1
        for s in tensor.shape:
            elements *= s
        if elements > tl.MAX_TENSOR_ELEMENTS or elements == 0:
            self.error(
                op, f"{what}: {t} has {elements} elements; allowed 1 to {tl.MAX_TENSOR_ELEMENTS}"
            )
            return False
        return True

    # -- operations -----------------------------------------------------------------

    def check_op(self, op: MlirOperation, functions: dict[str, MlirOperation]) -> None:
        name = op.name
        dialect = name.split(".", 1)[0]
        if dialect == tl.DIALECT_NAME:
            pass
        elif name in ALLOWED_FUNC:
            if name == "func.func":
                self.error(op, "nested functions are not allowed")
                return
        elif name in ALLOWED_ARITH:
            pass
        elif dialect == "arith":
            self.error(
                op,
                f"'{name}' is not allowed in TensorLang (scalar arith ops "
                "allowed: " + ", ".join(sorted(a[6:] for a in ALLOWED_ARITH)) + ")",
            )
            return
        else:
            self.error(
                op,
                f"'{name}' is not allowed in TensorLang: only func, tensorlang "
                "and scalar arith operations are accepted",
            )
            return
        types_ok = all(self.check_type(op, r.type, f"result of '{name}'") for r in op.results)
        if not types_ok:
            return
        if dialect == "arith":
            self.check_scalar_arith(op)
        elif name == "func.call":
            callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
            if callee not in functions:
                self.error(op, f"call to unknown function @{callee}")
        elif dialect == tl.DIALECT_NAME:
            ops.BY_NAME[name].verify(op, self)

    def check_scalar_arith(self, op: MlirOperation) -> None:
        for v in list(op.operands) + list(op.results):
            if not (is_f64(v.type) or is_i1(v.type)):
                self.error(
                    op,
                    f"'{op.name}' works on scalars (f64, i1) only in TensorLang; "
                    f"got {v.type} (use tensorlang ops for tensors)",
                )
                return

    def check_recursion(self, functions: dict[str, MlirOperation]) -> None:
        calls: dict[str, set[str]] = {name: set() for name in functions}
        sites: dict[tuple[str, str], MlirOperation] = {}
        for name, func in functions.items():
            for op in walk(func):
                if op.name == "func.call":
                    callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
                    calls[name].add(callee)
                    sites.setdefault((name, callee), op)
        # Depth-first search for a cycle; report it at the call that closes it.
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            state[name] = 1
            for callee in sorted(calls.get(name, ())):
                if state.get(callee) == 1:
                    cycle = " -> ".join("@" + n for n in path[path.index(callee) :] + [callee])
                    self.error(
                        sites[(name, callee)],
                        f"recursive call cycle {cycle} is not "
                        "allowed (it could overflow the stack)",
                    )
                elif callee in calls and state.get(callee) is None:
                    visit(callee, path + [callee])
            state[name] = 2

        for name in sorted(functions):
            if state.get(name) is None:
                visit(name, [name])

    # -- what the op classes (compiler/ops) check with -----------------------------------

    def require_f64_tensor(self, op: MlirOperation, value: MlirValue, what: str) -> bool:
        t = ranked_tensor(value.type)
        if t is None or not is_f64(t.element_type):
            self.error(op, f"'{op.name}' {what} must be a tensor of f64, got {value.type}")
            return False
        return True

    def require_ranks(self, op: MlirOperation, ranks: Sequence[int]) -> bool:
        """Operands then results are f64 tensors of these ranks."""
        for value, rank in zip(list(op.operands) + list(op.results), ranks):
            t = ranked_tensor(value.type)
            if t is None or t.rank != rank or not is_f64(t.element_type):
                self.error(
                    op,
                    f"'{op.name}' expects f64 tensors of rank "
                    + "/".join(str(r) for r in ranks)
                    + f"; got {value.type}",
                )
                return False
        return True

    def i64_array(self, op: MlirOperation, name: str) -> list[int] | None:
        """The i64 array attribute ``name``; IRDL only checks that it is some dense array,
        so the element type is checked here."""
        try:
            attr = op.attributes[name]
        except TypeError:  # the bindings cannot even wrap odd widths such as array<i7: 1>
            attr = None
        if not isinstance(attr, ir.DenseI64ArrayAttr):
            self.error(op, f"'{op.name}' attribute '{name}' must be array<i64: ...>")
            return None
        return list(attr)
