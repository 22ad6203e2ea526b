"""A controller's block loop: the code a new controller structure compiles for the swarm.

The swarm's physics kernel (``native.py``) is compiled once per process; what a new
controller structure compiles is only its block loop: ``@control`` for each of a block's
agents, reading and writing per-block buffers. It is plain LLVM IR around the lowered
controller, compiled and linked by the compiler's ``machine_code`` like any program
(``bench jit``'s ``kernel_s`` times it).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..compiler import dialect as tl
from ..compiler.driver import Compiler, Lowered, translate_to_llvm_ir
from ..compiler.machine_code import LinkedCode, machine_code

BLOCK = 64  # agents per block: 20 state fields x 64 x 8 bytes = 10 KiB, in L1
# Where each controller input and output lives in a block's buffers: field k of the
# block's agent j is element k * BLOCK + j (structure of arrays, so both sides of the
# controller call read and write whole vectors).
CONTROL_BUFFERS = (
    ("obs", tl.CONTROL_OBS_SIZE),
    ("mem", tl.CONTROL_MEM_SIZE),
    ("act", tl.CONTROL_ACTION_SIZE),
    ("mem_out", tl.CONTROL_MEM_SIZE),
)


CONTROL_BLOCK = "neurojit_control_block"
_CONTROL_DEFINITION = re.compile(r"^define (\w+ )*void @" + tl.CONTROL_ENTRY + r"\(", re.M)


def control_block_ir(controller_ir: str, parametric: bool) -> str:
    """The controller's LLVM IR with ``@control`` made internal and the block loop
    added: ``void neurojit_control_block(obs, mem, theta, act, mem_out, i64 agents)``
    calls ``@control`` for each agent of a block, reading and writing the buffers
    ``physics_kernel_source`` lays out. ``@control`` being internal with one caller, LLVM
    inlines it and drops its own copy; the loop then vectorizes across agents."""
    ir_text, found = _CONTROL_DEFINITION.subn(
        f"define internal void @{tl.CONTROL_ENTRY}(", controller_ir, count=1
    )
    if not found:
        raise ValueError("the lowered controller has no @control definition")
    locals_ = {name: f"%{name}_one" for name, _ in CONTROL_BUFFERS}
    lines = [
        f"define void @{CONTROL_BLOCK}(ptr noalias %obs, ptr noalias %mem, ptr noalias %theta, "
        f"ptr noalias %act, ptr noalias %mem_out, i64 %agents) {{",
        "entry:",
    ]
    lines += [
        f"  {locals_[name]} = alloca [{size} x double], align 8" for name, size in CONTROL_BUFFERS
    ]
    lines += [
        "  %none = icmp sle i64 %agents, 0",
        "  br i1 %none, label %done, label %agent",
        "agent:",
        "  %j = phi i64 [ 0, %entry ], [ %j_next, %agent ]",
    ]

    def element(array: str, k: int, index: str) -> str:
        name = f"{array[1:]}_{k}_{index[1:]}"
        lines.append(f"  %{name} = getelementptr double, ptr {array}, i64 {index}")
        return f"%{name}"

    for name, size in CONTROL_BUFFERS[:2]:  # gather the inputs
        for k in range(size):
            lines.append(f"  %{name}_{k}_offset = add i64 %j, {k * BLOCK}")
            lines.append(
                f"  %{name}_{k}_value = load double, ptr {element('%' + name, k, f'%{name}_{k}_offset')}, align 8"
            )
            lines.append(
                f"  store double %{name}_{k}_value, ptr {element(locals_[name], k, str(k)) if k else locals_[name]}, align 8"
            )
    arguments = (
        [locals_["obs"], locals_["mem"]]
        + (["%theta"] if parametric else [])
        + [locals_["act"], locals_["mem_out"]]
    )
    lines.append(f"  call void @{tl.CONTROL_ENTRY}({', '.join('ptr ' + a for a in arguments)})")
    for name, size in CONTROL_BUFFERS[2:]:  # scatter the outputs
        for k in range(size):
            lines.append(
                f"  %{name}_{k}_result = load double, ptr {element(locals_[name], k, str(k)) if k else locals_[name]}, align 8"
            )
            lines.append(f"  %{name}_{k}_offset = add i64 %j, {k * BLOCK}")
            lines.append(
                f"  store double %{name}_{k}_result, ptr {element('%' + name, k, f'%{name}_{k}_offset')}, align 8"
            )
    lines += [
        "  %j_next = add i64 %j, 1",
        "  %more = icmp slt i64 %j_next, %agents",
        "  br i1 %more, label %agent, label %done",
        "done:",
        "  ret void",
        "}",
    ]
    return ir_text + "\n" + "\n".join(lines) + "\n"


def lower_control_block(
    compiler: Compiler, text: str, path: str, parametric: bool = False
) -> tuple[str, Lowered]:
    """A new structure's swarm code as LLVM IR: ``text`` lowered with ``compiler`` and
    the block loop added. Returns (LLVM IR, ``Lowered``)."""
    lowered = compiler.lower(text, path, require_control=True, parametric=parametric)
    with lowered.module.context:  # the compiler's context, the one the module lives in
        controller_ir = translate_to_llvm_ir(lowered.module)
    return control_block_ir(controller_ir, parametric), lowered


def compile_control_block(block_ir: str, path: str, tier: str) -> LinkedCode:
    """Compile and link ``lower_control_block``'s IR; exports ``CONTROL_BLOCK`` and the
    assert status word."""
    return machine_code().compile(
        block_ir, [CONTROL_BLOCK, tl.ASSERT_STATUS_GLOBAL], f"swarm-{Path(path).stem}", tier
    )
