"""Hot-swap: a controller slot that native code calls through on every step.

The slot is one pointer-sized, aligned word in native memory holding the entry point of
the current ``@control`` (C ABI in dialect.py). A native loop loads it with acquire
ordering once per step and calls it; ``ControllerSlot.swap`` publishes a new entry point
with a single release store. There is no lock: a step runs wholly with the controller it
loaded, and the next step sees the new one.

The loop and the store are themselves compiled by MLIR from the LLVM-dialect module
below (trusted code of ours, not user input), once per process.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np
from mlir import ir
from numpy.typing import ArrayLike, NDArray

from ..once import once
from . import dialect as tl
from .driver import translate_to_llvm_ir
from .jit import AssertViolation
from .machine_code import FULL, machine_code

# void control(const double *obs, const double *mem, double *action, double *mem_out)
CONTROL_FUNCTION = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p
)

_RUNTIME_SYMBOLS = ("neurojit_slot_store", "neurojit_slot_load", "neurojit_run_loop")

# run_loop(slot, steps, obs, mem, action, mem_out, events, max_events, progress, stop)
#   Calls the slot's controller `steps` times (or until *stop != 0), feeding mem_out back
#   into mem after each step. Each time the loaded entry point differs from the previous
#   step's, appends {step, entry point} to `events` (at most max_events). Publishes the
#   number of completed steps in *progress. Returns the number of steps run.
_RUNTIME_IR = r"""
llvm.func @neurojit_slot_store(%slot: !llvm.ptr, %fn: !llvm.ptr) {
  llvm.store %fn, %slot atomic release {alignment = 8 : i64} : !llvm.ptr, !llvm.ptr
  llvm.return
}
llvm.func @neurojit_slot_load(%slot: !llvm.ptr) -> !llvm.ptr {
  %fn = llvm.load %slot atomic acquire {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
  llvm.return %fn : !llvm.ptr
}
llvm.func @neurojit_run_loop(%slot: !llvm.ptr, %steps: i64, %obs: !llvm.ptr, %mem: !llvm.ptr,
                             %act: !llvm.ptr, %mem_out: !llvm.ptr, %events: !llvm.ptr,
                             %max_events: i64, %progress: !llvm.ptr, %stop: !llvm.ptr) -> i64 {
  %zero = llvm.mlir.constant(0 : i64) : i64
  %one = llvm.mlir.constant(1 : i64) : i64
  %zero32 = llvm.mlir.constant(0 : i32) : i32
  %null = llvm.mlir.zero : !llvm.ptr
  %mem_bytes = llvm.mlir.constant(MEM_BYTES : i64) : i64
  llvm.br ^head(%zero, %null, %zero : i64, !llvm.ptr, i64)
^head(%i: i64, %prev: !llvm.ptr, %nev: i64):
  %done = llvm.icmp "uge" %i, %steps : i64
  llvm.cond_br %done, ^exit(%i : i64), ^check
^check:
  %s = llvm.load %stop atomic monotonic {alignment = 4 : i64} : !llvm.ptr -> i32
  %stopped = llvm.icmp "ne" %s, %zero32 : i32
  llvm.cond_br %stopped, ^exit(%i : i64), ^body
^body:
  %fn = llvm.load %slot atomic acquire {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
  llvm.call %fn(%obs, %mem, %act, %mem_out) : !llvm.ptr, (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
  "llvm.intr.memcpy"(%mem, %mem_out, %mem_bytes) <{isVolatile = false}> : (!llvm.ptr, !llvm.ptr, i64) -> ()
  %changed = llvm.icmp "ne" %fn, %prev : !llvm.ptr
  %room = llvm.icmp "ult" %nev, %max_events : i64
  %log = llvm.and %changed, %room : i1
  llvm.cond_br %log, ^record, ^next(%nev : i64)
^record:
  %two = llvm.mlir.constant(2 : i64) : i64
  %slot_index = llvm.mul %nev, %two : i64
  %step_ptr = llvm.getelementptr %events[%slot_index] : (!llvm.ptr, i64) -> !llvm.ptr, i64
  llvm.store %i, %step_ptr : i64, !llvm.ptr
  %fn_index = llvm.add %slot_index, %one : i64
  %fn_ptr = llvm.getelementptr %events[%fn_index] : (!llvm.ptr, i64) -> !llvm.ptr, i64
  %fn_int = llvm.ptrtoint %fn : !llvm.ptr to i64
  llvm.store %fn_int, %fn_ptr : i64, !llvm.ptr
  %nev1 = llvm.add %nev, %one : i64
  llvm.br ^next(%nev1 : i64)
^next(%nev2: i64):
  %i1 = llvm.add %i, %one : i64
  llvm.store %i1, %progress atomic release {alignment = 8 : i64} : i64, !llvm.ptr
  llvm.br ^head(%i1, %fn, %nev2 : i64, !llvm.ptr, i64)
^exit(%n: i64):
  llvm.return %n : i64
}
""".replace("MEM_BYTES", str(8 * tl.CONTROL_MEM_SIZE))


class Controller(Protocol):
    """What a slot runs: a compiled program (``jit.CompiledProgram``) or a stored one
    (``memory.LoadedController``)."""

    def address(self, name: str) -> int: ...

    def take_assert_violation(self) -> AssertViolation | None: ...


# run_loop's C signature (see _RUNTIME_IR): ten integers (pointers and counts) -> steps run.
_RunLoop = Callable[[int, int, int, int, int, int, int, int, int, int], int]


class _Runtime:
    """The compiled runtime functions (one per process, created on first use)."""

    def __init__(self) -> None:
        with ir.Context(), ir.Location.unknown():
            llvm_ir = translate_to_llvm_ir(ir.Module.parse(_RUNTIME_IR).operation)
        self._linked = machine_code().compile(llvm_ir, _RUNTIME_SYMBOLS, "hotswap-runtime", FULL)
        addr = self._linked.addresses
        P = ctypes.c_void_p
        self.slot_store: Callable[[int, int], None] = ctypes.CFUNCTYPE(None, P, P)(
            addr["neurojit_slot_store"]
        )
        self.slot_load: Callable[[int], int | None] = ctypes.CFUNCTYPE(P, P)(
            addr["neurojit_slot_load"]
        )
        self.run_loop: _RunLoop = ctypes.CFUNCTYPE(
            ctypes.c_int64,
            P,
            ctypes.c_int64,
            P,
            P,
            P,
            P,
            P,
            ctypes.c_int64,
            P,
            P,
        )(addr["neurojit_run_loop"])


_runtime = once(_Runtime)


class ControllerSlot:
    """Holds the controller that native loops call; swap it from any thread.

    Every program ever installed is kept alive while the slot exists, because a loop
    may still be inside the previous controller at the moment of a swap; freeing its
    code then would crash. (Programs are small: a few kB each.)
    """

    def __init__(self, program: Controller | None = None, controller_id: str = ""):
        self._runtime = _runtime()
        self._word = (ctypes.c_void_p * 1)()  # aligned, pointer-sized
        self._installed: list[Controller] = []
        self._ids: dict[int, str] = {}
        self._programs: dict[int, Controller] = {}
        if program is not None:
            self.swap(program, controller_id)

    @property
    def address(self) -> int:
        """Address of the slot word, for native code that calls through it."""
        return ctypes.addressof(self._word)

    def swap(self, program: Controller, controller_id: str = "") -> int:
        """Publish ``program``'s ``@control`` with one atomic release store; returns the
        entry-point address now in the slot."""
        entry = program.address(tl.CONTROL_ENTRY)
        self._installed.append(program)
        self._ids[entry] = controller_id or f"controller-{len(self._installed)}"
        self._programs[entry] = program
        self._runtime.slot_store(self.address, entry)
        return entry

    @property
    def current_entry(self) -> int | None:
        return self._runtime.slot_load(self.address)

    @property
    def current_id(self) -> str | None:
        entry = self.current_entry
        return None if entry is None else self._ids.get(entry)

    def id_of(self, entry: int) -> str | None:
        return self._ids.get(entry)

    def step(
        self, obs: ArrayLike, mem: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """One step through the slot from Python: returns (action, next_mem)."""
        action, mem_out, _, _ = self.step_identified(obs, mem)
        return action, mem_out

    def step_identified(
        self, obs: ArrayLike, mem: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], str, AssertViolation | None]:
        """One step through the slot; returns (action, next_mem, controller id, assert
        violation or None), all from the one controller this step loaded."""
        entry = self.current_entry
        if not entry:
            raise RuntimeError("the controller slot is empty")
        obs = np.ascontiguousarray(obs, dtype=np.float64)
        mem = np.ascontiguousarray(mem, dtype=np.float64)
        if obs.shape != (tl.CONTROL_OBS_SIZE,) or mem.shape != (tl.CONTROL_MEM_SIZE,):
            raise ValueError("obs must have 8 and mem 4 elements")
        action = np.zeros(tl.CONTROL_ACTION_SIZE)
        mem_out = np.zeros(tl.CONTROL_MEM_SIZE)
        CONTROL_FUNCTION(entry)(
            obs.ctypes.data, mem.ctypes.data, action.ctypes.data, mem_out.ctypes.data
        )
        violation = self._programs[entry].take_assert_violation()
        return action, mem_out, self._ids[entry], violation  # every installed entry has one


class NativeLoop:
    """Runs the native ``run_loop`` over a slot in a background thread (the GIL is
    released while native code runs), so a test or the UI can swap mid-run."""

    def __init__(self, slot: ControllerSlot, obs: ArrayLike, steps: int, max_events: int = 64):
        self.slot = slot
        self.steps = steps
        self.obs = np.ascontiguousarray(obs, dtype=np.float64)
        self.mem = np.zeros(tl.CONTROL_MEM_SIZE)
        self.action = np.zeros(tl.CONTROL_ACTION_SIZE)
        self.mem_out = np.zeros(tl.CONTROL_MEM_SIZE)
        self.events = np.zeros((max_events, 2), dtype=np.int64)
        self.max_events = max_events
        self._progress = ctypes.c_int64(0)
        self._stop = ctypes.c_int32(0)
        self.steps_run: int | None = None
        self._thread = threading.Thread(target=self._run, name="neurojit-native-loop", daemon=True)

    def _run(self) -> None:
        runtime = self.slot._runtime
        self.steps_run = runtime.run_loop(
            self.slot.address,
            self.steps,
            self.obs.ctypes.data,
            self.mem.ctypes.data,
            self.action.ctypes.data,
            self.mem_out.ctypes.data,
            self.events.ctypes.data,
            self.max_events,
            ctypes.addressof(self._progress),
            ctypes.addressof(self._stop),
        )

    def start(self) -> NativeLoop:
        self._thread.start()
        return self

    @property
    def progress(self) -> int:
        return self._progress.value

    def stop(self) -> None:
        self._stop.value = 1

    def join(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.steps_run

    def switches(self) -> list[tuple[int, str | None]]:
        """(step, controller id) for each step where the loop started using a new
        controller, in order."""
        count = 0
        for _step, entry in self.events:
            if entry == 0:
                break
            count += 1
        return [(int(s), self.slot.id_of(int(e))) for s, e in self.events[:count]]
