"""Headless demo (``neurojit demo``): compile every sample controller with real MLIR,
call each one, hot-swap controllers under a running native loop, rank the samples in a
swarm of landers, and fly one lander live with a hot-swap mid-flight.

It stands in for the workstation UI until that exists, and does the same real work.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .compiler import CompileError, Compiler, ControllerSlot, NativeLoop
from .paths import samples_dir
from .sim import Environment, LiveLander, evaluate_candidates
from .sim.model import LEG_DOWN

# A lander 1.2 units above the pad, drifting right and falling.
DEMO_OBS = np.array([0.3, 1.2, -0.1, -0.3, 0.05, 0.01, 0.0, 0.0])


def run_demo(args) -> int:
    folder = Path(args.samples) if args.samples else samples_dir()
    files = sorted(folder.glob("*.mlir"))
    compiler = Compiler()
    programs = {}
    for path in files:
        try:
            program = compiler.compile(path.read_text(), str(path), require_control=True)
        except CompileError as error:
            print(error)
            continue
        (action, mem), violation = program.call("control", DEMO_OBS, np.zeros(4))
        t = program.timings
        total_ms = (t.parse_verify_s + t.lower_s + t.jit_s) * 1e3
        print(
            f"{path.name:<16} compiled in {total_ms:5.1f} ms   action = "
            f"[{action[0]:+.3f}, {action[1]:+.3f}]"
            + (f"   {violation.format()}" if violation else "")
        )
        programs[path.stem] = program
    broken = sorted((folder / "broken").glob("*.mlir"))
    for path in broken:
        for d in compiler.check(path.read_text(), str(path), require_control=True):
            print(d.format())
    if len(programs) < 2:
        print("need two compiled controllers for the hot-swap demo")
        return 1
    first, second = list(programs)[:2]
    slot = ControllerSlot(programs[first], first)
    loop = NativeLoop(slot, DEMO_OBS, steps=2_000_000).start()
    while loop.progress < 200_000 and loop.steps_run is None:
        time.sleep(0.001)
    slot.swap(programs[second], second)
    steps = loop.join(timeout=60)
    print(
        f"native loop ran {steps:,} steps through the hot-swap slot; controller switches: "
        + ", ".join(f"step {s:,} -> {cid}" for s, cid in loop.switches())
    )
    _swarm_and_live_lander(files, programs)
    return 0


def _swarm_and_live_lander(files, programs) -> None:
    env = Environment()
    print(
        f"\nswarm of 100 landers per controller (Moon gravity {env.gravity} m/s^2, "
        f"turbulence {env.turbulence:g}), most robust first:"
    )
    ranked = evaluate_candidates([(str(f), f.read_text()) for f in files], env=env, agents=100)
    for r in ranked:
        name = Path(r.file).name
        if not r.ok:
            print(f"  {name:<16} failed: {r.failure}")
            continue
        print(
            f"  {name:<16} landed {r.landed:3}/100  crashed {r.crashed:3}  "
            f"mean score {r.mean_score:8.1f}  CVaR-10 {r.cvar10_score:8.1f}  "
            f"({r.agent_steps_per_s / 1e6:.0f} M agent-steps/s)"
        )
    worst, best = Path(ranked[-1].file).stem, Path(ranked[0].file).stem
    if worst not in programs or best not in programs:
        return
    slot = ControllerSlot(programs[worst], worst)
    lander = LiveLander(slot, env, seed=0)
    print(f"\nlive lander: {worst} flies, hot-swapped to {best} at step 100:")
    for frame in lander.frames():
        if frame.step == 100:
            slot.swap(programs[best], best)
        if frame.step % 50 == 0 or frame.done:
            s = frame.state
            print(
                f"  step {frame.step:4}  [{frame.controller_id:<9}] altitude {s['y'] - LEG_DOWN:6.2f} m  "
                f"vy {s['vy']:+6.2f} m/s  angle {s['angle']:+5.2f}  score {frame.score:7.1f}  "
                f"{frame.outcome}"
            )
