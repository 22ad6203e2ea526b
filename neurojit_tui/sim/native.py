"""The native swarm kernel: the physics, compiled once per process, and each
controller's block loop, compiled per controller structure.

``model.step`` is traced with ``Tracer`` (an array namespace whose values are MLIR SSA
names) into the physics kernel (``physics_kernel_source``): agents in blocks of
``BLOCK`` (their state stays in L1), and for each step a loop that writes the block's
observations into buffers, one call of the controller's block loop, and a loop that
advances the physics; both loops vectorize across agents (every branch of the model is a
``select``), and a block runs until none of its agents is active. The controller's block
loop (``control_block.control_block_ir``) is the user's ``@control`` lowered by the
compiler and called per agent of the block, where LLVM inlines and vectorizes it. The
kernel returns the number of the first ``tensorlang.assert`` that failed (0 if none); a
failure stops the run at the end of the current step.

Compiling a new structure is only its block loop: at the quick tier, so it flies at
once, then at -O3 on a background thread (``NativeSwarm``). Before, the controller was
fused into one kernel with the physics, and every structure paid LLVM's -O3 on all of
it (docs/benchmarks.md).

Threads call the kernel on disjoint chunks of agents; ctypes releases the GIL.
"""

from __future__ import annotations

import atexit
import ctypes
import queue
import struct
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mlir import ir, passmanager

from ..compiler import dialect as tl
from ..compiler.dialect import ASSERT_STATUS_GLOBAL
from ..compiler.driver import Compiler, translate_to_llvm_ir
from ..compiler.machine_code import FULL, QUICK, machine_code
from ..once import once
from . import model
from .control_block import (
    BLOCK,
    CONTROL_BLOCK,
    CONTROL_BUFFERS,
    compile_control_block,
    lower_control_block,
)
from .reference import RunResult, agent_numbers

KERNEL = "neurojit_swarm"
CHUNK = 1024  # agents per kernel call: the unit of work a thread takes, and of time-outs
# The smallest chunk a run splits into to keep every thread busy: a kernel call
# vectorizes across its agents, so much smaller calls would pay more for the call
# than they gain in parallelism.
MIN_CHUNK = 64
# Work items per thread that a run aims for, so threads that finish early find more.
ITEMS_PER_THREAD = 2


def chunk_size(rows: int, agents: int, threads: int) -> int:
    """Agents per kernel call when ``rows`` candidates of ``agents`` landers each are
    shared by ``threads`` threads: ``CHUNK``, unless that leaves threads idle (few
    candidates, few agents, many cores), then smaller, down to ``MIN_CHUNK``. A
    multiple of ``MIN_CHUNK``. Outcomes do not depend on it: each lander's weather
    comes from its own number."""
    wanted = ITEMS_PER_THREAD * threads
    if rows * -(-agents // CHUNK) >= wanted:
        return CHUNK
    per_row = -(-wanted // max(1, rows))  # chunks each candidate's agents should make
    size = -(-agents // per_row)
    return min(CHUNK, max(MIN_CHUNK, -(-size // MIN_CHUNK) * MIN_CHUNK))


class SwarmTimeout(Exception):
    """The run went past its time budget."""


# Lowering of the kernel's own (trusted) ops; the controller arrives already lowered.
_KERNEL_PIPELINE = (
    "builtin.module(convert-scf-to-cf,convert-math-to-llvm,"
    "convert-arith-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
    "reconcile-unrealized-casts)"
)


# -- tracing model.step into MLIR ----------------------------------------------------------


class Value:
    """One SSA value of a traced body; operators emit operations into the tracer."""

    __slots__ = ("tracer", "name", "type")

    def __init__(self, tracer: ScalarTracer, name: str, type_: str):
        self.tracer, self.name, self.type = tracer, name, type_

    def _binary(self, other, kind: str, reverse: bool = False):
        t = self.tracer
        other = t.lift(other, self.type)
        lhs, rhs = (other, self) if reverse else (self, other)
        return t.binary(kind, lhs, rhs)

    def __add__(self, o):
        return self._binary(o, "add")

    def __radd__(self, o):
        return self._binary(o, "add", reverse=True)

    def __sub__(self, o):
        return self._binary(o, "sub")

    def __rsub__(self, o):
        return self._binary(o, "sub", reverse=True)

    def __mul__(self, o):
        return self._binary(o, "mul")

    def __rmul__(self, o):
        return self._binary(o, "mul", reverse=True)

    def __truediv__(self, o):
        return self._binary(o, "div")

    def __rtruediv__(self, o):
        return self._binary(o, "div", reverse=True)

    def __xor__(self, o):
        return self._binary(o, "xor")

    def __rshift__(self, o):
        return self._binary(o, "shr")

    def __and__(self, o):
        return self._binary(o, "and")

    def __or__(self, o):
        return self._binary(o, "or")

    def __neg__(self):
        return self.tracer.negate(self)

    # Ordered comparisons: false when NaN is involved, like numpy's.
    def __lt__(self, o):
        return self.tracer.compare("lt", self, self.tracer.lift(o, "f64"))

    def __le__(self, o):
        return self.tracer.compare("le", self, self.tracer.lift(o, "f64"))

    def __gt__(self, o):
        return self.tracer.compare("gt", self, self.tracer.lift(o, "f64"))

    def __ge__(self, o):
        return self.tracer.compare("ge", self, self.tracer.lift(o, "f64"))


class ScalarTracer:
    """The array namespace of ``model.py`` that writes code instead of computing: one
    scalar per agent, as straight-line code. What the model means is written here once
    (``sin``/``cos`` included); a subclass says how each primitive is spelled
    (``Tracer``: MLIR for the native kernel; ``c_reference.CTracer``: C for gcc)."""

    def __init__(self):
        self.lines: list[str] = []
        self._count = 0
        self._constants: dict[tuple[str, object], Value] = {}
        self._sincos_cache: dict[str, tuple[Value, Value]] = {}

    def constant(self, value, type_: str) -> Value:
        key = (type_, struct.pack("<d", value) if type_ == "f64" else value)
        if key not in self._constants:
            self._constants[key] = self.literal(value, type_)
        return self._constants[key]

    def lift(self, value, type_: str) -> Value:
        if isinstance(value, Value):
            return value
        return self.constant(float(value) if type_ == "f64" else int(value), type_)

    # Primitives, spelled by the subclass
    def literal(self, value, type_: str) -> Value:
        raise NotImplementedError

    def binary(self, kind: str, lhs: Value, rhs: Value) -> Value:
        raise NotImplementedError

    def negate(self, a: Value) -> Value:
        raise NotImplementedError

    def compare(self, predicate: str, a: Value, b: Value) -> Value:
        raise NotImplementedError

    def select(self, condition: Value, a: Value, b: Value) -> Value:
        raise NotImplementedError

    def extremum(self, kind: str, a: Value, b: Value) -> Value:
        raise NotImplementedError

    def math(self, op: str, a: Value) -> Value:
        raise NotImplementedError

    def to_signed_int(self, a: Value) -> Value:
        raise NotImplementedError

    def int_equals(self, a: Value, b: Value) -> Value:
        raise NotImplementedError

    def to_float(self, value) -> Value:
        raise NotImplementedError

    # The namespace
    def where(self, condition, a, b):
        return self.select(condition, self.lift(a, "f64"), self.lift(b, "f64"))

    def minimum(self, a, b):
        return self.extremum("minimum", self.lift(a, "f64"), self.lift(b, "f64"))

    def maximum(self, a, b):
        return self.extremum("maximum", self.lift(a, "f64"), self.lift(b, "f64"))

    def abs(self, a):
        return self.math("absf", a)

    def sqrt(self, a):
        return self.math("sqrt", a)

    def sin(self, a):
        return self._sincos(a)[0]

    def cos(self, a):
        return self._sincos(a)[1]

    def u64(self, value):
        return self.lift(value, "i64")

    def _sincos(self, x):
        """sin and cos of ``x`` in straight-line arithmetic, so the compiler can
        vectorize them (a call to libm's sin would keep the agent loop scalar: measured
        2.3x slower).

        fdlibm's method: reduce by pi/2 (Cody-Waite, two-part constant) to |r| <= pi/4,
        then its minimax polynomials; within 1 ulp of libm for the angles a lander
        reaches (the trajectory test holds the two implementations to 1e-9)."""
        if x.name in self._sincos_cache:
            return self._sincos_cache[x.name]
        n = self.math("roundeven", x * 6.36619772367581382433e-01)
        r = (x - n * 1.57079632673412561417e00) - n * 6.07710050650619224932e-11
        z = r * r
        w = z * z
        sin_r = r + (z * r) * (
            -1.66666666666666324348e-01
            + z
            * (
                8.33333333332248946124e-03
                + z
                * (
                    -1.98412698298579493134e-04
                    + z
                    * (
                        2.75573137070700676789e-06
                        + z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)
                    )
                )
            )
        )
        poly = z * (
            4.16666666666666019037e-02
            + z * (-1.38888888888741095749e-03 + z * 2.48015872894767294178e-05)
        ) + (w * w) * (
            -2.75573143513906633035e-07
            + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11)
        )
        half_z = 0.5 * z
        one_minus = 1.0 - half_z
        cos_r = one_minus + (((1.0 - one_minus) - half_z) + z * poly)
        quadrant = self.to_signed_int(n) & 3
        is_q = [self.int_equals(quadrant, self.lift(q, "i64")) for q in (1, 2, 3)]
        minus_sin, minus_cos = -sin_r, -cos_r
        sin_x = self.where(
            is_q[0], cos_r, self.where(is_q[1], minus_sin, self.where(is_q[2], minus_cos, sin_r))
        )
        cos_x = self.where(
            is_q[0], minus_sin, self.where(is_q[1], minus_cos, self.where(is_q[2], sin_r, cos_r))
        )
        self._sincos_cache[x.name] = (sin_x, cos_x)
        return sin_x, cos_x


_MLIR_BINARY = {
    "add": ("arith.addf", "arith.addi"),
    "sub": ("arith.subf", None),
    "mul": ("arith.mulf", "arith.muli"),
    "div": ("arith.divf", None),
    "xor": (None, "arith.xori"),
    "shr": (None, "arith.shrui"),
    "and": (None, "arith.andi"),
    "or": (None, "arith.ori"),
}


class Tracer(ScalarTracer):
    """``model.py``'s namespace writing MLIR (func/arith/math/llvm) for the kernels."""

    def fresh(self) -> str:
        self._count += 1
        return f"%v{self._count}"

    def emit(self, op_text: str, type_: str) -> Value:
        name = self.fresh()
        self.lines.append(f"{name} = {op_text}")
        return Value(self, name, type_)

    def literal(self, value, type_: str) -> Value:
        if type_ == "f64":
            bits = struct.unpack("<Q", struct.pack("<d", float(value)))[0]
            literal = f"0x{bits:016X}"
        else:  # i64 holds the unsigned value's bit pattern
            literal = str(value - (1 << 64) if value >= (1 << 63) else value)
        return self.emit(f"arith.constant {literal} : {type_}", type_)

    def binary(self, kind, lhs, rhs):
        float_op, int_op = _MLIR_BINARY[kind]
        op = float_op if lhs.type == "f64" else int_op
        return self.emit(f"{op} {lhs.name}, {rhs.name} : {lhs.type}", lhs.type)

    def negate(self, a):
        return self.emit(f"arith.negf {a.name} : f64", "f64")

    def compare(self, predicate, a, b):
        return self.emit(f"arith.cmpf o{predicate}, {a.name}, {b.name} : f64", "i1")

    def select(self, condition, a, b):
        return self.emit(f"arith.select {condition.name}, {a.name}, {b.name} : f64", "f64")

    def extremum(self, kind, a, b):
        return self.emit(f"arith.{kind}f {a.name}, {b.name} : f64", "f64")

    def math(self, op, a):
        return self.emit(f"math.{op} {a.name} : f64", "f64")

    def to_signed_int(self, a):
        return self.emit(f"arith.fptosi {a.name} : f64 to i64", "i64")

    def int_equals(self, a, b):
        return self.emit(f"arith.cmpi eq, {a.name}, {b.name} : i64", "i1")

    def to_float(self, value):
        return self.emit(f"arith.uitofp {value.name} : i64 to f64", "f64")

    # Memory and the controller call
    def load(self, base: str, index: str) -> Value:
        pointer = self.emit(
            f"llvm.getelementptr {base}[{index}] : (!llvm.ptr, i64) -> !llvm.ptr, f64", "ptr"
        )
        return self.emit(f"llvm.load {pointer.name} : !llvm.ptr -> f64", "f64")

    def store(self, value, base: str, index: str) -> None:
        value = self.lift(value, "f64")
        pointer = self.emit(
            f"llvm.getelementptr {base}[{index}] : (!llvm.ptr, i64) -> !llvm.ptr, f64", "ptr"
        )
        self.lines.append(f"llvm.store {value.name}, {pointer.name} : f64, !llvm.ptr")

    def index(self, base: str, offset: int) -> str:
        """``base + offset`` as an i64 SSA name."""
        return self.binary("add", Value(self, base, "i64"), self.lift(offset, "i64")).name


class _ObservationTaken(Exception):
    """Stops tracing ``model.step`` at its controller call (see ``physics_kernel_source``)."""


def physics_kernel_source() -> str:
    """The physics kernel as MLIR text (func/scf/arith/math/llvm); one per process.

        i32 neurojit_swarm(f64 *state[20 fields]..., const f64 *params[5]..., i64 n,
                           i64 first_agent, i64 seed, const f64 *constants,
                           control_block, const f64 *theta, i32 *assert_status)

    For every block of ``BLOCK`` agents and every step: a loop writes each agent's
    observation and controller state into the block's buffers, one call of
    ``control_block`` (the controller's own compiled loop, ``control_block_ir``) turns
    them into actions and new controller states for the whole block, and a second loop
    advances the physics. The controller is not part of this kernel, so a new
    controller structure compiles only its small loop (fast kernel compiles), while
    both loops still run as whole vectors."""
    observe = Tracer()

    def take_observation(obs, mem):
        for k, v in enumerate(obs):
            observe.store(v, "%obs", observe.index("%j", k * BLOCK))
        for k, v in enumerate(mem):
            observe.store(v, "%mem", observe.index("%j", k * BLOCK))
        raise _ObservationTaken

    state = {f: observe.load(f"%s_{f}", "%i") for f in model.STATE_FIELDS}
    try:
        model.step(observe, state, {}, {}, None, None, None, take_observation)
    except _ObservationTaken:
        pass

    body = Tracer()

    def control_outputs(obs, mem):
        read = lambda buffer, k: body.load(buffer, body.index("%j", k * BLOCK))
        return (
            [read("%act", k) for k in range(tl.CONTROL_ACTION_SIZE)],
            [read("%mem_out", k) for k in range(tl.CONTROL_MEM_SIZE)],
        )

    state = {f: body.load(f"%s_{f}", "%i") for f in model.STATE_FIELDS}
    params = {f: body.load(f"%p_{f}", "%i") for f in model.PARAM_FIELDS}
    new = model.step(
        body,
        state,
        params,
        {k: Value(body, f"%k_{k}", "f64") for k in model.RUNTIME_CONSTANTS},
        Value(body, "%seed", "i64"),
        Value(body, "%agent", "i64"),
        Value(body, "%t", "i64"),
        control_outputs,
    )
    for f in model.STATE_FIELDS:
        body.store(new[f], f"%s_{f}", "%i")
    still_active = new["done"] < 0.5
    active = body.emit(f"arith.select {still_active.name}, %c1, %c0 : i64", "i64")

    arguments = (
        [f"%s_{f}: !llvm.ptr {{llvm.noalias}}" for f in model.STATE_FIELDS]
        + [f"%p_{f}: !llvm.ptr {{llvm.noalias}}" for f in model.PARAM_FIELDS]
        + [
            "%n: i64",
            "%first: i64",
            "%seed: i64",
            "%kp: !llvm.ptr {llvm.noalias}",
            "%control_block: !llvm.ptr",
            "%theta: !llvm.ptr",
            "%status: !llvm.ptr",
        ]
    )
    constants = "\n".join(
        f"    %kptr_{k} = llvm.getelementptr %kp[{i}] : (!llvm.ptr) -> !llvm.ptr, f64\n"
        f"    %k_{k} = llvm.load %kptr_{k} : !llvm.ptr -> f64"
        for i, k in enumerate(model.RUNTIME_CONSTANTS)
    )
    buffers = "\n".join(
        f"    %n_{name} = arith.constant {size * BLOCK} : i64\n"
        f"    %{name} = llvm.alloca %n_{name} x f64 {{alignment = 64 : i64}} : (i64) -> !llvm.ptr"
        for name, size in CONTROL_BUFFERS
    )
    indent = "          "
    pointer_types = ", ".join(["!llvm.ptr"] * 5)
    return f"""
module {{
  func.func @{KERNEL}({", ".join(arguments)}) -> i32 {{
    %c0 = arith.constant 0 : i64
    %c1 = arith.constant 1 : i64
    %cblock = arith.constant {BLOCK} : i64
    %ok32 = arith.constant 0 : i32
{buffers}
{constants}
    %max_steps = arith.fptosi %k_max_steps : f64 to i64
    scf.for %b = %c0 to %n step %cblock : i64 {{
      %b_end = arith.addi %b, %cblock : i64
      %e = arith.minsi %b_end, %n : i64
      %block_agents = arith.subi %e, %b : i64
      %r:2 = scf.while (%t0 = %c0, %live0 = %c1) : (i64, i64) -> (i64, i64) {{
        %st = llvm.load %status : !llvm.ptr -> i32
        %no_failure = arith.cmpi eq, %st, %ok32 : i32
        %in_time = arith.cmpi slt, %t0, %max_steps : i64
        %any_live = arith.cmpi sgt, %live0, %c0 : i64
        %go1 = arith.andi %no_failure, %in_time : i1
        %go = arith.andi %go1, %any_live : i1
        scf.condition(%go) %t0, %live0 : i64, i64
      }} do {{
      ^bb0(%t: i64, %live: i64):
        scf.for %i = %b to %e step %c1 : i64 {{
          %j = arith.subi %i, %b : i64
{indent}{(chr(10) + indent).join(observe.lines)}
        }}
        llvm.call %control_block(%obs, %mem, %theta, %act, %mem_out, %block_agents) : !llvm.ptr, ({pointer_types}, i64) -> ()
        %count = scf.for %i = %b to %e step %c1 iter_args(%acc = %c0) -> (i64) : i64 {{
          %j = arith.subi %i, %b : i64
          %agent = arith.addi %first, %i : i64
{indent}{(chr(10) + indent).join(body.lines)}
          %acc1 = arith.addi %acc, {active.name} : i64
          scf.yield %acc1 : i64
        }}
        %t1 = arith.addi %t, %c1 : i64
        scf.yield %t1, %count : i64, i64
      }}
    }}
    %final = llvm.load %status : !llvm.ptr -> i32
    return %final : i32
  }}
}}
"""


class PhysicsKernel:
    """The physics kernel, compiled once per process (``physics_kernel()``) at LLVM's
    full O3: every controller of every structure runs through it."""

    def __init__(self):
        t0 = time.perf_counter()
        with ir.Context(), ir.Location.unknown():
            module = ir.Module.parse(physics_kernel_source())
            passmanager.PassManager.parse(_KERNEL_PIPELINE).run(module.operation)
            llvm_ir = translate_to_llvm_ir(module.operation)
        self._linked = machine_code().compile(llvm_ir, [KERNEL], "swarm-physics", FULL)
        self.object_bytes = self._linked.object_bytes
        P = ctypes.c_void_p
        fields = len(model.STATE_FIELDS) + len(model.PARAM_FIELDS)
        self.function = ctypes.CFUNCTYPE(
            ctypes.c_int32,
            *([P] * fields),
            ctypes.c_int64,
            ctypes.c_int64,
            ctypes.c_int64,
            P,
            P,
            P,
            P,
        )(self._linked.addresses[KERNEL])
        self.compile_seconds = time.perf_counter() - t0


_compile_thread_lock = threading.Lock()

# The -O3 tier of every NativeSwarm is compiled on one daemon thread, in order; a swarm
# dropped before its turn is skipped (the queue holds it weakly).
_compile_queue: queue.SimpleQueue[tuple[weakref.ref, str]] = queue.SimpleQueue()
_compile_thread: threading.Thread | None = None


def _background_compile(swarm: NativeSwarm, block_ir: str) -> None:
    global _compile_thread
    with _compile_thread_lock:
        if _compile_thread is None:
            _compile_thread = threading.Thread(
                target=_compile_worker, daemon=True, name="neurojit-kernel-O3"
            )
            _compile_thread.start()
            atexit.register(_stop_compile_worker)
    _compile_queue.put((weakref.ref(swarm), block_ir))


def _compile_worker() -> None:
    while True:
        job = _compile_queue.get()
        if job is None:
            return
        swarm = job[0]()
        if swarm is not None:
            try:
                swarm._install_full_tier(job[1])
            except Exception as error:  # a compiler bug: the quick tier keeps flying
                swarm.full_tier_error = error
            del swarm


def _stop_compile_worker() -> None:
    """At exit: drop the compiles not started and let the one under way finish, so LLVM
    is not in the middle of one while the process tears down."""
    while True:
        try:
            _compile_queue.get_nowait()
        except queue.Empty:
            break
    _compile_queue.put(None)
    if _compile_thread is not None:
        _compile_thread.join(timeout=10)


physics_kernel = once(PhysicsKernel)


# -- compiling and running ------------------------------------------------------------------


@dataclass
class ControllerCode:
    """One compiled tier of a controller's block loop, and its assert status word."""

    linked: object  # machine_code.LinkedCode: holding it keeps the code loaded
    tier: str

    def __post_init__(self):
        self.control_block = self.linked.addresses[CONTROL_BLOCK]
        self.status_address = self.linked.addresses[ASSERT_STATUS_GLOBAL]
        self.status = ctypes.c_int32.from_address(self.status_address)


class NativeSwarm:
    """A controller compiled for the swarm: its block loop, run by the physics kernel.

    Tiered: with ``tier=FULL`` (the default) the block loop is compiled at the quick tier
    first, so the swarm can fly at once, and again at LLVM's -O3 on a background thread;
    a run that starts after that finished uses the -O3 code (``wait_for_full_tier``
    waits for it). Both tiers compute the same IEEE operations, so results do not
    depend on which one flew."""

    def __init__(
        self,
        text: str,
        path: str,
        compiler: Compiler | None = None,
        tier: str = FULL,
        parametric: bool = False,
    ):
        """``parametric``: the program's tunable numbers become a per-candidate
        parameter vector (``parameters`` says which); ``run_population`` then flies many
        candidates of this structure in one call. ``compile_seconds`` is the time until
        this controller can fly; the physics kernel is compiled on a process's first
        swarm (``physics_compile_seconds`` says how long that took)."""
        compiler = compiler or Compiler()
        t0 = time.perf_counter()
        block_ir, lowered = lower_control_block(compiler, text, path, parametric)
        self._code = ControllerCode(compile_control_block(block_ir, path, QUICK), QUICK)
        self.parameters = lowered.parameters
        self.compile_seconds = time.perf_counter() - t0
        self.asserts = {a.number: a for a in lowered.asserts}
        self.path = path
        self._full_tier = threading.Event()
        self.full_compile_seconds: float | None = None
        self.full_tier_error: Exception | None = None
        if tier == QUICK:
            self._full_tier.set()
        else:
            _background_compile(self, block_ir)
        self._physics = physics_kernel()
        self.physics_compile_seconds = self._physics.compile_seconds

    def _install_full_tier(self, block_ir: str) -> None:
        """The background half of the compile (runs on the compile thread)."""
        try:
            t0 = time.perf_counter()
            code = ControllerCode(compile_control_block(block_ir, self.path, FULL), FULL)
            self.full_compile_seconds = time.perf_counter() - t0
            self._code = code  # one reference store: the next run takes it
        finally:
            self._full_tier.set()

    def wait_for_full_tier(self, timeout_s: float | None = None) -> NativeSwarm:
        """Wait until the -O3 code is in (benchmarks measure that code)."""
        self._full_tier.wait(timeout_s)
        return self

    @property
    def tier(self) -> str:
        """The tier that the next run flies."""
        return self._code.tier

    @property
    def object_bytes(self) -> bytes | None:
        """The controller's block loop, at the tier the next run flies."""
        return self._code.linked.object_bytes

    def _launch(
        self, code, pointers, count: int, first: int, seed: int, constants: int, theta: int | None
    ) -> int:
        """One kernel call on ``count`` agents from ``first``; returns the assert status."""
        return self._physics.function(
            *pointers, count, first, seed, constants, code.control_block, theta, code.status_address
        )

    def dump_object(self, path: str) -> None:
        """The swarm kernel's object file: the physics kernel (``neurojit_swarm``), whose
        loops are the agent loops; ``dump_controller_object`` writes the block loop."""
        Path(path).write_bytes(self._physics.object_bytes)

    def dump_controller_object(self, path: str) -> None:
        Path(path).write_bytes(self.object_bytes)

    def run(
        self,
        env: model.Environment,
        agents: int,
        seed: int,
        max_steps: int = model.MAX_STEPS,
        threads: int = 1,
        timeout_s: float | None = None,
        theta=None,
        first_agent: int = 0,
    ) -> RunResult:
        """Simulate ``agents`` landers on ``threads`` threads: agents ``first_agent``,
        ``first_agent + 1``... of ``seed`` (a cluster worker flies its slice of a swarm).

        Agents go out in chunks (``chunk_size``: at most ``CHUNK``) to whichever thread
        is free; with a ``timeout_s`` no chunk starts after the deadline and
        ``SwarmTimeout`` is raised (a chunk is bounded: at most CHUNK agents x max_steps
        steps).
        """
        start = time.perf_counter()
        deadline = None if timeout_s is None else start + timeout_s
        params, state = model.start(env, seed, agent_numbers(agents, first_agent))
        arrays = [np.ascontiguousarray(state[f], dtype=np.float64) for f in model.STATE_FIELDS]
        arrays += [np.ascontiguousarray(params[f], dtype=np.float64) for f in model.PARAM_FIELDS]
        constants = np.array(list(model.runtime_constants(env, max_steps).values()))
        code = self._code  # one tier for the whole run
        code.status.value = 0
        late = []
        chunk = chunk_size(1, agents, threads)

        def run_chunk(first: int) -> int:
            if deadline is not None and time.perf_counter() > deadline:
                late.append(first)
                return 0
            count = min(chunk, agents - first)
            pointers = [a.ctypes.data + 8 * first for a in arrays]
            return self._launch(
                code,
                pointers,
                count,
                first_agent + first,
                seed,
                constants.ctypes.data,
                theta_pointer,
            )

        if self.parameters is not None:
            theta = np.ascontiguousarray(
                self.parameters.initial if theta is None else theta, dtype=np.float64
            )
            theta_pointer = theta.ctypes.data
        else:
            theta_pointer = None

        chunks = range(0, agents, chunk)
        threads = max(1, min(threads, len(chunks)))
        if threads == 1:
            statuses = [run_chunk(first) for first in chunks]
        else:
            with ThreadPoolExecutor(threads, thread_name_prefix="neurojit-swarm") as pool:
                statuses = list(pool.map(run_chunk, chunks))
        if late:
            raise SwarmTimeout(
                f"timed out: the swarm run took longer than {timeout_s:g} s "
                f"({len(late)} of {len(chunks)} chunks not run)"
            )
        number = next((s for s in statuses if s), 0)
        result = RunResult(dict(zip(model.STATE_FIELDS, arrays)))
        if number:
            result.assert_failure = self.asserts[number].violation()
        result.seconds = time.perf_counter() - start
        return result

    def run_population(
        self,
        env: model.Environment,
        thetas,
        agents: int,
        seed: int,
        max_steps: int = model.MAX_STEPS,
        threads: int = 1,
        timeout_s: float | None = None,
        first_agent: int = 0,
    ) -> PopulationRun:
        """Fly ``agents`` landers for every row of ``thetas`` (P x K parameter vectors)
        with this parametric kernel, in one pass over (candidate, chunk of agents) work
        items shared by ``threads`` threads.

        Every candidate meets the same weather: agent i of each candidate is agent i of
        ``seed`` (common random numbers), so candidates are compared like with like and
        candidate c's outcomes equal a ``run`` with ``theta=thetas[c]``.
        """
        if self.parameters is None:
            raise ValueError("run_population needs a kernel built with parametric=True")
        thetas = np.ascontiguousarray(np.atleast_2d(thetas), dtype=np.float64)
        candidates = thetas.shape[0]
        if thetas.shape[1] != max(1, len(self.parameters)):
            raise ValueError(
                f"thetas have {thetas.shape[1]} columns; the program has "
                f"{len(self.parameters)} parameters"
            )
        start = time.perf_counter()
        deadline = None if timeout_s is None else start + timeout_s
        params, state = _start_state(env, seed, agents, first_agent)
        arrays = [np.tile(state[f], candidates) for f in model.STATE_FIELDS]
        param_arrays = [params[f] for f in model.PARAM_FIELDS]
        constants = np.array(list(model.runtime_constants(env, max_steps).values()))
        chunk = chunk_size(candidates, agents, threads)
        work = [(c, first) for c in range(candidates) for first in range(0, agents, chunk)]
        late = []

        def run_item(item) -> int:
            c, first = item
            if deadline is not None and time.perf_counter() > deadline:
                late.append(item)
                return 0
            count = min(chunk, agents - first)
            offset = 8 * (c * agents + first)
            pointers = [a.ctypes.data + offset for a in arrays] + [
                a.ctypes.data + 8 * first for a in param_arrays
            ]
            return self._launch(
                code,
                pointers,
                count,
                first_agent + first,
                seed,
                constants.ctypes.data,
                thetas[c].ctypes.data,
            )

        code = self._code  # one tier for the whole run
        code.status.value = 0
        threads = max(1, min(threads, len(work)))
        if threads == 1:
            statuses = [run_item(item) for item in work]
        else:
            with ThreadPoolExecutor(threads, thread_name_prefix="neurojit-population") as pool:
                statuses = list(pool.map(run_item, work))
        if late:
            raise SwarmTimeout(
                f"timed out: the population run took longer than {timeout_s:g} s "
                f"({len(late)} of {len(work)} work items not run)"
            )
        failures: dict[int, object] = {}
        if any(statuses):
            # The assert status word is shared by every thread, and a failure stops the
            # other candidates' blocks too: fly each candidate alone to say whose it was.
            for c in range(candidates):
                alone = self.run(
                    env,
                    agents,
                    seed,
                    max_steps,
                    threads=threads,
                    theta=thetas[c],
                    first_agent=first_agent,
                )
                for f, column in zip(model.STATE_FIELDS, arrays):
                    column[c * agents : (c + 1) * agents] = alone.state[f]
                if alone.assert_failure is not None:
                    failures[c] = alone.assert_failure
        state_out = {f: a.reshape(candidates, agents) for f, a in zip(model.STATE_FIELDS, arrays)}
        return PopulationRun(state_out, failures, time.perf_counter() - start)


@dataclass
class PopulationRun:
    """Final states of a population run: each field is a (candidates x agents) array."""

    state: dict
    assert_failures: dict  # candidate index -> AssertViolation
    seconds: float

    @property
    def agent_steps(self) -> int:
        return int(self.state["steps"].sum())


_START_CACHE: dict = {}


def _start_state(
    env: model.Environment, seed: int, agents: int, first_agent: int = 0
) -> tuple[dict, dict]:
    """``model.start`` for agents first_agent.., kept for the last few (env, seed,
    agents, first_agent): a search flies the same training landers many times."""
    key = (env, seed, agents, first_agent)
    if key not in _START_CACHE:
        if len(_START_CACHE) >= 8:
            _START_CACHE.pop(next(iter(_START_CACHE)))
        params, state = model.start(env, seed, agent_numbers(agents, first_agent))
        _START_CACHE[key] = (
            {f: np.ascontiguousarray(params[f], dtype=np.float64) for f in model.PARAM_FIELDS},
            {f: np.ascontiguousarray(state[f], dtype=np.float64) for f in model.STATE_FIELDS},
        )
    return _START_CACHE[key]
