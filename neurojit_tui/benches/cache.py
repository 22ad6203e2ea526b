"""``neurojit bench cache``: the cold path to a stored controller vs a warm L2 start in
a fresh process vs an L1 hit.

All three in one run, on one temporary registry. The cold path is what the product
really runs for conditions it has not seen: an evolution (with the embedded models
guiding it, unless ``use_llm`` is off) whose winner the registry admits only if it beats
every sample on the validation landers (so this bench sits with the search, above the
memory package it measures). The L2 start is timed inside new Python processes (lookup =
read + hash checks + link the object code with llvmlite; the process's one-off JIT set-up
is reported separately), and each must answer with the stored program; the L1 hit is a
lookup in the process that stored it.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time

from ..evolve.results import EvolveOptions
from ..evolve.runner import run_evolution
from ..memory import Registry, rebuild_with
from ..sim import Environment

# Conditions no sample lands well in, so the evolved winner is admitted.
COLD_CONDITIONS = Environment(gravity=3.0, turbulence=0.8)
COLD_EVALUATIONS = 4000  # bounds the cold evolution (replayable, unlike a time budget)

_FRESH_PROCESS = r"""
import hashlib, json, sys, time
from neurojit_tui.memory import Registry
t0 = time.perf_counter()
registry = Registry(sys.argv[1])   # one-off per process: LLJIT, toolchain facts
t1 = time.perf_counter()
controller, level = registry.lookup(sys.argv[2])
t2 = time.perf_counter()
source = controller.entry.source if level == "l2" else ""
print(json.dumps({"level": level, "jit_setup_s": t1 - t0, "l2_s": t2 - t1,
                  "source_sha256": hashlib.sha256(source.encode()).hexdigest()}))
"""


class CacheBenchError(RuntimeError):
    """The cold path stored nothing, or a fresh process did not answer from L2."""


def bench_cache(
    agents=None,
    env: Environment = COLD_CONDITIONS,
    evaluations: int = COLD_EVALUATIONS,
    seed: int = 0,
    fresh_processes: int = 3,
    log=print,
) -> dict:
    """``agents``: the models guiding the cold evolution (None: symbolic search alone)."""
    from ..compiler import Compiler

    options = EvolveOptions(
        budget_s=None, evaluations=evaluations, seed=seed, use_llm=agents is not None
    )
    with tempfile.TemporaryDirectory() as root:
        registry = Registry(root, rebuild=rebuild_with(Compiler()))
        log(f"cold: evolving for gravity {env.gravity:g}, turbulence {env.turbulence:g}")
        t0 = time.perf_counter()
        result = run_evolution(env, options, registry=registry, agents=agents)
        registry.flush()
        cold_s = time.perf_counter() - t0
        verdict = result.best.registry if result.best is not None else None
        if verdict is None or not verdict.stored:
            why = verdict.reason if verdict is not None else f"the search {result.status}"
            raise CacheBenchError(f"the cold path stored no controller: {why}")
        stored_sha = hashlib.sha256(result.best.source.encode()).hexdigest()
        fresh = []
        for _ in range(fresh_processes):
            out = subprocess.run(
                [sys.executable, "-c", _FRESH_PROCESS, root, verdict.key],
                capture_output=True,
                text=True,
                check=True,
            )
            fresh.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if any(f["level"] != "l2" or f["source_sha256"] != stored_sha for f in fresh):
            raise CacheBenchError(
                f"a fresh process did not answer with the stored program: {fresh}"
            )
        l1 = []
        for _ in range(1000):
            t = time.perf_counter()
            registry.lookup(verdict.key)
            l1.append(time.perf_counter() - t)
    l2_s = statistics.median(f["l2_s"] for f in fresh)
    l1_s = statistics.median(l1)
    return {
        "cold_s": cold_s,
        "cold_status": result.status,
        "cold_evaluations": result.evaluations,
        "cold_used_models": agents is not None,
        "cold_validation_success": result.best.validation.success_rate,
        "l2_s": l2_s,
        "l2_jit_setup_s": statistics.median(f["jit_setup_s"] for f in fresh),
        "l1_s": l1_s,
        "cold_over_l2": cold_s / l2_s,
        "cold_over_l1": cold_s / l1_s,
        "key": verdict.key,
        "environment": env.to_json(),
    }


def format_cache_table(r: dict) -> str:
    how = "models guiding" if r["cold_used_models"] else "symbolic only"
    return "\n".join(
        [
            f"cold path (evolve, {how}, {r['cold_evaluations']} evaluations, admission): "
            f"{r['cold_s']:9.2f} s",
            f"warm L2 start, fresh process (read, check, link object): {r['l2_s'] * 1e3:7.3f} ms "
            f"(+ {r['l2_jit_setup_s'] * 1e3:.1f} ms one-off set-up per process: LLJIT, toolchain)",
            f"L1 hit:                                    {r['l1_s'] * 1e6:9.3f} us",
            f"cold / L2: {r['cold_over_l2']:,.0f}x   cold / L1: {r['cold_over_l1']:,.0f}x",
            "targets: L1 < 10 us, L2 < 5 ms, cold/L2 >= 10,000x",
        ]
    )
