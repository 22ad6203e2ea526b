"""``neurojit bench evolve --arms A,B,... --seeds K``: do the models help the search?

Each arm is the same search with one thing changed: who proposes the structural edits
that a quarter of the children get (``llm_rate``):

* ``symbolic``: nobody; every child is a random symbolic operator or a re-tune;
* ``random``: a proposal drawn uniformly from the LLM's own proposal grammar (change,
  observation, engine) and made by the same symbolic operators (``llm.RandomGuide``),
  the control for ``guide``;
* ``guide``: the reasoning model's proposal, having seen the parent's failure table;
* ``guide-plain``: the same without the failure table (only the landed/crashed counts);
* ``write``: the synthesis model writes the change;
* ``ARM+bandit`` (``guide+bandit``, ``random+bandit``, ``symbolic+bandit``): the same
  proposer, with the operators chosen by a cost-aware bandit instead of at random, and
  the proposer asked whenever the search stalls;
* ``ARM+memory`` (a model's arm): edits that helped in its earlier runs of the bench
  (``memory.edits``) come back as examples for parents that fail in similar ways;
* ``ARM+screen``: a proposal is first tuned briefly on 48 landers and dropped unless it
  beats its parent there.

Every arm gets the same wall-clock seconds per run, model time included (or the same
training evaluations with ``evaluations``), the same seeds, and is judged on the same
validation landers per seed, which no arm trains on. Over K seeds the bench reports per
arm the final validation success and CVaR-10 (median and spread), the evaluations it
took to reach the ``symbolic`` arm's median final training CVaR-10, the share of its
proposals whose child beat its parent on the training landers, and for each pair of
arms a Mann-Whitney test on the final validation success and CVaR-10.
"""

from __future__ import annotations

import itertools
import math
import statistics as stdlib_statistics
import tempfile
from pathlib import Path

from ..evolve.results import EvolutionResult, EvolveOptions
from ..evolve.runner import samples
from ..evolve.search import evolve
from ..evolve.statistics import (
    compare,
    cvar_curve,
    evaluations_to_target,
    improve_rate,
    summarize,
)
from ..memory.edits import EditMemory
from ..sim import model

ARMS = ("symbolic", "random", "guide", "guide-plain", "write")
MODEL_ARMS = ("guide", "guide-plain", "write")


class AblationError(ValueError):
    """Arms the bench does not know, or that need models it was not given."""


MODIFIERS = ("bandit", "memory", "screen")
SCREEN_AGENTS = 48  # the landers a +screen arm tunes a proposal on first


def _parts(arm: str) -> tuple[str, frozenset[str]]:
    """(proposer, modifiers) of an arm's name, e.g. ("guide", {"bandit"})."""
    base, *modifiers = arm.split("+")
    return base, frozenset(modifiers)


def needs_models(arm: str) -> bool:
    return _parts(arm)[0] in MODEL_ARMS


def check_arms(arms: list[str], have_models: bool) -> None:
    for arm in arms:
        base, modifiers = _parts(arm)
        if base not in ARMS or not modifiers <= set(MODIFIERS):
            raise AblationError(
                f"unknown arm {arm!r}: choose from {', '.join(ARMS)}, each with "
                "+bandit, +memory and/or +screen"
            )
        if "memory" in modifiers and base not in MODEL_ARMS:
            raise AblationError(f"arm {arm!r}: +memory is for the model's arms")
    if len(set(arms)) != len(arms):
        raise AblationError("an arm is named twice")
    if not have_models and any(needs_models(arm) for arm in arms):
        raise AblationError("the arms guide, guide-plain and write need the models (no --no-llm)")


def proposer(arm: str, agents, memory=None):
    """What makes the arm's proposals (None: symbolic operators only)."""
    from ..evolve.llm import LLMMutation, RandomGuide

    base, modifiers = _parts(arm)
    memory = memory if "memory" in modifiers else None
    if base == "symbolic":
        return None
    if base == "random":
        return RandomGuide()
    if base == "write":
        return LLMMutation(agents, mode="write", memory=memory)
    return LLMMutation(agents, mode="guide", failure_table=base == "guide", memory=memory)


def proposals(result: EvolutionResult, arm: str) -> tuple[int, int]:
    """(tried, improved their parent) of the arm's own proposals: the model's or the
    random guide's; for ``symbolic``, every symbolic operator's (re-tunes aside)."""
    names = {"random": ["random"], "symbolic": None}.get(_parts(arm)[0], ["llm"])
    picked = [
        stats
        for name, stats in result.operators.items()
        if (name in names if names is not None else name not in ("llm", "random", "retune"))
    ]
    return sum(s.tried for s in picked), sum(s.improved_parent for s in picked)


def _final_cvar(result: EvolutionResult) -> float:
    """The best's training CVaR-10 at the search's last generation (-inf: none)."""
    curve = cvar_curve(result.history)
    return curve[-1][1] if curve else -math.inf


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else -math.inf


def run_arm(
    arm: str, env, seed: int, budget, evaluations, agents, validation_agents, memory=None
) -> dict:
    options = EvolveOptions(
        budget_s=None if evaluations is not None else budget,
        evaluations=evaluations,
        seed=seed,
        use_llm=_parts(arm)[0] != "symbolic",
        operator_choice="bandit" if "bandit" in _parts(arm)[1] else "uniform",
        screen_agents=SCREEN_AGENTS if "screen" in _parts(arm)[1] else 0,
        validation_agents=validation_agents,
    )
    result = evolve(samples(), env, options, llm=proposer(arm, agents, memory))
    tried, improved = proposals(result, arm)
    best = result.best
    return {
        "arm": arm,
        "seed": seed,
        "success": best.validation.success_rate if best else 0.0,
        "cvar10": _finite(best.validation.cvar10_score) if best else -math.inf,
        "train_fitness": best.fitness if best else -math.inf,
        "train_cvar10": _final_cvar(result),
        "evaluations": result.evaluations,
        "seconds": result.seconds,
        "proposals": tried,
        "improved_parent": improved,
        "curve": cvar_curve(result.history),
    }


def bench_ablation(
    conditions: list[tuple[float, float]],
    arms: list[str],
    seeds: int,
    budget: float = 60.0,
    evaluations: int | None = None,
    agents=None,
    validation_agents: int = 1000,
    first_seed: int = 0,
    log=print,
) -> dict:
    check_arms(arms, agents is not None)
    result: dict = {
        "arms": arms,
        "seeds": list(range(first_seed, first_seed + seeds)),
        "budget_s": None if evaluations is not None else budget,
        "evaluations": evaluations,
        "validation_agents": validation_agents,
        "conditions": [],
    }
    # a +memory arm learns across its own runs, in the bench's order, and from no other
    with tempfile.TemporaryDirectory(prefix="neurojit-edits-") as folder:
        memories = {arm: EditMemory(Path(folder) / arm) for arm in arms}
        for gravity, turbulence in conditions:
            env = model.Environment(gravity=gravity, turbulence=turbulence)
            runs: dict[str, list[dict]] = {arm: [] for arm in arms}
            for seed in result["seeds"]:  # seeds outside, so a cut-short bench is balanced
                for arm in arms:
                    run = run_arm(
                        arm,
                        env,
                        seed,
                        budget,
                        evaluations,
                        agents,
                        validation_agents,
                        memories[arm],
                    )
                    runs[arm].append(run)
                    log(
                        f"g {gravity:g} t {turbulence:g} seed {seed} {arm:<11} landed "
                        f"{run['success']:.1%} CVaR-10 {run['cvar10']:.1f} "
                        f"({run['evaluations']} evaluations, {run['proposals']} proposals, "
                        f"{run['improved_parent']} improved their parent)"
                    )
            result["conditions"].append(_condition_summary(gravity, turbulence, runs))
    return result


def _condition_summary(gravity: float, turbulence: float, runs: dict[str, list[dict]]) -> dict:
    reference = "symbolic" if "symbolic" in runs else next(iter(runs))
    # the training CVaR-10, not the fitness: once the best lands every training lander the
    # fitness barely moves, and every arm reaches any fitness target at the same point
    target = stdlib_statistics.median(r["train_cvar10"] for r in runs[reference])
    per_arm = {}
    for arm, arm_runs in runs.items():
        reached = [evaluations_to_target(r["curve"], target) for r in arm_runs]
        rate = improve_rate(
            sum(r["proposals"] for r in arm_runs), sum(r["improved_parent"] for r in arm_runs)
        )
        per_arm[arm] = {
            "final_success": summarize(r["success"] for r in arm_runs).__dict__,
            "final_cvar10": summarize(r["cvar10"] for r in arm_runs).__dict__,
            # None where a run never reached the target (it counts as infinitely slow)
            "evals_to_target": reached,
            "evals_to_target_median": summarize(
                n if n is not None else math.inf for n in reached
            ).median,
            "improve_rate": rate.__dict__,
            "runs": [{k: v for k, v in r.items() if k != "curve"} for r in arm_runs],
        }
    pairs = {}
    for a, b in itertools.combinations(runs, 2):
        success = compare([r["success"] for r in runs[a]], [r["success"] for r in runs[b]])
        cvar = compare([r["cvar10"] for r in runs[a]], [r["cvar10"] for r in runs[b]])
        speed = compare(
            [-_steps(r, target) for r in runs[a]], [-_steps(r, target) for r in runs[b]]
        )
        pairs[f"{a} vs {b}"] = {
            "p_value": success.p_value,
            "success": success.__dict__,
            "cvar10": cvar.__dict__,
            "evals_to_target": speed.__dict__,  # on minus the evaluations: higher is faster
        }
    return {
        "gravity": gravity,
        "turbulence": turbulence,
        "target_train_cvar10": target,
        "target_from": reference,
        "arms": per_arm,
        "pairs": pairs,
    }


def _steps(run: dict, target: float) -> float:
    reached = evaluations_to_target(run["curve"], target)
    return math.inf if reached is None else float(reached)


def format_ablation_table(result: dict) -> str:
    bound = (
        f"{result['evaluations']} training evaluations"
        if result["evaluations"]
        else f"{result['budget_s']:g} s"
    )
    lines = [
        f"{len(result['seeds'])} seeds per arm, {bound} per run; validation: "
        f"{result['validation_agents']} landers per seed that no arm trains on",
    ]
    for condition in result["conditions"]:
        lines += [
            "",
            f"gravity {condition['gravity']:g}, turbulence {condition['turbulence']:g} "
            f"(target: {condition['target_from']}'s median final training CVaR-10 "
            f"{condition['target_train_cvar10']:.1f})",
            "| arm | landed: median [q1, q3] | CVaR-10: median [q1, q3] | evaluations to "
            "target (median) | proposals that improved their parent |",
            "| --- | --- | --- | ---: | --- |",
        ]
        for arm, row in condition["arms"].items():
            s, c, rate = row["final_success"], row["final_cvar10"], row["improve_rate"]
            lines.append(
                f"| {arm} | {s['median']:.1%} [{s['q1']:.1%}, {s['q3']:.1%}] | "
                f"{c['median']:.1f} [{c['q1']:.1f}, {c['q3']:.1f}] | "
                f"{row['evals_to_target_median']:,.0f} | {rate['successes']}/{rate['trials']} "
                f"= {rate['rate']:.0%} [{rate['low']:.0%}, {rate['high']:.0%}] |"
            )
        for pair, stats in condition["pairs"].items():
            lines.append(
                f"{pair}: landed p = {stats['p_value']:.3f}, CVaR-10 p = "
                f"{stats['cvar10']['p_value']:.3f}, evaluations to target p = "
                f"{stats['evals_to_target']['p_value']:.3f}"
                + (f" ({stats['success']['note']})" if stats["success"]["note"] else "")
            )
    return "\n".join(lines)
