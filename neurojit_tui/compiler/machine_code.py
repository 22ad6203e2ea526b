"""LLVM IR to machine code, and the one JIT per process that runs it (llvmlite, LLVM 22).

Why not MLIR's ``ExecutionEngine`` for controllers: it builds a new JIT, detects the host
CPU and sets up LLVM's code generator for every module, and adds a packed wrapper for every
function; on these small programs that fixed cost was most of the compile time (a 3-line
module took ~6 ms, each function ~1.4 ms more). Here the target machine, the pass pipeline
and the JIT are made once per process; a program costs only its optimization, its code
generation and the link of its object (~0.4 ms). The object bytes are kept, so the registry
stores exactly what ran, and a warm start links them with the same JIT.

This module never imports MLIR: the registry's warm path runs stored objects with it alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..once import once
from . import dialect as tl


@dataclass
class LinkedCode:
    """Code linked into the process JIT; it stays loaded as long as ``tracker`` lives.
    ``object_bytes``: the object it was linked from, when that was in memory."""

    tracker: object
    addresses: dict[str, int]
    object_bytes: bytes | None = None


QUICK, FULL = "quick", "full"
TIERS = (QUICK, FULL)


class MachineCode:
    """Two tiers of code generation:

    - ``quick`` (what the editor, repair and hot-swap use): a short IR pipeline chosen for
      these programs (scalarize the tensor descriptors and stack buffers, fold the
      constant weights, unroll the fixed-size loops, GVN), then LLVM's fast instruction
      selector and register allocator. Measured on the samples: code generation at O0
      took 2.4-4 ms where O2 took 7-12 ms, and the IR pipeline half of what O2's did.
    - ``full``: LLVM's O3 pipeline and O3 code generation, for code that runs long.
    """

    def __init__(self) -> None:
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        self._llvm = llvm
        self._target = llvm.Target.from_default_triple()
        # The host's own CPU and features: code uses its full vector width.
        self._cpu = llvm.get_host_cpu_name()
        self._features = llvm.get_host_cpu_features().flatten()
        self._per_thread = threading.local()
        self.jit = llvm.create_lljit_compiler()
        self._lock = threading.Lock()  # the JIT serves all threads
        self._libraries = 0

    def _tools(self) -> tuple[Any, Any, Any]:
        """This thread's LLVM context, target machines and O3 pipeline. Each thread has
        its own, so a long -O3 compile in the background (a swarm kernel's second tier)
        never holds up a quick compile in the foreground; only linking is serialized."""
        tools = getattr(self._per_thread, "tools", None)
        if tools is None:
            llvm = self._llvm
            machines = {
                tier: self._target.create_target_machine(
                    cpu=self._cpu, features=self._features, opt=level, codemodel="jitdefault"
                )
                for tier, level in ((QUICK, 0), (FULL, 3))
            }
            o3 = llvm.create_pass_builder(
                machines[FULL], llvm.create_pipeline_tuning_options(speed_level=3)
            )
            tools = self._per_thread.tools = (llvm.create_context(), machines, o3)
        return tools

    def _quick_passes(self) -> Any:
        passes = self._llvm.create_new_module_pass_manager()
        for name in (
            "sroa",
            "instruction_combine",
            "simplify_cfg",
            "loop_simplify",
            "loop_rotate",
            "loop_unroll",
            "sroa",
            "instruction_combine",
            "new_gvn",
            "dead_code_elimination",
            "simplify_cfg",
            "global_dead_code_eliminate",
        ):
            getattr(passes, f"add_{name}_pass")()
        return passes

    def emit_object(self, llvm_ir: str, tier: str = QUICK) -> bytes:
        """Optimize ``llvm_ir`` at ``tier`` and return a relocatable object file."""
        if tier not in TIERS:
            raise ValueError(f"unknown code tier {tier!r}; tiers: {', '.join(TIERS)}")
        context, machines, o3 = self._tools()
        target_machine = machines[tier]
        module = self._llvm.parse_assembly(llvm_ir, context=context)
        module.triple = target_machine.triple
        module.data_layout = str(target_machine.target_data)
        passes = self._quick_passes() if tier == QUICK else o3.getModulePassManager()
        passes.run(module, o3)
        obj: bytes = target_machine.emit_object(module)
        return obj

    def compile(
        self, llvm_ir: str, exports: Iterable[str], name: str, tier: str = QUICK
    ) -> LinkedCode:
        """``emit_object`` then ``link``: the object bytes stay with the linked code."""
        return self.link(self.emit_object(llvm_ir, tier), exports, name)

    def link(self, obj: bytes | Path, exports: Iterable[str], name: str) -> LinkedCode:
        """Load an object (bytes or a file) as a library of its own; returns the
        addresses of ``exports``."""
        with self._lock:
            self._libraries += 1
            builder = self._llvm.JITLibraryBuilder()
            if isinstance(obj, (bytes, bytearray)):
                builder.add_object_img(bytes(obj))
            else:
                builder.add_object_file(str(obj))
            for symbol in exports:
                builder.export_symbol(symbol)
            tracker = builder.link(self.jit, f"{name}-{self._libraries}")
        return LinkedCode(
            tracker,
            {symbol: tracker[symbol] for symbol in exports},
            bytes(obj) if isinstance(obj, (bytes, bytearray)) else None,
        )


machine_code = once(MachineCode)


# -- a controller's swarm loop ----------------------------------------------------------------
# The swarm's physics kernel (sim/native.py) is compiled once per process; what a new
# controller structure compiles is only its block loop: ``@control`` for each of a block's
# agents, reading and writing per-block buffers. It is plain LLVM IR around the lowered
# controller, so the compiler's own benchmark can time it (``bench jit``'s ``kernel_s``).

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


def lower_control_block(compiler: Any, text: str, path: str, parametric: bool = False) -> Any:
    """A new structure's swarm code as LLVM IR: ``text`` lowered with ``compiler`` (a
    ``driver.Compiler``) and the block loop added. Returns (LLVM IR, ``Lowered``)."""
    from .driver import translate_to_llvm_ir  # the caller's compiler has MLIR loaded already

    lowered = compiler.lower(text, path, require_control=True, parametric=parametric)
    with compiler.context:
        controller_ir = translate_to_llvm_ir(lowered.module)
    return control_block_ir(controller_ir, parametric), lowered


def compile_control_block(block_ir: str, path: str, tier: str) -> LinkedCode:
    """Compile and link ``lower_control_block``'s IR; exports ``CONTROL_BLOCK`` and the
    assert status word."""
    return machine_code().compile(
        block_ir, [CONTROL_BLOCK, tl.ASSERT_STATUS_GLOBAL], f"swarm-{Path(path).stem}", tier
    )
