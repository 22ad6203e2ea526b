"""``neurojit bench jit``: time to parse+verify and to lower+JIT each controller sample.

Controllers compile at the quick tier; the same run also times the full tier (LLVM -O3),
the baseline the quick tier is measured against (``full_total_s``, ``speedup``), and a
new structure's swarm kernel, as ``NativeSwarm`` compiles it for a controller: ready to
fly once the controller is lowered and its block loop compiled at the quick tier
(``kernel_s``; ``kernel_parametric_s`` as the evolution search builds it), then again at
-O3, which ``NativeSwarm`` does in the background while the quick one flies
(``kernel_full_s``). The physics kernel that runs it is compiled once per process and is
timed by ``bench swarm``. ``*_cpu_s``: the same compiles in this thread's CPU time,
which other work on the machine barely moves.

It is in ``sim``, not ``compiler``, because the block loop it times is the swarm's
(``control_block.py``), which the compiler does not know."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..compiler.driver import Compiler
from ..compiler.machine_code import FULL, QUICK
from ..paths import controller_samples
from ..sim.control_block import compile_control_block, lower_control_block


def bench_jit(repeats: int = 15, files: Iterable[Path] | None = None) -> list[dict[str, Any]]:
    files = list(files or controller_samples())
    compiler, baseline = Compiler(), Compiler(tier=FULL)
    # One untimed compile per file: the first use of the context, of pass
    # registration and of LLVM's target machine is start-up cost, not per-program cost.
    sources = {str(f): f.read_text() for f in files}
    for path, text in sources.items():
        compiler.compile(text, path, require_control=True)
        baseline.compile(text, path, require_control=True)
        compile_control_block(lower_control_block(compiler, text, path)[0], path, FULL)
    rows = []
    for path, text in sources.items():
        verify: list[float] = []
        jit: list[float] = []
        total: list[float] = []
        full_total: list[float] = []
        kernel: dict[bool, list[float]] = {False: [], True: []}
        kernel_cpu: dict[bool, list[float]] = {False: [], True: []}
        kernel_full: list[float] = []
        # Programs stay alive until the file is done: freeing the previous program's
        # code is not part of compiling the next one, and an app defers it.
        alive: list[object] = []
        for _ in range(repeats):  # the tiers alternate, so drift on the machine hits both
            t0 = time.perf_counter()
            program = compiler.compile(text, path, require_control=True)
            total.append(time.perf_counter() - t0)
            alive.append(program)
            verify.append(program.timings.parse_verify_s)
            jit.append(program.timings.lower_s + program.timings.jit_s)
            t0 = time.perf_counter()
            alive.append(baseline.compile(text, path, require_control=True))
            full_total.append(time.perf_counter() - t0)
            for parametric in (False, True):
                t0, c0 = time.perf_counter(), time.thread_time()
                block_ir, _ = lower_control_block(compiler, text, path, parametric)
                alive.append(compile_control_block(block_ir, path, QUICK))
                kernel[parametric].append(time.perf_counter() - t0)
                kernel_cpu[parametric].append(time.thread_time() - c0)
            t0 = time.perf_counter()
            alive.append(compile_control_block(block_ir, path, FULL))
            kernel_full.append(time.perf_counter() - t0)
        del alive
        rows.append(
            {
                "file": path,
                "verify_s": statistics.median(verify),
                "jit_s": statistics.median(jit),
                "total_s": statistics.median(total),
                "total_p90_s": sorted(total)[int(0.9 * (len(total) - 1))],
                "full_total_s": statistics.median(full_total),
                "speedup": statistics.median(full_total) / statistics.median(total),
                "kernel_s": statistics.median(kernel[False]),
                "kernel_cpu_s": statistics.median(kernel_cpu[False]),
                "kernel_parametric_s": statistics.median(kernel[True]),
                "kernel_parametric_cpu_s": statistics.median(kernel_cpu[True]),
                "kernel_full_s": statistics.median(kernel_full),
                "repeats": repeats,
                "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            }
        )
    return rows


def format_jit_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'file':<24} {'parse+verify':>13} {'lower+JIT':>10} {'total p50':>10} "
        f"{'total p90':>10} {'O3 p50':>10} {'speed-up':>9} {'kernel':>9} {'(cpu)':>9} "
        f"{'parametric':>11} {'(cpu)':>9} {'-O3 (bg)':>9}"
    ]
    for r in rows:
        name = r["file"].rsplit("/", 1)[-1]
        lines.append(
            f"{name:<24} {r['verify_s'] * 1e3:>10.1f} ms {r['jit_s'] * 1e3:>7.1f} ms "
            f"{r['total_s'] * 1e3:>7.1f} ms {r['total_p90_s'] * 1e3:>7.1f} ms "
            f"{r['full_total_s'] * 1e3:>7.1f} ms {r['speedup']:>8.2f}x "
            f"{r['kernel_s'] * 1e3:>6.1f} ms {r['kernel_cpu_s'] * 1e3:>6.1f} ms "
            f"{r['kernel_parametric_s'] * 1e3:>8.1f} ms "
            f"{r['kernel_parametric_cpu_s'] * 1e3:>6.1f} ms "
            f"{r['kernel_full_s'] * 1e3:>6.1f} ms"
        )
    totals = sorted(r["total_s"] for r in rows)
    lines.append(
        f"p50 over samples: {statistics.median(totals) * 1e3:.1f} ms (target <= 30 ms); "
        f"swarm kernel {statistics.median(r['kernel_s'] for r in rows) * 1e3:.1f} ms, "
        f"parametric {statistics.median(r['kernel_parametric_s'] for r in rows) * 1e3:.1f} ms "
        f"(target <= 40 ms)"
    )
    return "\n".join(lines)
