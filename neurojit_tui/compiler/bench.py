"""``neurojit bench jit``: time to parse+verify and to lower+JIT each controller sample.

Controllers compile at the quick tier; the same run also times the full tier (LLVM -O3),
the baseline the quick tier is measured against (``full_total_s``, ``speedup``)."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..paths import controller_samples
from .driver import Compiler
from .machine_code import FULL


def bench_jit(repeats: int = 15, files: Iterable[Path] | None = None) -> list[dict[str, Any]]:
    files = list(files or controller_samples())
    compiler, baseline = Compiler(), Compiler(tier=FULL)
    # One untimed compile per file: the first use of the context, of pass
    # registration and of LLVM's target machine is start-up cost, not per-program cost.
    sources = {str(f): f.read_text() for f in files}
    for path, text in sources.items():
        compiler.compile(text, path, require_control=True)
        baseline.compile(text, path, require_control=True)
    rows = []
    for path, text in sources.items():
        verify: list[float] = []
        jit: list[float] = []
        total: list[float] = []
        full_total: list[float] = []
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
        del alive
        rows.append({
            "file": path,
            "verify_s": statistics.median(verify),
            "jit_s": statistics.median(jit),
            "total_s": statistics.median(total),
            "total_p90_s": sorted(total)[int(0.9 * (len(total) - 1))],
            "full_total_s": statistics.median(full_total),
            "speedup": statistics.median(full_total) / statistics.median(total),
            "repeats": repeats,
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        })
    return rows


def format_jit_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'file':<24} {'parse+verify':>13} {'lower+JIT':>10} {'total p50':>10} "
             f"{'total p90':>10} {'O3 p50':>10} {'speed-up':>9}"]
    for r in rows:
        name = r["file"].rsplit("/", 1)[-1]
        lines.append(f"{name:<24} {r['verify_s'] * 1e3:>10.1f} ms {r['jit_s'] * 1e3:>7.1f} ms "
                     f"{r['total_s'] * 1e3:>7.1f} ms {r['total_p90_s'] * 1e3:>7.1f} ms "
                     f"{r['full_total_s'] * 1e3:>7.1f} ms {r['speedup']:>8.2f}x")
    totals = sorted(r["total_s"] for r in rows)
    lines.append(f"p50 over samples: {statistics.median(totals) * 1e3:.1f} ms (target <= 30 ms)")
    return "\n".join(lines)
