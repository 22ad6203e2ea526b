"""``neurojit bench fidelity``: does the native swarm rank programs as Gymnasium's lander
will?

Per setting of ``bench gym``, a population (heuristic.mlir, pid.mlir and ``variants``
copies of each with their constants jittered, ``evolve.fidelity.perturbed_variants``) is
flown on the environment's episodes and on native landers in two conditions: the Moon's
(which ``evolve --env`` trained in before it had a twin, and still does when given
conditions) and the environment's twin (``gym.calibration.native_twin``). Reported: the
Spearman rank correlation of each native fitness (landed, then CVaR-10; the mean score)
with the environment's mean return. 1 would mean the swarm ranks as the environment does.
"""

from __future__ import annotations

from ..evolve.fidelity import correlate, gym_returns, native_outcomes, perturbed_variants
from ..gym.calibration import native_twin
from ..paths import controller_samples
from ..sim import model
from .gym import SETTINGS

POPULATION_SAMPLES = ("heuristic.mlir", "pid.mlir")


def bench_fidelity(
    names: list[str] | None = None,
    variants: int = 16,
    episodes: int = 50,
    agents: int = 256,
    seed: int = 0,
    log=print,
) -> dict:
    samples = [
        (str(p), p.read_text()) for p in controller_samples() if p.name in POPULATION_SAMPLES
    ]
    programs = perturbed_variants(samples, variants, seed=seed)
    rows = []
    for setting in (s for s in SETTINGS if names is None or s.name in names):
        log(f"{setting.name}: {len(programs)} programs on {episodes} episodes each")
        returns = gym_returns(programs, setting.env, episodes, seed)
        twin = native_twin(setting.env)
        assert twin is not None  # every bench gym setting is Box2D's lander
        for label, conditions in (("moon", model.Environment()), ("twin", twin)):
            natives = native_outcomes(programs, conditions, agents, seed)
            fidelity = correlate(natives, returns, episodes, agents)
            rows.append(
                {
                    "setting": setting.name,
                    "env": setting.env.label(),
                    "native": label,
                    "native_conditions": conditions.to_json(),
                    "programs": fidelity.programs,
                    "episodes": episodes,
                    "agents": agents,
                    "spearman_landed": fidelity.spearman_landed,
                    "spearman_return": fidelity.spearman_return,
                }
            )
            log(format_row(rows[-1]))
    return {"seed": seed, "variants": variants, "rows": rows}


def format_row(row: dict) -> str:
    return (
        f"  {row['setting']:<11} {row['native']:<5} Spearman landed fitness "
        f"{row['spearman_landed']:+.3f}, mean-score fitness {row['spearman_return']:+.3f}"
    )


def format_fidelity_table(result: dict) -> str:
    lines = [
        f"native fitness against Box2D's mean return, Spearman ({result['rows'][0]['programs']} "
        f"programs, {result['rows'][0]['episodes']} episodes, {result['rows'][0]['agents']} "
        "native landers each)"
        if result["rows"]
        else "no setting",
        f"{'setting':<11} {'native':<6} {'landed':>8} {'score':>8}",
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['setting']:<11} {row['native']:<6} {row['spearman_landed']:>+8.3f} "
            f"{row['spearman_return']:>+8.3f}"
        )
    return "\n".join(lines)
