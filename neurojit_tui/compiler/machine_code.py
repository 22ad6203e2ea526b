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

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..once import once


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
