"""Polishing the winner in the Gymnasium environment itself (``evolve --env ID --polish S``).

The native swarm is a different machine from Box2D's lander: the ranking on it predicts
the ranking there only in part (``evolve.fidelity``), so the last tuning of the winner's
constants is done where it will be judged. CMA-ES (``tuning.tune``, unchanged) moves
the winner's numbers; each candidate is written back into the program text, compiled
the ordinary way and flown on the same training episodes of the environment (reset seeds
no selection or validation episode uses), so every candidate of a generation meets the
same episodes. The winner's own numbers are flown first, so polishing never returns
something worse on those episodes than what it started from; the held-out validation
episodes then say whether it really is better.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..compiler import CompileError
from ..gym.fly import FlightReport
from ..sim.report import Outcomes
from .evaluation import Structure
from .gym_judging import GymJudging
from .tuning import Tuned, tune


def outcomes_of(report: FlightReport) -> Outcomes:
    """A flight as the tuner reads it: landed as the success rate, the return as the
    score (a flight an assert ended is a failure)."""
    episodes = max(1, report.episodes)
    landed = round(report.landed * episodes)
    return Outcomes(
        episodes,
        landed,
        episodes - landed,
        0,
        0,
        report.landed,
        report.mean_return,
        report.cvar10 if math.isfinite(report.cvar10) else -math.inf,
        report.steps / episodes if report.steps else 0.0,
        report.violation.format() if report.violation is not None else None,
    )


class GymEvaluator:
    """``PopulationEvaluator``'s ``fly`` on Gymnasium episodes: one compile and one
    flight of the episodes per parameter vector."""

    def __init__(self, judging: GymJudging, seeds: list[int]):
        self.judging, self.seeds = judging, seeds
        self.evaluations = 0
        self.episodes = 0

    def fly(self, structure: Structure, thetas: np.ndarray) -> list[Outcomes]:
        results = []
        for theta in np.atleast_2d(thetas):
            text = structure.write(theta)
            try:
                report = self.judging.fly(text, "polished.mlir", self.seeds)
            except CompileError as error:  # values the verifier refuses
                results.append(_failed(len(self.seeds), str(error)))
                continue
            results.append(outcomes_of(report))
            self.episodes += report.episodes
        self.evaluations += len(results)
        return results


def _failed(episodes: int, reason: str) -> Outcomes:
    return Outcomes(episodes, 0, 0, 0, 0, 0.0, -math.inf, -math.inf, 0.0, reason)


@dataclass(frozen=True)
class Polished:
    text: str
    tuned: Tuned
    evaluations: int  # parameter vectors flown
    episodes: int  # Gymnasium episodes flown


def polish(
    judging: GymJudging,
    structure: Structure,
    start: np.ndarray,
    seeds: list[int],
    generations: int,
    seed: int,
    fitness_of: Callable[[Outcomes], float],
    popsize: int = 8,
    sigma0: float = 0.1,
    should_stop: Callable[[], bool] = lambda: False,
) -> Polished:
    evaluator = GymEvaluator(judging, seeds)
    tuned = tune(
        evaluator,
        structure,
        start,
        generations,
        seed,
        popsize=popsize,
        sigma0=sigma0,
        should_stop=should_stop,
        fitness_of=fitness_of,
    )
    return Polished(structure.write(tuned.values), tuned, evaluator.evaluations, evaluator.episodes)
