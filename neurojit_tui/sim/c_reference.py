"""The swarm in C, compiled by the machine's gcc at -O3: the limit the native kernel is
measured against (``neurojit bench swarm``'s reference column).

Nothing here is ported by hand. The physics is ``model.step`` traced by ``CTracer``, the
same namespace-driven tracing that writes the native kernel's MLIR (``native.py``), so
the C does exactly the IEEE operations of ``model.py`` in its order, sin/cos through the
same polynomial. The controller is emitted as C from the verified TensorLang module, op
by op: each TensorLang op writes its own C (its class's ``emit_c`` in ``compiler/ops``,
with its numpy ``reference``'s meaning), the scalar ``arith`` ops are written here. gcc has to
see the controller's code to inline it into the agent loop and vectorize both, as LLVM
does with ``@control``; a call to a separately compiled controller (its LLVM object
linked in) would keep gcc's loop scalar and measure the call, not the code.

The C kernel has the native kernel's signature and loop structure (blocks of ``BLOCK``
agents, all steps of a block before the next), so ``NativeSwarm.run`` drives it on the
same agents, seeds, chunks and threads. gcc flags: ``-O3 -march=native``, no fast-math
(nothing that changes a result): ``-std=c11 -ffp-contract=off`` keeps a*b+c as two
roundings (GNU C would contract it to an FMA, which MLIR's arith ops do not);
``-fno-math-errno`` because MLIR's ``math.sqrt`` sets no errno either (with errno, gcc
keeps a scalar call to sqrt for the error path); ``-fno-trapping-math`` is LLVM's own
default (floating-point exception flags are not observed): with trapping math, gcc
will not if-convert a comparison it has sunk into a branch, and the loop stays scalar;
``--param=max-tree-if-conversion-phi-args=8`` lets gcc if-convert the join of sin/cos's
four quadrants (it makes one PHI of them; its default limit is 4 arguments). With these,
gcc vectorizes the agent loop as LLVM does (``-fopt-info-vec`` says so).
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from mlir import ir

from ..compiler import dialect as tl
from ..compiler import ops
from ..compiler.diagnostics import location_parts
from ..compiler.driver import CompileError, Compiler
from ..compiler.jit import AssertSite
from ..compiler.ops.types import float_attribute, string_attribute
from . import model
from .native import BLOCK, NativeSwarm, ScalarTracer, Value

C_KERNEL = "neurojit_c_swarm"
GCC_FLAGS = (
    "-O3",
    "-march=native",
    "-std=c11",
    "-ffp-contract=off",
    "-fno-math-errno",
    "-fno-trapping-math",
    "--param=max-tree-if-conversion-phi-args=8",
    "-fPIC",
    "-shared",
)

# An i1 is a 64-bit mask (0 or all ones), not a C int: gcc 12 gives up vectorizing the
# agent loop at an and/or of two comparisons whose boolean types it cannot unify under
# AVX-512; as masks as wide as the doubles they select, they are plain integer lanes.
_C_TYPES = {"f64": "double", "i64": "uint64_t", "i1": "uint64_t"}
_C_BINARY = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "xor": "^",
    "shr": ">>",
    "and": "&",
    "or": "|",
}
_C_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "=="}
# roundeven as rint: the same function in the default rounding mode (to nearest, ties to
# even), which nothing here changes; gcc 12 vectorizes rint but not roundeven.
_C_MATH = {
    "absf": "__builtin_fabs",
    "sqrt": "__builtin_sqrt",
    "roundeven": "__builtin_rint",
    "tanh": "tanh",
    "exp": "exp",
}

# MLIR's arith.minimumf/maximumf (IEEE 754-2019 minimum/maximum): NaN propagates and
# -0 < +0. C's fmin/fmax and a plain a < b ? a : b mean something else on those inputs,
# so the C computes what the native kernel computes (``CTracer.extremum`` writes the
# cheaper exact form when one side is a known number). Every
# arm is computed unconditionally and then selected, and | is used for "or": gcc
# (trapping math, as without fast-math) does not if-convert a conditionally evaluated
# floating-point operation, and control flow keeps the agent loop from vectorizing.
_PRELUDE = r"""
#include <math.h>
#include <stdint.h>

static inline double nj_minimum(double a, double b) {
    const double smaller = a < b ? a : b;
    const double zeros = -((-a) + (-b));
    const double equal = a == 0.0 ? zeros : a;
    const double nan = a + b;
    const double m = a == b ? equal : smaller;
    return ((a != a) | (b != b)) ? nan : m;
}

static inline double nj_maximum(double a, double b) {
    const double larger = a > b ? a : b;
    const double zeros = a + b;
    const double equal = a == 0.0 ? zeros : a;
    const double m = a == b ? equal : larger;
    return ((a != a) | (b != b)) ? zeros : m;
}

int32_t neurojit_c_assert_status = 0;
"""


class CTracer(ScalarTracer):
    """``model.py``'s namespace writing C statements (one ``const`` local per value)."""

    def __init__(self):
        super().__init__()
        self._known: dict[str, float] = {}  # the f64 literals, by name

    def fresh(self) -> str:
        self._count += 1
        return f"v{self._count}"

    def emit(self, expression: str, type_: str) -> Value:
        name = self.fresh()
        self.lines.append(f"const {_C_TYPES[type_]} {name} = {expression};")
        return Value(self, name, type_)

    def literal(self, value, type_: str) -> Value:
        if type_ == "f64":
            literal = self.emit(float(value).hex(), "f64")  # exact: C99 hexadecimal floats
            self._known[literal.name] = float(value)
            return literal
        return self.emit(f"UINT64_C({value % (1 << 64)})", type_)

    def binary(self, kind, lhs, rhs):
        return self.emit(f"{lhs.name} {_C_BINARY[kind]} {rhs.name}", lhs.type)

    def negate(self, a):
        return self.emit(f"-{a.name}", "f64")

    def compare(self, predicate, a, b):
        if predicate == "ne":  # MLIR's "one": ordered, so false when either is NaN
            return self.emit(f"-(uint64_t)(({a.name} < {b.name}) | ({a.name} > {b.name}))", "i1")
        return self.emit(f"-(uint64_t)({a.name} {_C_COMPARE[predicate]} {b.name})", "i1")

    def select(self, condition, a, b):
        return self.emit(f"{condition.name} ? {a.name} : {b.name}", a.type)

    def extremum(self, kind, a, b):
        """minimum/maximum, exactly; against a known number, as one comparison and one
        select (what LLVM makes of llvm.minimum with a constant: the general form
        costs several selects, and the clamps of the model and the controllers are
        all against constants)."""
        if a.name in self._known and b.name not in self._known:
            a, b = b, a
        bound = self._known.get(b.name)
        if bound is None or bound != bound:
            return self.emit(f"nj_{kind}({a.name}, {b.name})", "f64")
        # Take the bound when x is beyond it; an ordered comparison is false for a NaN x,
        # which is kept. Against a zero the comparison also orders -0 below +0.
        zero = "" if bound != 0.0 else "-0" if math.copysign(1.0, bound) < 0 else "+0"
        beyond = {
            ("minimum", ""): ">",
            ("minimum", "+0"): ">",
            ("minimum", "-0"): ">=",
            ("maximum", ""): "<",
            ("maximum", "+0"): "<=",
            ("maximum", "-0"): "<",
        }
        return self.emit(f"{a.name} {beyond[kind, zero]} {b.name} ? {b.name} : {a.name}", "f64")

    def math(self, op, a):
        return self.emit(f"{_C_MATH[op]}({a.name})", "f64")

    def to_signed_int(self, a):
        return self.emit(f"(uint64_t)(int64_t){a.name}", "i64")

    def int_equals(self, a, b):
        return self.emit(f"-(uint64_t)({a.name} == {b.name})", "i1")

    def to_float(self, value):
        return self.emit(f"(double){value.name}", "f64")

    def load(self, array: str, index: str) -> Value:
        return self.emit(f"{array}[{index}]", "f64")

    def store(self, value, array: str, index: str) -> None:
        self.lines.append(f"{array}[{index}] = {self.lift(value, 'f64').name};")


_ARITH_BINARY = {"addf": "add", "subf": "sub", "mulf": "mul", "divf": "div"}
_ARITH_EXTREMUM = {"minimumf": "minimum", "maximumf": "maximum"}


class ControllerEmitter:
    """Writes a verified module's ``@control`` into a ``CTracer`` as straight-line C,
    each tensor as its elements (row-major): a TensorLang op by its class's ``emit_c``
    (the ``CEmitter`` it is handed is this), a scalar ``arith`` op here. Calls to the
    module's other functions are inlined."""

    def __init__(self, module_op, tracer: CTracer, path: str):
        self.c = tracer
        self.path = path
        self.functions = {}
        for op in module_op.regions[0].blocks[0].operations:
            op = op.operation
            if op.name == "func.func":
                self.functions[string_attribute(op, "sym_name")] = op
        self.asserts: list[AssertSite] = []  # numbered 1, 2, ... in program order

    def control(self, obs: list, mem: list) -> tuple[list, list]:
        action, mem_out = self.call(tl.CONTROL_ENTRY, [obs, mem])
        return action, mem_out

    def call(self, name: str, arguments: list) -> list:
        block = self.functions[name].regions[0].blocks[0]
        values = dict(zip(block.arguments, arguments))
        for op in block.operations:
            op = op.operation
            ins = [values[v] for v in op.operands]
            if op.name == "func.return":
                return ins
            if op.name == "func.call":
                results = self.call(ir.FlatSymbolRefAttr(op.attributes["callee"]).value, ins)
            else:
                results = [self.op(op, ins)]
            for result, value in zip(op.results, results):
                values[result] = value
        raise ValueError(f"@{name} has no return")

    def op(self, op, ins):
        tensorlang = ops.BY_NAME.get(op.name)
        if tensorlang is not None:
            return tensorlang.emit_c(op, ins, self)
        return self.arith(op, ins)

    def assert_holds(self, op, holds: list) -> None:
        """``CEmitter.assert_holds``: asserts are numbered 1, 2, ... in program order."""
        number = len(self.asserts) + 1
        file, line, col = location_parts(op.location, self.path)
        self.asserts.append(AssertSite(number, string_attribute(op, "message"), file, line, col))
        for h in holds:  # a bit per assert: the lowest failed one is reported
            self.c.lines.append(f"assert_failed |= (~{h.name} & 1) << {min(number, 64) - 1};")

    def arith(self, op, ins):
        """A scalar ``arith`` op (what a program writes with them, and what a lowered
        ``func.call``'s callee may hold)."""
        c, name = self.c, op.name.split(".", 1)[1]
        if name == "negf":
            return c.negate(ins[0])
        if name in _ARITH_BINARY:
            return c.binary(_ARITH_BINARY[name], *ins)
        if name in _ARITH_EXTREMUM:
            return c.extremum(_ARITH_EXTREMUM[name], *ins)
        if name in ("maxnumf", "minnumf"):  # NaN-ignoring, as C's fmax/fmin
            return c.emit(f"__builtin_f{name[:3]}({ins[0].name}, {ins[1].name})", "f64")
        if name == "constant":
            return c.lift(float(float_attribute(op, "value")), "f64")
        if name == "cmpf":
            predicate = {1: "eq", 2: "gt", 3: "ge", 4: "lt", 5: "le", 6: "ne"}[
                ir.IntegerAttr(op.attributes["predicate"]).value
            ]
            return c.compare(predicate, *ins)
        if name == "select":
            return c.select(*ins)
        if name in ("andi", "ori", "xori"):
            return c.binary(name[:-1] if name != "andi" else "and", *ins)
        if name == "uitofp":  # an i1 to 0.0 or 1.0
            return c.emit(f"(double)({ins[0].name} & 1)", "f64")
        raise NotImplementedError(f"no C for {op.name}")


def c_kernel_source(module_op, path: str) -> tuple[str, list[AssertSite]]:
    """The C kernel for a verified module (the native kernel's signature and loops),
    and the asserts it numbers."""
    body = CTracer()
    controller = ControllerEmitter(module_op, body, path)
    state = {f: body.load(f"s_{f}", "i") for f in model.STATE_FIELDS}
    params = {f: body.load(f"p_{f}", "i") for f in model.PARAM_FIELDS}
    new = model.step(
        body,
        state,
        params,
        {k: Value(body, f"k_{k}", "f64") for k in model.RUNTIME_CONSTANTS},
        Value(body, "seed64", "i64"),
        Value(body, "agent", "i64"),
        Value(body, "t64", "i64"),
        controller.control,
    )
    for f in model.STATE_FIELDS:
        body.store(new[f], f"s_{f}", "i")
    still_active = new["done"] < 0.5
    arguments = (
        [f"double *restrict s_{f}" for f in model.STATE_FIELDS]
        + [f"const double *restrict p_{f}" for f in model.PARAM_FIELDS]
        + ["int64_t n", "int64_t first", "int64_t seed", "const double *restrict kp"]
    )
    constants = "\n".join(
        f"    const double k_{k} = kp[{i}];" for i, k in enumerate(model.RUNTIME_CONSTANTS)
    )
    indent = "            "
    return (
        f"""{_PRELUDE}
int32_t {C_KERNEL}({", ".join(arguments)}) {{
{constants}
    const int64_t max_steps = (int64_t)k_max_steps;
    const uint64_t seed64 = (uint64_t)seed;
    for (int64_t b = 0; b < n; b += {BLOCK}) {{
        const int64_t e = b + {BLOCK} < n ? b + {BLOCK} : n;
        int64_t live = 1;
        for (int64_t t = 0; neurojit_c_assert_status == 0 && t < max_steps && live > 0; ++t) {{
            const uint64_t t64 = (uint64_t)t;
            int64_t count = 0;
            uint64_t assert_failed = 0;
            for (int64_t i = b; i < e; ++i) {{
                const uint64_t agent = (uint64_t)(first + i);
{indent}{(chr(10) + indent).join(body.lines)}
                count += {still_active.name} & 1;
            }}
            live = count;
            if (assert_failed && neurojit_c_assert_status == 0)
                neurojit_c_assert_status = __builtin_ctzll(assert_failed) + 1;
        }}
    }}
    return neurojit_c_assert_status;
}}
""",
        controller.asserts,
    )


def gcc_version(gcc: str = "gcc") -> str:
    return subprocess.run(
        [gcc, "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]


class CReferenceSwarm(NativeSwarm):
    """A controller and the physics in C, compiled by gcc; flies like a ``NativeSwarm``
    (``run``), so the two run on the same agents, seeds, chunks and threads."""

    def __init__(
        self,
        text: str,
        path: str,
        compiler: Compiler | None = None,
        gcc: str = "gcc",
        flags=GCC_FLAGS,
    ):
        compiler = compiler or Compiler()
        if shutil.which(gcc) is None:
            raise FileNotFoundError(f"{gcc}: not found; the C reference needs a C compiler")
        t0 = time.perf_counter()
        module, diagnostics = compiler.parse(text, path, require_control=True)
        if module is None:
            raise CompileError(diagnostics)
        with compiler.context, ir.Location.unknown():
            self.source, asserts = c_kernel_source(module, path)
        digest = hashlib.sha256((self.source + " ".join(flags)).encode()).hexdigest()[:16]
        self._folder = tempfile.TemporaryDirectory(prefix="neurojit-c-")
        source = Path(self._folder.name) / f"swarm-{digest}.c"
        library = source.with_suffix(".so")
        source.write_text(self.source)
        subprocess.run(
            [gcc, *flags, str(source), "-o", str(library), "-lm"],
            check=True,
            capture_output=True,
            text=True,
        )
        self._library = ctypes.CDLL(str(library))
        P = ctypes.c_void_p
        fields = len(model.STATE_FIELDS) + len(model.PARAM_FIELDS)
        self._kernel = getattr(self._library, C_KERNEL)
        self._kernel.restype = ctypes.c_int32
        self._kernel.argtypes = [P] * fields + [ctypes.c_int64] * 3 + [P]
        self._code = SimpleNamespace(
            status=ctypes.c_int32.in_dll(self._library, "neurojit_c_assert_status"), tier="gcc"
        )
        self.parameters = None
        self.asserts = {a.number: a for a in asserts}
        self.path = path
        self.flags = tuple(flags)
        self.compile_seconds = time.perf_counter() - t0

    def _launch(self, code, pointers, count, first, seed, constants, theta):
        return self._kernel(*pointers, count, first, seed, constants)
