"""``neurojit swarm --cluster``: one program's swarm, its agents spread over a cluster.

The report is ``sim.swarm.evaluate``'s: the driver verifies the program (only verified
text travels), the workers compile it the ordinary way (its numbers compiled in, not
a parametric kernel) and fly agent ranges of the seed, and the statistics are computed
from the same per-agent outcomes as on one machine.
"""

from __future__ import annotations

from ..compiler import CompileError, Compiler
from ..compiler.diagnostics import has_errors
from ..sim import model
from ..sim.report import SwarmReport
from ..sim.swarm import report_flight
from .actors import WorkSpec


def evaluate_on_cluster(
    cluster,
    text: str,
    path: str,
    env: model.Environment | None = None,
    agents: int = 100,
    seed: int = 0,
    max_steps: int = model.MAX_STEPS,
    timeout_s: float | None = None,
    compiler: Compiler | None = None,
) -> SwarmReport:
    """``sim.swarm.evaluate`` with the landers flown by ``cluster`` (a RayCluster)."""
    env = env or model.Environment()
    compiler = compiler or Compiler()
    report = SwarmReport(
        path, agents, seed=seed, threads=cluster.threads, environment=env.to_json()
    )
    diagnostics = compiler.check(text, path, require_control=True)
    if has_errors(diagnostics):
        report.failure = "does not compile"
        report.diagnostics = list(diagnostics)
        return report
    spec = WorkSpec.for_swarm(text, path, env, seed, max_steps)
    try:
        report.compile_seconds = cluster.compile(spec)
    except CompileError as error:
        report.failure = "does not compile"
        report.diagnostics = list(error.diagnostics)
        return report
    return report_flight(
        report,
        lambda: cluster.fly_swarm(spec, agents, timeout_s),
        text,
        path,
        env,
        agents,
        seed,
        max_steps,
        compiler,
    )
