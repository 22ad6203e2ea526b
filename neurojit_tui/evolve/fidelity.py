"""How well the native swarm's training fitness predicts a Gymnasium environment's return:
the Spearman rank correlation over a population of programs (``rank_correlation``), and
a population to measure it on (``perturbed_variants``: the samples' constants jittered).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..gym.environments import EnvSpec
from ..sim import model
from ..sim.report import Outcomes
from .evaluation import PopulationEvaluator, fitness, return_fitness
from .gym_judging import GYM_TRAINING_OFFSET, GymJudging, episode_seeds


@dataclass(frozen=True)
class Fidelity:
    """Per program: the native fitnesses and the environment's mean return; and their
    Spearman rank correlations."""

    programs: int
    episodes: int
    native_agents: int
    landed_fitness: tuple[float, ...]
    return_fitness: tuple[float, ...]
    gym_mean_return: tuple[float, ...]
    spearman_landed: float  # of fitness() (landed, then CVaR-10) against the mean return
    spearman_return: float  # of return_fitness() (the mean score) against the mean return


def _finite(values: Sequence[float]) -> np.ndarray:
    """-inf (a failure) below every finite value, for a rank correlation."""
    array = np.asarray(values, dtype=np.float64)
    floor = np.min(array[np.isfinite(array)], initial=0.0) - 1.0
    return np.where(np.isfinite(array), array, floor)


def native_outcomes(
    programs: Sequence[tuple[str, str]], env: model.Environment, agents: int = 256, seed: int = 0
) -> list[Outcomes]:
    """Each (path, text) of ``programs`` flown on ``agents`` native landers of ``seed``."""
    evaluator = PopulationEvaluator(env, agents, seed)
    outcomes: list[Outcomes] = []
    for path, text in programs:
        structure = evaluator.structure(text, path)  # compiled once per shape
        theta = evaluator.compiler.parameters(text, path).initial  # this text's numbers
        outcomes.append(evaluator.fly(structure, np.array([theta]))[0])
    return outcomes


def gym_returns(
    programs: Sequence[tuple[str, str]], spec: EnvSpec, episodes: int = 50, seed: int = 0
) -> list[float]:
    """Each program's mean return on ``episodes`` episodes of ``spec`` (seeds no search
    flies)."""
    seeds = episode_seeds(GYM_TRAINING_OFFSET + 0x100_0000, seed, episodes)
    with GymJudging(spec) as judging:
        return [judging.fly(text, path, seeds).mean_return for path, text in programs]


def correlate(
    natives: Sequence[Outcomes],
    returns: Sequence[float],
    episodes: int,
    agents: int,
    fitnesses: Sequence[Callable[[Outcomes], float]] = (fitness, return_fitness),
) -> Fidelity:
    """Rank-correlate each native fitness of ``natives`` with the mean ``returns``."""
    from scipy.stats import spearmanr

    landed_fitness, return_fit = ([f(o) for o in natives] for f in fitnesses)
    gym = _finite(returns)
    return Fidelity(
        len(natives),
        episodes,
        agents,
        tuple(landed_fitness),
        tuple(return_fit),
        tuple(returns),
        float(spearmanr(_finite(landed_fitness), gym).statistic),
        float(spearmanr(_finite(return_fit), gym).statistic),
    )


def rank_correlation(
    programs: Sequence[tuple[str, str]],
    env: model.Environment,
    spec: EnvSpec,
    episodes: int = 50,
    agents: int = 256,
    seed: int = 0,
) -> Fidelity:
    """Fly each (path, text) of ``programs`` on ``agents`` native landers of ``seed`` in
    ``env`` and on ``episodes`` episodes of ``spec``; rank-correlate each native fitness
    with the mean return."""
    natives = native_outcomes(programs, env, agents, seed)
    return correlate(natives, gym_returns(programs, spec, episodes, seed), episodes, agents)


def perturbed_variants(
    samples: Sequence[tuple[str, str]], count: int, scale: float = 0.3, seed: int = 0
) -> list[tuple[str, str]]:
    """``count`` variants of each sample, every tunable number multiplied by
    ``exp(scale * N(0, 1))`` (its sign and zeros kept), plus the samples themselves."""
    from ..compiler import Compiler

    compiler = Compiler()
    rng = np.random.default_rng(seed)
    variants = list(samples)
    for path, text in samples:
        table = compiler.parameters(text, path)
        start = np.asarray(table.initial, dtype=np.float64)
        for i in range(count):
            values = start * np.exp(scale * rng.standard_normal(len(start)))
            values = table.constrain(values)
            variants.append((f"{path}#{i}", table.write_back(text, values)))
    return variants
