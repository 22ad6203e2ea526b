"""Swarm evaluation: run many landers on one controller, score robustness, rank.

``evaluate`` never raises for a bad candidate: a program that does not compile, that
violates a ``tensorlang.assert`` during the run or that runs past its time budget gets
a report with ``failure`` set (and the diagnostics), and ranks below every candidate
that ran. (A candidate that crashes the process is the engine process's business:
the UI runs evaluations there.)
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..compiler import CompileError, Compiler
from . import model
from .native import NativeSwarm, SwarmTimeout
from .reference import RunResult
from .report import HISTOGRAM_BINS, Outcomes, SwarmReport


def cvar(scores: np.ndarray, fraction: float = 0.1) -> float:
    """Mean of the worst ``fraction`` of ``scores`` (at least one)."""
    worst = np.sort(scores)[: max(1, math.ceil(fraction * len(scores)))]
    return float(worst.mean())


def summarize(run: RunResult, report: SwarmReport) -> SwarmReport:
    """Fill ``report``'s statistics from the final states of ``run``."""
    outcome, score = run.state["outcome"], run.state["score"]
    report.landed = int((outcome == model.LANDED).sum())
    report.crashed = int((outcome == model.CRASHED).sum())
    report.out_of_bounds = int((outcome == model.OUT_OF_BOUNDS).sum())
    report.timed_out = int((outcome == model.FLYING).sum())
    report.solved = int((score >= model.SOLVED_SCORE).sum())
    report.success_rate = report.landed / max(1, report.agents)
    report.mean_score = float(score.mean())
    report.worst_score = float(score.min())
    report.cvar10_score = cvar(score)
    counts, edges = np.histogram(score, bins=HISTOGRAM_BINS)
    report.score_histogram = {"edges": edges.tolist(), "counts": counts.tolist()}
    report.seconds = run.seconds
    report.agent_steps = run.agent_steps
    report.agent_steps_per_s = run.agent_steps / run.seconds if run.seconds > 0 else 0.0
    if run.assert_failure is not None:
        violation = run.assert_failure
        report.failure = f"assert failed during the swarm run: {violation.message}"
        report.assert_violation = violation
    return report


# Validation landers come from another stream of the counter-based generator than the
# seed a search or a synthesis trains on: agents of ``validation_seed(S)`` are never
# flown while choosing a controller with seed S.
VALIDATION_SEED_OFFSET = 0x5EED_0000


def validation_seed(seed: int) -> int:
    return seed + VALIDATION_SEED_OFFSET


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def evaluate(
    text: str,
    path: str,
    env: model.Environment | None = None,
    agents: int = 100,
    seed: int = 0,
    threads: int | None = None,
    max_steps: int = model.MAX_STEPS,
    timeout_s: float | None = None,
    compiler: Compiler | None = None,
) -> SwarmReport:
    """Compile ``text`` fused with the physics and fly ``agents`` landers with it."""
    env = env or model.Environment()
    threads = threads or default_threads()
    report = SwarmReport(path, agents, seed=seed, threads=threads, environment=env.to_json())
    try:
        swarm = NativeSwarm(text, path, compiler)
    except CompileError as error:
        report.failure = "does not compile"
        report.diagnostics = list(error.diagnostics)
        return report
    report.compile_seconds = swarm.compile_seconds
    return report_flight(
        report,
        lambda: swarm.run(
            env, agents, seed, max_steps=max_steps, threads=threads, timeout_s=timeout_s
        ),
        text,
        path,
        env,
        agents,
        seed,
        max_steps,
        compiler,
    )


def report_flight(
    report: SwarmReport, fly, text, path, env, agents, seed, max_steps, compiler=None
) -> SwarmReport:
    """Fill ``report`` from ``fly()`` (a RunResult, here or on a cluster): a time-out is
    the failure; else the statistics, and for an assert that failed, the agent that set
    it off."""
    try:
        run = fly()
    except SwarmTimeout as timeout:
        report.failure = str(timeout)
        return report
    summarize(run, report)
    if run.assert_failure is not None:
        report.trigger = find_trigger(text, path, env, agents, seed, max_steps, compiler)
        if report.trigger:
            t = report.trigger
            report.failure += (
                f" (agent {t['agent']} at step {t['step']}, obs = "
                + "["
                + ", ".join(f"{v:.3f}" for v in t["obs"])
                + "])"
            )
    return report


def find_trigger(text, path, env, agents, seed, max_steps, compiler=None) -> dict | None:
    """Which agent, at which step and observation, first failed an assert: the native
    kernel only knows that one did, so the numpy reference (same trajectories) replays
    the run and stops at the violation."""
    from ..compiler.reference import ReferenceProgram
    from .reference import simulate_reference

    module, _ = (compiler or Compiler()).parse(text, path, require_control=True)
    if module is None:
        return None
    return simulate_reference(
        ReferenceProgram(module, path), env, agents, seed, max_steps=max_steps
    ).trigger


def rank(reports: list[SwarmReport]) -> list[SwarmReport]:
    """Most robust first: success rate, then CVaR-10 of the score; failures last."""
    return sorted(reports, key=SwarmReport.rank_key)


def evaluate_candidates(candidates: list[tuple[str, str]], **options) -> list[SwarmReport]:
    """Evaluate (path, text) candidates under the same conditions; ranked."""
    compiler = options.pop("compiler", None) or Compiler()
    return rank([evaluate(text, path, compiler=compiler, **options) for path, text in candidates])


def population_outcomes(run) -> list[Outcomes]:
    """Per-candidate statistics of a ``NativeSwarm.run_population`` result."""
    outcome, score = run.state["outcome"], run.state["score"]
    candidates, agents = score.shape
    worst = np.sort(score, axis=1)[:, : max(1, math.ceil(0.1 * agents))].mean(axis=1)
    landed = (outcome == model.LANDED).sum(axis=1)
    crashed = (outcome == model.CRASHED).sum(axis=1)
    out = (outcome == model.OUT_OF_BOUNDS).sum(axis=1)
    flying = (outcome == model.FLYING).sum(axis=1)
    means = score.mean(axis=1)
    steps = run.state["steps"].mean(axis=1)
    result = []
    for c in range(candidates):
        violation = run.assert_failures.get(c)
        result.append(
            Outcomes(
                agents,
                int(landed[c]),
                int(crashed[c]),
                int(out[c]),
                int(flying[c]),
                float(landed[c]) / agents,
                float(means[c]),
                float(worst[c]),
                float(steps[c]),
                f"assert failed during the swarm run: {violation.message}" if violation else None,
            )
        )
    return result


def validate(
    text: str,
    path: str,
    env: model.Environment,
    seed: int,
    agents: int = 1000,
    compiler: Compiler | None = None,
    threads: int | None = None,
) -> SwarmReport:
    """The program as written, compiled the ordinary way, on validation landers."""
    return evaluate(
        text,
        path,
        env,
        agents=agents,
        seed=validation_seed(seed),
        compiler=compiler,
        threads=threads,
    )
