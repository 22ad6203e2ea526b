"""``neurojit bench swarm``: the native kernel against the numpy reference, in one run.

Both run the same controller, seed and step budget, so they simulate the same
agent-steps; throughput is simulated agent-steps per second of wall time (set-up of
the per-agent parameters included for both). The numpy reference is slow at large
swarms, so each size has its own step budget (``STEPS``), the same for both sides.
"""

from __future__ import annotations

import platform
import statistics

from ..compiler import Compiler
from ..compiler.reference import ReferenceProgram
from ..paths import samples_dir
from . import model
from .native import NativeSwarm
from .reference import simulate_reference
from .swarm import default_threads

SIZES = (100, 10_000, 100_000)
STEPS = {100: model.MAX_STEPS, 10_000: 200, 100_000: 100}  # numpy at 1e5 agents: ~45 ms/step
SCALING_AGENTS = 100_000
SCALING_STEPS = 200


def _rate(run) -> float:
    return run.agent_steps / run.seconds


def bench_swarm(path: str | None = None, seed: int = 0, repeats: int = 5, sizes=SIZES,
                threads: int | None = None, scaling_agents: int = SCALING_AGENTS,
                scaling_steps: int = SCALING_STEPS) -> dict:
    path = str(path or samples_dir() / "heuristic.mlir")
    text = open(path).read()
    env = model.Environment()
    threads = threads or default_threads()
    compiler = Compiler()
    module, diagnostics = compiler.parse(text, path, require_control=True)
    if module is None:
        raise ValueError("\n".join(d.format() for d in diagnostics))
    reference = ReferenceProgram(module, path)
    native = NativeSwarm(text, path, compiler)
    native.run(env, 100, seed, max_steps=10, threads=threads)  # warm the thread pool path

    rows = []
    for agents in sizes:
        steps = STEPS.get(agents, 100)
        numpy_run = simulate_reference(reference, env, agents, seed, max_steps=steps)
        native_rates = [_rate(native.run(env, agents, seed, max_steps=steps, threads=threads))
                        for _ in range(repeats)]
        native_rate = statistics.median(native_rates)
        rows.append({
            "agents": agents, "steps": steps, "threads": threads,
            "numpy_steps_per_s": _rate(numpy_run), "native_steps_per_s": native_rate,
            "ratio": native_rate / _rate(numpy_run),
        })

    scaling = []
    for count in range(1, threads + 1):
        rates = [_rate(native.run(env, scaling_agents, seed, max_steps=scaling_steps, threads=count))
                 for _ in range(repeats)]
        scaling.append({"threads": count, "native_steps_per_s": statistics.median(rates)})
    for row in scaling:
        row["speedup"] = row["native_steps_per_s"] / scaling[0]["native_steps_per_s"]
        row["efficiency"] = row["speedup"] / row["threads"]
    return {
        "file": path, "seed": seed, "rows": rows, "scaling": scaling,
        "scaling_agents": scaling_agents, "scaling_steps": scaling_steps,
        "kernel_compile_s": native.compile_seconds,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cores": default_threads(),
    }


def format_swarm_table(result: dict) -> str:
    lines = [f"controller {result['file']}, seed {result['seed']}, {result['cores']} cores",
             f"{'agents':>8} {'steps':>6} {'numpy':>14} {'native':>14} {'ratio':>8}"]
    for r in result["rows"]:
        lines.append(f"{r['agents']:>8} {r['steps']:>6} {r['numpy_steps_per_s'] / 1e6:>9.3f} M/s "
                     f"{r['native_steps_per_s'] / 1e6:>9.2f} M/s {r['ratio']:>7.1f}x")
    lines.append(f"thread scaling at {result['scaling_agents']} agents x "
                 f"{result['scaling_steps']} steps:")
    for s in result["scaling"]:
        lines.append(f"  {s['threads']:>3} thread(s): {s['native_steps_per_s'] / 1e6:>8.2f} M/s "
                     f"speed-up {s['speedup']:.2f} (efficiency {s['efficiency']:.0%})")
    lines.append("targets: ratio >= 50x at 100 agents, >= 10x at 100,000; near-linear scaling")
    return "\n".join(lines)
