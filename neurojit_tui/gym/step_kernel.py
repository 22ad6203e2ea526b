"""One step of every lander in a batch, as native code: the vector environment's engine.

The swarm kernel (``sim.native``) runs whole episodes with a compiled controller inside;
a Gymnasium agent instead chooses each action from outside, one step at a time. This
kernel is ``model.step`` traced by the same ``Tracer`` into a loop over the batch, with
the actions read from an array where the swarm kernel calls ``@control``:

    void neurojit_gym_step(f64 *state[20 fields]..., const f64 *params[5]...,
                           const i64 *seeds, const f64 *actions /* n x 2 */, i64 n,
                           const f64 *constants)

Each lander has its own noise seed (its episode's) and is agent 0 of it, so a lander in
the batch meets exactly the weather of the single environment reset to that episode.
The step number that drives the noise is the lander's own ``steps``. Landers already done
keep their state (``model.step``'s rule), so a finished sub-environment costs nothing
until it is reset.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from ..sim import model

KERNEL = "neurojit_gym_step"
_compiled = None
_compile_lock = threading.Lock()


def kernel_source() -> str:
    """The kernel as MLIR text (func/scf/arith/math/llvm)."""
    from ..sim.native import Tracer

    body = Tracer()
    state = {f: body.load(f"%s_{f}", "%i") for f in model.STATE_FIELDS}
    params = {f: body.load(f"%p_{f}", "%i") for f in model.PARAM_FIELDS}
    seed_pointer = body.emit(
        "llvm.getelementptr %seeds[%i] : (!llvm.ptr, i64) -> !llvm.ptr, i64", "ptr"
    )
    seed = body.emit(f"llvm.load {seed_pointer.name} : !llvm.ptr -> i64", "i64")
    step_number = body.emit(f"arith.fptoui {state['steps'].name} : f64 to i64", "i64")
    action = [body.load("%actions", "%main_index"), body.load("%actions", "%side_index")]

    def control(obs, mem):
        return action, mem  # the agent's action; the controller state is not used

    constants = {
        k: body.emit(f"llvm.load %kptr_{k} : !llvm.ptr -> f64", "f64")
        for k in model.RUNTIME_CONSTANTS
    }
    new = model.step(
        body, state, params, constants, seed, body.lift(0, "i64"), step_number, control
    )
    for f in model.STATE_FIELDS:
        body.store(new[f], f"%s_{f}", "%i")
    arguments = (
        [f"%s_{f}: !llvm.ptr {{llvm.noalias}}" for f in model.STATE_FIELDS]
        + [f"%p_{f}: !llvm.ptr {{llvm.noalias}}" for f in model.PARAM_FIELDS]
        + [
            "%seeds: !llvm.ptr {llvm.noalias}",
            "%actions: !llvm.ptr {llvm.noalias}",
            "%n: i64",
            "%kp: !llvm.ptr {llvm.noalias}",
        ]
    )
    constant_pointers = "\n".join(
        f"    %kptr_{k} = llvm.getelementptr %kp[{i}] : (!llvm.ptr) -> !llvm.ptr, f64"
        for i, k in enumerate(model.RUNTIME_CONSTANTS)
    )
    indent = "      "
    return f"""
module {{
  func.func @{KERNEL}({", ".join(arguments)}) {{
    %c0 = arith.constant 0 : i64
    %c1 = arith.constant 1 : i64
    %c2 = arith.constant 2 : i64
{constant_pointers}
    scf.for %i = %c0 to %n step %c1 : i64 {{
      %main_index = arith.muli %i, %c2 : i64
      %side_index = arith.addi %main_index, %c1 : i64
{indent}{(chr(10) + indent).join(body.lines)}
    }}
    return
  }}
}}
"""


class StepKernel:
    """The compiled kernel, built once per process (``step_kernel()``)."""

    def __init__(self):
        from mlir import ir, passmanager

        from ..compiler.driver import translate_to_llvm_ir
        from ..compiler.machine_code import FULL, machine_code
        from ..sim.native import _KERNEL_PIPELINE

        with ir.Context(), ir.Location.unknown():
            module = ir.Module.parse(kernel_source())
            passmanager.PassManager.parse(_KERNEL_PIPELINE).run(module.operation)
            llvm_ir = translate_to_llvm_ir(module.operation)
        # Every step of every sub-environment runs through it: worth LLVM's full O3.
        self._linked = machine_code().compile(llvm_ir, [KERNEL], "gym-step", FULL)
        P = ctypes.c_void_p
        fields = len(model.STATE_FIELDS) + len(model.PARAM_FIELDS)
        self._function = ctypes.CFUNCTYPE(None, *([P] * fields), P, P, ctypes.c_int64, P)(
            self._linked.addresses[KERNEL]
        )

    def step(
        self,
        state: dict,
        params: dict,
        seeds: np.ndarray,
        actions: np.ndarray,
        constants: np.ndarray,
    ) -> None:
        """Advance every lander one step, in place. All arrays are contiguous: float64
        (uint64 ``seeds``), one element per lander, ``actions`` n x 2."""
        n = len(seeds)
        pointers = [state[f].ctypes.data for f in model.STATE_FIELDS] + [
            params[f].ctypes.data for f in model.PARAM_FIELDS
        ]
        self._function(*pointers, seeds.ctypes.data, actions.ctypes.data, n, constants.ctypes.data)


def step_kernel() -> StepKernel:
    global _compiled
    with _compile_lock:
        if _compiled is None:
            _compiled = StepKernel()
        return _compiled
