"""``neurojit bench cache``: cold synthesis vs a warm L2 start in a fresh process vs L1.

All three in one run, on one temporary registry: the cold start runs the whole pipeline
with the embedded models (reasoning, synthesis, repair, swarm) and stores the result
(so this bench sits with the pipeline, above the memory package it measures);
the L2 start is timed inside a new Python process (lookup = read + check + link the
object code with llvmlite; the process's one-off JIT set-up is reported separately); the
L1 hit is a lookup in the process that stored it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time

from ..memory import Registry, cache_key
from ..sim import Environment
from .pipeline import model_identities, synthesize

_FRESH_PROCESS = r"""
import json, sys, time
from neurojit_tui.memory import Registry
t0 = time.perf_counter()
registry = Registry(sys.argv[1])   # one-off per process: LLJIT, toolchain facts
t1 = time.perf_counter()
controller, level = registry.lookup(sys.argv[2])
t2 = time.perf_counter()
print(json.dumps({"level": level, "jit_setup_s": t1 - t0, "l2_s": t2 - t1}))
"""


def bench_cache(agents, candidates: int = 1, seed: int = 0, log=print) -> dict:
    env = Environment()
    with tempfile.TemporaryDirectory() as root:
        registry = Registry(root)
        t0 = time.perf_counter()
        run = synthesize(
            agents,
            env,
            candidates=candidates,
            seed=seed,
            out_dir=root + "/candidates",
            registry=registry,
            log=log,
        )
        cold_s = time.perf_counter() - t0
        registry.flush()
        key, _ = cache_key(env, model_identities(agents))
        fresh = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", _FRESH_PROCESS, root, key],
                capture_output=True,
                text=True,
                check=True,
            )
            fresh.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if any(f["level"] != "l2" for f in fresh):
            raise RuntimeError(f"the fresh process did not hit L2: {fresh}")
        l1 = []
        for _ in range(1000):
            t = time.perf_counter()
            registry.lookup(key)
            l1.append(time.perf_counter() - t)
    l2_s = statistics.median(f["l2_s"] for f in fresh)
    l1_s = statistics.median(l1)
    return {
        "cold_s": cold_s,
        "cold_status": run.status,
        "cold_cache": run.cache,
        "l2_s": l2_s,
        "l2_jit_setup_s": statistics.median(f["jit_setup_s"] for f in fresh),
        "l1_s": l1_s,
        "cold_over_l2": cold_s / l2_s,
        "cold_over_l1": cold_s / l1_s,
        "key": key,
    }


def format_cache_table(r: dict) -> str:
    return "\n".join(
        [
            f"cold start (reasoning + synthesis + repair + swarm): {r['cold_s']:9.2f} s",
            f"warm L2 start, fresh process (read, check, link object): {r['l2_s'] * 1e3:7.3f} ms "
            f"(+ {r['l2_jit_setup_s'] * 1e3:.1f} ms one-off set-up per process: LLJIT, toolchain)",
            f"L1 hit:                                    {r['l1_s'] * 1e6:9.3f} us",
            f"cold / L2: {r['cold_over_l2']:,.0f}x   cold / L1: {r['cold_over_l1']:,.0f}x",
            "targets: L1 < 10 us, L2 < 5 ms, cold/L2 >= 10,000x",
        ]
    )
