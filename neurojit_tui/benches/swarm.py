"""``neurojit bench swarm``: the native kernel against the numpy reference, in one run.

Both run the same controller, seed and step budget, so they simulate the same
agent-steps; throughput is simulated agent-steps per second of wall time (set-up of
the per-agent parameters included for both). The numpy reference is slow at large
swarms, so each size has its own step budget (``STEPS``), the same for both sides.

The reference column is the limit: the same physics and controller in C, generated from
``model.py`` by the tracer and compiled with the machine's gcc at -O3 -march=native
(``c_reference``), flown on the same agents, seeds, chunks and threads; native and C
runs alternate, so drift on the machine hits both (``c_agent_steps_per_s``,
``native_over_c``). On a machine without that C compiler the C columns are None and the
table says so: the numpy ratio and the scaling are still measured. The native kernel is
measured at its -O3 tier.
"""

from __future__ import annotations

import platform
import shutil
import statistics

from ..compiler import Compiler
from ..compiler.reference import ReferenceProgram
from ..paths import samples_dir
from ..sim import model
from ..sim.c_reference import CReferenceSwarm, gcc_version
from ..sim.native import NativeSwarm
from ..sim.reference import simulate_reference
from ..sim.swarm import default_threads

SIZES = (100, 10_000, 100_000)
STEPS = {100: model.MAX_STEPS, 10_000: 200, 100_000: 100}  # numpy at 1e5 agents: ~45 ms/step
SCALING_AGENTS = 100_000
SCALING_STEPS = 200


def _rate(run) -> float:
    return run.agent_steps / run.seconds


def bench_swarm(
    path: str | None = None,
    seed: int = 0,
    repeats: int = 5,
    sizes=SIZES,
    threads: int | None = None,
    scaling_agents: int = SCALING_AGENTS,
    scaling_steps: int = SCALING_STEPS,
    c_compiler: str = "gcc",
) -> dict:
    path = str(path or samples_dir() / "heuristic.mlir")
    text = open(path).read()
    env = model.Environment()
    threads = threads or default_threads()
    compiler = Compiler()
    module, diagnostics = compiler.parse(text, path, require_control=True)
    if module is None:
        raise ValueError("\n".join(d.format() for d in diagnostics))
    reference = ReferenceProgram(module, path)
    native = NativeSwarm(text, path, compiler).wait_for_full_tier()
    c_swarm = (
        CReferenceSwarm(text, path, compiler, gcc=c_compiler)
        if shutil.which(c_compiler) is not None
        else None
    )
    for swarm in (native, c_swarm):
        if swarm is not None:  # warm the thread pool path
            swarm.run(env, 100, seed, max_steps=10, threads=threads)

    def alternating(agents: int, steps: int, count: int) -> tuple[float, float | None]:
        """Median rates of native and C (None without a C compiler), runs alternating."""
        native_rates, c_rates = [], []
        for _ in range(repeats):
            native_rates.append(
                _rate(native.run(env, agents, seed, max_steps=steps, threads=count))
            )
            if c_swarm is not None:
                c_rates.append(
                    _rate(c_swarm.run(env, agents, seed, max_steps=steps, threads=count))
                )
        return statistics.median(native_rates), statistics.median(c_rates) if c_rates else None

    def over(native_rate: float, c_rate: float | None) -> float | None:
        return native_rate / c_rate if c_rate else None

    rows = []
    for agents in sizes:
        steps = STEPS.get(agents, 100)
        numpy_run = simulate_reference(reference, env, agents, seed, max_steps=steps)
        native_rate, c_rate = alternating(agents, steps, threads)
        rows.append(
            {
                "agents": agents,
                "steps": steps,
                "threads": threads,
                "numpy_steps_per_s": _rate(numpy_run),
                "native_steps_per_s": native_rate,
                "ratio": native_rate / _rate(numpy_run),
                "c_agent_steps_per_s": c_rate,
                "native_over_c": over(native_rate, c_rate),
            }
        )

    scaling = []
    for count in range(1, threads + 1):
        native_rate, c_rate = alternating(scaling_agents, scaling_steps, count)
        scaling.append(
            {
                "threads": count,
                "native_steps_per_s": native_rate,
                "c_agent_steps_per_s": c_rate,
                "native_over_c": over(native_rate, c_rate),
            }
        )
    for row in scaling:
        row["speedup"] = row["native_steps_per_s"] / scaling[0]["native_steps_per_s"]
        row["efficiency"] = row["speedup"] / row["threads"]
    return {
        "file": path,
        "seed": seed,
        "rows": rows,
        "scaling": scaling,
        "scaling_agents": scaling_agents,
        "scaling_steps": scaling_steps,
        "kernel_compile_s": native.compile_seconds,
        "kernel_full_compile_s": native.full_compile_seconds,
        "physics_compile_s": native.physics_compile_seconds,
        "c_compile_s": c_swarm.compile_seconds if c_swarm else None,
        "c_compiler": gcc_version(c_compiler) if c_swarm else None,
        "c_flags": " ".join(c_swarm.flags) if c_swarm else None,
        "c_missing": None if c_swarm else f"{c_compiler}: not found",
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cores": default_threads(),
    }


def _c_columns(c_rate: float | None, native_over_c: float | None) -> tuple[str, str]:
    """The C rate and native/C as table cells ("-" without a C compiler)."""
    if c_rate is None or native_over_c is None:
        return "-", "-"
    return f"{c_rate / 1e6:.2f} M/s", f"{native_over_c:.2f}x"


def format_swarm_table(result: dict) -> str:
    lines = [
        f"controller {result['file']}, seed {result['seed']}, {result['cores']} cores",
        f"{'agents':>8} {'steps':>6} {'numpy':>14} {'native':>14} {'ratio':>8} "
        f"{'gcc -O3':>14} {'native/C':>9}",
    ]
    for r in result["rows"]:
        c_rate, native_over_c = _c_columns(r["c_agent_steps_per_s"], r["native_over_c"])
        lines.append(
            f"{r['agents']:>8} {r['steps']:>6} {r['numpy_steps_per_s'] / 1e6:>9.3f} M/s "
            f"{r['native_steps_per_s'] / 1e6:>9.2f} M/s {r['ratio']:>7.1f}x "
            f"{c_rate:>14} {native_over_c:>9}"
        )
    lines.append(
        f"thread scaling at {result['scaling_agents']} agents x {result['scaling_steps']} steps:"
    )
    for s in result["scaling"]:
        c_rate, native_over_c = _c_columns(s["c_agent_steps_per_s"], s["native_over_c"])
        lines.append(
            f"  {s['threads']:>3} thread(s): {s['native_steps_per_s'] / 1e6:>8.2f} M/s "
            f"speed-up {s['speedup']:.2f} (efficiency {s['efficiency']:.0%}); "
            f"gcc -O3 {c_rate}, native/C {native_over_c}"
        )
    if result["c_missing"]:
        lines.append(f"C: {result['c_missing']}; the gcc -O3 columns are left out")
    else:
        lines.append(f"C: {result['c_compiler']} {result['c_flags']}")
    lines.append(
        f"compiles: controller {result['kernel_compile_s'] * 1e3:.1f} ms to fly, "
        f"-O3 tier {(result['kernel_full_compile_s'] or 0) * 1e3:.1f} ms in the "
        f"background; physics kernel {result['physics_compile_s'] * 1e3:.1f} ms "
        f"(once per process)"
    )
    lines.append(
        "targets: ratio >= 50x at 100 agents, >= 10x at 100,000; near-linear scaling; "
        "native >= 0.9x gcc -O3 at 100,000 agents"
    )
    return "\n".join(lines)
