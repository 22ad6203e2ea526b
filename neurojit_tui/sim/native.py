"""The native swarm kernel: controller and physics fused into one JIT-compiled function.

``model.step`` is traced once with ``Tracer`` (an array namespace whose values are MLIR
SSA names) into the body of a loop over agents. The kernel

    i32 neurojit_swarm(f64 *state[20 fields]..., const f64 *params[5]..., i64 n,
                       i64 first_agent, i64 seed, const f64 *constants)

runs every agent of a slice to the end of its episode in one call: agents in blocks of
``BLOCK`` (their state stays in L1), for each step an inner loop over the block's agents
that LLVM vectorizes (every branch of the model is a ``select``), until no agent of the
block is active. The controller is the user's ``@control`` lowered by the compiler into
the same LLVM module, where LLVM inlines it into the loop. The return value is the
number of the first ``tensorlang.assert`` that failed (0 if none); a failure stops the
run at the end of the current step.

Threads call the kernel on disjoint chunks of agents; ctypes releases the GIL.
"""

from __future__ import annotations

import ctypes
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mlir import ir, passmanager

from ..compiler import dialect as tl
from ..compiler.driver import Compiler, translate_to_llvm_ir
from ..compiler.machine_code import FULL, machine_code
from ..compiler.dialect import ASSERT_STATUS_GLOBAL
from . import model
from .reference import RunResult, agent_numbers

KERNEL = "neurojit_swarm"
BLOCK = 64  # agents per block: 20 fields x 64 x 8 bytes = 10 KiB of state, in L1
CHUNK = 1024  # agents per kernel call: the unit of work a thread takes, and of time-outs


class SwarmTimeout(Exception):
    """The run went past its time budget."""

# Lowering of the kernel's own (trusted) ops; the controller arrives already lowered.
_KERNEL_PIPELINE = ("builtin.module(convert-scf-to-cf,convert-math-to-llvm,"
                    "convert-arith-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
                    "reconcile-unrealized-casts)")


# -- tracing model.step into MLIR ----------------------------------------------------------

class Value:
    """One SSA value of the kernel body; operators emit ops into the tracer."""

    __slots__ = ("tracer", "name", "type")

    def __init__(self, tracer: "Tracer", name: str, type_: str):
        self.tracer, self.name, self.type = tracer, name, type_

    def _binary(self, other, float_op, int_op=None, reverse=False):
        t = self.tracer
        other = t.lift(other, self.type)
        lhs, rhs = (other, self) if reverse else (self, other)
        op = float_op if self.type == "f64" else int_op
        return t.emit(f"{op} {lhs.name}, {rhs.name} : {self.type}", self.type)

    def __add__(self, o): return self._binary(o, "arith.addf", "arith.addi")
    def __radd__(self, o): return self._binary(o, "arith.addf", "arith.addi", reverse=True)
    def __sub__(self, o): return self._binary(o, "arith.subf")
    def __rsub__(self, o): return self._binary(o, "arith.subf", reverse=True)
    def __mul__(self, o): return self._binary(o, "arith.mulf", "arith.muli")
    def __rmul__(self, o): return self._binary(o, "arith.mulf", "arith.muli", reverse=True)
    def __truediv__(self, o): return self._binary(o, "arith.divf")
    def __rtruediv__(self, o): return self._binary(o, "arith.divf", reverse=True)
    def __xor__(self, o): return self._binary(o, None, "arith.xori")
    def __rshift__(self, o): return self._binary(o, None, "arith.shrui")
    def __and__(self, o): return self._binary(o, None, "arith.andi")
    def __or__(self, o): return self._binary(o, None, "arith.ori")

    def __neg__(self):
        return self.tracer.emit(f"arith.negf {self.name} : f64", "f64")

    def _compare(self, other, predicate):
        other = self.tracer.lift(other, "f64")
        return self.tracer.emit(f"arith.cmpf {predicate}, {self.name}, {other.name} : f64", "i1")

    # Ordered comparisons: false when NaN is involved, like numpy's.
    def __lt__(self, o): return self._compare(o, "olt")
    def __le__(self, o): return self._compare(o, "ole")
    def __gt__(self, o): return self._compare(o, "ogt")
    def __ge__(self, o): return self._compare(o, "oge")


class Tracer:
    """The array namespace of ``model.py`` that writes MLIR instead of computing."""

    def __init__(self):
        self.lines: list[str] = []
        self._count = 0
        self._constants: dict[tuple[str, object], Value] = {}
        self._sincos_cache: dict[str, tuple[Value, Value]] = {}

    def fresh(self) -> str:
        self._count += 1
        return f"%v{self._count}"

    def emit(self, op_text: str, type_: str) -> Value:
        name = self.fresh()
        self.lines.append(f"{name} = {op_text}")
        return Value(self, name, type_)

    def constant(self, value, type_: str) -> Value:
        key = (type_, struct.pack("<d", value) if type_ == "f64" else value)
        if key not in self._constants:
            if type_ == "f64":
                literal = "0x%016X" % struct.unpack("<Q", struct.pack("<d", float(value)))[0]
            else:  # i64 holds the unsigned value's bit pattern
                literal = str(value - (1 << 64) if value >= (1 << 63) else value)
            self._constants[key] = self.emit(f"arith.constant {literal} : {type_}", type_)
        return self._constants[key]

    def lift(self, value, type_: str) -> Value:
        if isinstance(value, Value):
            return value
        return self.constant(float(value) if type_ == "f64" else int(value), type_)

    # The namespace
    def where(self, condition, a, b):
        a, b = self.lift(a, "f64"), self.lift(b, "f64")
        return self.emit(f"arith.select {condition.name}, {a.name}, {b.name} : f64", "f64")

    def minimum(self, a, b):
        a, b = self.lift(a, "f64"), self.lift(b, "f64")
        return self.emit(f"arith.minimumf {a.name}, {b.name} : f64", "f64")

    def maximum(self, a, b):
        a, b = self.lift(a, "f64"), self.lift(b, "f64")
        return self.emit(f"arith.maximumf {a.name}, {b.name} : f64", "f64")

    def _math(self, op: str, a):
        return self.emit(f"math.{op} {a.name} : f64", "f64")

    def abs(self, a): return self._math("absf", a)
    def sqrt(self, a): return self._math("sqrt", a)
    def sin(self, a): return self._sincos(a)[0]
    def cos(self, a): return self._sincos(a)[1]

    def _sincos(self, x):
        """sin and cos of ``x`` in straight-line arithmetic, so LLVM can vectorize them
        (a call to libm's sin would keep the agent loop scalar: measured 2.3x slower).

        fdlibm's method: reduce by pi/2 (Cody-Waite, two-part constant) to |r| <= pi/4,
        then its minimax polynomials; within 1 ulp of libm for the angles a lander
        reaches (the trajectory test holds the two implementations to 1e-9)."""
        if x.name in self._sincos_cache:
            return self._sincos_cache[x.name]
        n = self._math("roundeven", x * 6.36619772367581382433e-01)
        r = (x - n * 1.57079632673412561417e+00) - n * 6.07710050650619224932e-11
        z = r * r
        w = z * z
        sin_r = r + (z * r) * (-1.66666666666666324348e-01 + z * (
            8.33333333332248946124e-03 + z * (-1.98412698298579493134e-04 + z * (
                2.75573137070700676789e-06 + z * (-2.50507602534068634195e-08
                                                  + z * 1.58969099521155010221e-10)))))
        poly = (z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03
                                                      + z * 2.48015872894767294178e-05))
                + (w * w) * (-2.75573143513906633035e-07 + z * (
                    2.08757232129817482790e-09 + z * -1.13596475577881948265e-11)))
        half_z = 0.5 * z
        one_minus = 1.0 - half_z
        cos_r = one_minus + (((1.0 - one_minus) - half_z) + z * poly)
        quadrant = self.emit(f"arith.fptosi {n.name} : f64 to i64", "i64") & 3
        is_q = [self.emit(f"arith.cmpi eq, {quadrant.name}, {self.lift(q, 'i64').name} : i64", "i1")
                for q in (1, 2, 3)]
        minus_sin, minus_cos = -sin_r, -cos_r
        sin_x = self.where(is_q[0], cos_r, self.where(is_q[1], minus_sin,
                                                      self.where(is_q[2], minus_cos, sin_r)))
        cos_x = self.where(is_q[0], minus_sin, self.where(is_q[1], minus_cos,
                                                          self.where(is_q[2], sin_r, cos_r)))
        self._sincos_cache[x.name] = (sin_x, cos_x)
        return sin_x, cos_x

    def u64(self, value):
        return self.lift(value, "i64")

    def to_float(self, value):
        return self.emit(f"arith.uitofp {value.name} : i64 to f64", "f64")

    # Memory and the controller call
    def load(self, base: str, index: str) -> Value:
        pointer = self.emit(f"llvm.getelementptr {base}[{index}] : (!llvm.ptr, i64) -> !llvm.ptr, f64", "ptr")
        return self.emit(f"llvm.load {pointer.name} : !llvm.ptr -> f64", "f64")

    def store(self, value, base: str, index: str) -> None:
        value = self.lift(value, "f64")
        pointer = self.emit(f"llvm.getelementptr {base}[{index}] : (!llvm.ptr, i64) -> !llvm.ptr, f64", "ptr")
        self.lines.append(f"llvm.store {value.name}, {pointer.name} : f64, !llvm.ptr")

    def element(self, base: str, k: int) -> str:
        return self.emit(f"llvm.getelementptr {base}[{k}] : (!llvm.ptr) -> !llvm.ptr, f64", "ptr").name

    def call_controller(self, obs, mem, parametric: bool = False):
        for k, v in enumerate(obs):
            self.lines.append(f"llvm.store {self.lift(v, 'f64').name}, {self.element('%obs', k)} : f64, !llvm.ptr")
        for k, v in enumerate(mem):
            self.lines.append(f"llvm.store {v.name}, {self.element('%mem', k)} : f64, !llvm.ptr")
        arguments = ["%obs", "%mem"] + (["%theta"] if parametric else []) + ["%act", "%mem_out"]
        self.lines.append(f"llvm.call @{tl.CONTROL_ENTRY}({', '.join(arguments)}) : "
                          f"({', '.join(['!llvm.ptr'] * len(arguments))}) -> ()")
        read = lambda base, k: self.emit(f"llvm.load {self.element(base, k)} : !llvm.ptr -> f64", "f64")
        return ([read("%act", k) for k in range(tl.CONTROL_ACTION_SIZE)],
                [read("%mem_out", k) for k in range(tl.CONTROL_MEM_SIZE)])


def kernel_source(parametric: bool = False) -> str:
    """The kernel as MLIR text (func/scf/arith/math/llvm), calling ``@control``.

    ``parametric``: the controller takes a parameter vector (``compiler.parametric``);
    the kernel gets one more argument, the candidate's ``theta``, and passes it on."""
    body = Tracer()
    control = (lambda obs, mem: body.call_controller(obs, mem, parametric))
    state = {f: body.load(f"%s_{f}", "%i") for f in model.STATE_FIELDS}
    params = {f: body.load(f"%p_{f}", "%i") for f in model.PARAM_FIELDS}
    agent = Value(body, "%agent", "i64")
    new = model.step(body, state, params, {k: Value(body, f"%k_{k}", "f64") for k in model.RUNTIME_CONSTANTS},
                     Value(body, "%seed", "i64"), agent, Value(body, "%t", "i64"), control)
    for f in model.STATE_FIELDS:
        body.store(new[f], f"%s_{f}", "%i")
    still_active = new["done"] < 0.5
    active = body.emit(f"arith.select {still_active.name}, %c1, %c0 : i64", "i64")

    arguments = ([f"%s_{f}: !llvm.ptr {{llvm.noalias}}" for f in model.STATE_FIELDS]
                 + [f"%p_{f}: !llvm.ptr {{llvm.noalias}}" for f in model.PARAM_FIELDS]
                 + ["%n: i64", "%first: i64", "%seed: i64", "%kp: !llvm.ptr {llvm.noalias}"]
                 + (["%theta: !llvm.ptr {llvm.noalias}"] if parametric else []))
    constants = "\n".join(
        f"    %kptr_{k} = llvm.getelementptr %kp[{i}] : (!llvm.ptr) -> !llvm.ptr, f64\n"
        f"    %k_{k} = llvm.load %kptr_{k} : !llvm.ptr -> f64"
        for i, k in enumerate(model.RUNTIME_CONSTANTS))
    indent = "          "
    return f"""
module {{
  llvm.func @{tl.CONTROL_ENTRY}({", ".join(["!llvm.ptr"] * (5 if parametric else 4))})
  llvm.mlir.global external @{ASSERT_STATUS_GLOBAL}() {{addr_space = 0 : i32}} : i32
  func.func @{KERNEL}({", ".join(arguments)}) -> i32 {{
    %c0 = arith.constant 0 : i64
    %c1 = arith.constant 1 : i64
    %cblock = arith.constant {BLOCK} : i64
    %ok32 = arith.constant 0 : i32
    %n_obs = arith.constant {tl.CONTROL_OBS_SIZE} : i64
    %n_mem = arith.constant {tl.CONTROL_MEM_SIZE} : i64
    %n_act = arith.constant {tl.CONTROL_ACTION_SIZE} : i64
    %obs = llvm.alloca %n_obs x f64 : (i64) -> !llvm.ptr
    %mem = llvm.alloca %n_mem x f64 : (i64) -> !llvm.ptr
    %act = llvm.alloca %n_act x f64 : (i64) -> !llvm.ptr
    %mem_out = llvm.alloca %n_mem x f64 : (i64) -> !llvm.ptr
    %status = llvm.mlir.addressof @{ASSERT_STATUS_GLOBAL} : !llvm.ptr
{constants}
    %max_steps = arith.fptosi %k_max_steps : f64 to i64
    scf.for %b = %c0 to %n step %cblock : i64 {{
      %b_end = arith.addi %b, %cblock : i64
      %e = arith.minsi %b_end, %n : i64
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
        %count = scf.for %i = %b to %e step %c1 iter_args(%acc = %c0) -> (i64) : i64 {{
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


# -- compiling and running ------------------------------------------------------------------

class NativeSwarm:
    """A controller fused with the physics into one compiled kernel."""

    def __init__(self, text: str, path: str, compiler: Compiler | None = None,
                 tier: str = FULL, parametric: bool = False):
        """``parametric``: the program's tunable numbers become a per-candidate
        parameter vector (``parameters`` says which); ``run_population`` then flies many
        candidates of this structure in one call."""
        compiler = compiler or Compiler()
        t0 = time.perf_counter()
        lowered = compiler.lower(text, path, require_control=True, parametric=parametric)
        self.parameters = lowered.parameters
        context = compiler.context
        with context, ir.Location.unknown():
            kernel = ir.Module.parse(kernel_source(parametric))
            passmanager.PassManager.parse(_KERNEL_PIPELINE).run(kernel.operation)
            target = lowered.module.regions[0].blocks[0]
            for op in list(kernel.body.operations):
                op = op.operation
                declaration = (op.name == "llvm.func" and len(op.regions[0].blocks) == 0) or (
                    op.name == "llvm.mlir.global")
                if not declaration:
                    target.append(op)
            llvm_ir = translate_to_llvm_ir(lowered.module)
        # The kernel runs for the whole swarm: worth LLVM's full O3.
        self._linked = machine_code().compile(llvm_ir, [KERNEL, ASSERT_STATUS_GLOBAL],
                                              f"swarm-{Path(path).stem}", tier)
        self.object_bytes = self._linked.object_bytes
        address = self._linked.addresses[KERNEL]
        status_address = self._linked.addresses[ASSERT_STATUS_GLOBAL]
        P = ctypes.c_void_p
        fields = len(model.STATE_FIELDS) + len(model.PARAM_FIELDS)
        self._kernel = ctypes.CFUNCTYPE(ctypes.c_int32, *([P] * fields), ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_int64, P,
                                        *([P] if parametric else []))(address)
        self._status = ctypes.c_int32.from_address(status_address)
        self.asserts = {a.number: a for a in lowered.asserts}
        self.path = path
        self.compile_seconds = time.perf_counter() - t0

    def dump_object(self, path: str) -> None:
        Path(path).write_bytes(self.object_bytes)

    def run(self, env: model.Environment, agents: int, seed: int,
            max_steps: int = model.MAX_STEPS, threads: int = 1,
            timeout_s: float | None = None, theta=None, first_agent: int = 0) -> RunResult:
        """Simulate ``agents`` landers on ``threads`` threads: agents ``first_agent``,
        ``first_agent + 1``... of ``seed`` (a cluster worker flies its slice of a swarm).

        Agents go out in chunks of ``CHUNK`` to whichever thread is free; with a
        ``timeout_s`` no chunk starts after the deadline and ``SwarmTimeout`` is raised
        (a chunk is bounded: at most CHUNK agents x max_steps steps).
        """
        start = time.perf_counter()
        deadline = None if timeout_s is None else start + timeout_s
        params, state = model.start(env, seed, agent_numbers(agents, first_agent))
        arrays = [np.ascontiguousarray(state[f], dtype=np.float64) for f in model.STATE_FIELDS]
        arrays += [np.ascontiguousarray(params[f], dtype=np.float64) for f in model.PARAM_FIELDS]
        constants = np.array(list(model.runtime_constants(env, max_steps).values()))
        self._status.value = 0
        late = []

        def run_chunk(first: int) -> int:
            if deadline is not None and time.perf_counter() > deadline:
                late.append(first)
                return 0
            count = min(CHUNK, agents - first)
            pointers = [a.ctypes.data + 8 * first for a in arrays]
            return self._kernel(*pointers, count, first_agent + first, seed, constants.ctypes.data,
                                *extra)

        if self.parameters is not None:
            theta = np.ascontiguousarray(self.parameters.initial if theta is None else theta,
                                         dtype=np.float64)
            extra = [theta.ctypes.data]
        else:
            extra = []

        chunks = range(0, agents, CHUNK)
        threads = max(1, min(threads, len(chunks)))
        if threads == 1:
            statuses = [run_chunk(first) for first in chunks]
        else:
            with ThreadPoolExecutor(threads, thread_name_prefix="neurojit-swarm") as pool:
                statuses = list(pool.map(run_chunk, chunks))
        if late:
            raise SwarmTimeout(f"timed out: the swarm run took longer than {timeout_s:g} s "
                               f"({len(late)} of {len(chunks)} chunks not run)")
        number = next((s for s in statuses if s), 0)
        result = RunResult(dict(zip(model.STATE_FIELDS, arrays)))
        if number:
            result.assert_failure = self.asserts[number].violation()
        result.seconds = time.perf_counter() - start
        return result

    def run_population(self, env: model.Environment, thetas, agents: int, seed: int,
                       max_steps: int = model.MAX_STEPS, threads: int = 1,
                       timeout_s: float | None = None, first_agent: int = 0) -> "PopulationRun":
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
            raise ValueError(f"thetas have {thetas.shape[1]} columns; the program has "
                             f"{len(self.parameters)} parameters")
        start = time.perf_counter()
        deadline = None if timeout_s is None else start + timeout_s
        params, state = _start_state(env, seed, agents, first_agent)
        arrays = [np.tile(state[f], candidates) for f in model.STATE_FIELDS]
        param_arrays = [params[f] for f in model.PARAM_FIELDS]
        constants = np.array(list(model.runtime_constants(env, max_steps).values()))
        work = [(c, first) for c in range(candidates) for first in range(0, agents, CHUNK)]
        late = []

        def run_item(item) -> int:
            c, first = item
            if deadline is not None and time.perf_counter() > deadline:
                late.append(item)
                return 0
            count = min(CHUNK, agents - first)
            offset = 8 * (c * agents + first)
            pointers = ([a.ctypes.data + offset for a in arrays]
                        + [a.ctypes.data + 8 * first for a in param_arrays])
            return self._kernel(*pointers, count, first_agent + first, seed, constants.ctypes.data,
                                thetas[c].ctypes.data)

        self._status.value = 0
        threads = max(1, min(threads, len(work)))
        if threads == 1:
            statuses = [run_item(item) for item in work]
        else:
            with ThreadPoolExecutor(threads, thread_name_prefix="neurojit-population") as pool:
                statuses = list(pool.map(run_item, work))
        if late:
            raise SwarmTimeout(f"timed out: the population run took longer than {timeout_s:g} s "
                               f"({len(late)} of {len(work)} work items not run)")
        failures: dict[int, object] = {}
        if any(statuses):
            # The assert status word is shared by every thread, and a failure stops the
            # other candidates' blocks too: fly each candidate alone to say whose it was.
            for c in range(candidates):
                alone = self.run(env, agents, seed, max_steps, threads=threads, theta=thetas[c],
                                 first_agent=first_agent)
                for f, column in zip(model.STATE_FIELDS, arrays):
                    column[c * agents:(c + 1) * agents] = alone.state[f]
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


def _start_state(env: model.Environment, seed: int, agents: int,
                 first_agent: int = 0) -> tuple[dict, dict]:
    """``model.start`` for agents first_agent.., kept for the last few (env, seed,
    agents, first_agent): a search flies the same training landers many times."""
    key = (env, seed, agents, first_agent)
    if key not in _START_CACHE:
        if len(_START_CACHE) >= 8:
            _START_CACHE.pop(next(iter(_START_CACHE)))
        params, state = model.start(env, seed, agent_numbers(agents, first_agent))
        _START_CACHE[key] = ({f: np.ascontiguousarray(params[f], dtype=np.float64)
                              for f in model.PARAM_FIELDS},
                             {f: np.ascontiguousarray(state[f], dtype=np.float64)
                              for f in model.STATE_FIELDS})
    return _START_CACHE[key]
