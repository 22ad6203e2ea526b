"""Tuning a structure's constants with CMA-ES (the ``cma`` library).

The search space is normalized per parameter: CMA-ES moves ``z`` and the program gets
``start + scale * z`` with ``scale = max(|start|, SCALE_FLOOR)``, so a gain of 20 and a
bound of 0.4 move by the same relative amount, and a parameter starting at 0 (a term a
mutation just added) can still grow. Each CMA-ES generation is one population run of
the parametric kernel. The start point is flown first, so a tuned result is never worse
on the training landers than the program it started from.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..sim.report import Outcomes
from .evaluation import PopulationEvaluator, Structure, fitness

SCALE_FLOOR = 0.5  # how far (in z = 1) a parameter that starts near 0 may move
LIMIT = 1e6  # parameters stay finite and printable


@dataclass
class Tuned:
    values: np.ndarray
    fitness: float
    outcomes: Outcomes  # of the best on the training landers
    evaluations: int
    generations: int
    history: list = field(default_factory=list)  # best fitness after each generation


class NormalizedCMA:
    """CMA-ES over ``structure``'s parameters in the normalized space of this module's
    docstring: ``ask`` gives candidates as program values (constrained, finite),
    ``tell`` takes their fitnesses (larger is better), ``mean`` is the strategy's
    current centre as program values. Deterministic for a given ``seed``."""

    def __init__(
        self,
        structure: Structure,
        start: np.ndarray,
        popsize: int,
        sigma0: float,
        seed: int,
        generations: int,
    ):
        with warnings.catch_warnings():  # cma warns that matplotlib (plots) is missing
            warnings.simplefilter("ignore")
            import cma

        self.structure = structure
        self.start = np.asarray(start, dtype=np.float64)
        self.dimension = len(self.start)
        self.scale = np.maximum(np.abs(self.start), SCALE_FLOOR)
        # cma does not optimise in one dimension: a second, ignored coordinate keeps it happy.
        padded = max(self.dimension, 2)
        options = {
            "seed": int(seed) % (2**31 - 2) + 1,
            "popsize": popsize,
            "verbose": -9,
            "maxiter": max(1, generations),
            "tolfun": 0,
            "tolx": 1e-12,
            "tolflatfitness": 10**9,
            "tolstagnation": 10**9,
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.strategy = cma.CMAEvolutionStrategy(np.zeros(padded), sigma0, options)

    def _values(self, zs) -> np.ndarray:
        values = np.clip(
            self.start + self.scale * np.atleast_2d(zs)[:, : self.dimension], -LIMIT, LIMIT
        )
        return np.array([self.structure.parameters.constrain(v) for v in values])

    def ask(self) -> tuple[list, np.ndarray]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zs = self.strategy.ask()
        return zs, self._values(zs)

    def tell(self, zs: list, scores: list[float]) -> None:
        # cma minimizes; a failed candidate is worse than any that flew
        losses = [-f if math.isfinite(f) else 1e9 for f in scores]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.strategy.tell(zs, losses)

    def mean(self) -> np.ndarray:
        return self._values(self.strategy.mean)[0]


def tune(
    evaluator: PopulationEvaluator | Any,
    structure: Structure,
    start: np.ndarray,
    generations: int,
    seed: int,
    popsize: int = 16,
    sigma0: float = 0.3,
    should_stop=lambda: False,
    fitness_of=fitness,
) -> Tuned:
    """CMA-ES on ``structure``'s parameters from ``start`` for ``generations``
    generations of ``popsize`` candidates, maximising ``fitness_of(outcomes)``;
    deterministic for a given ``seed``. ``evaluator``: anything with
    ``fly(structure, thetas) -> outcomes``."""
    start = np.asarray(start, dtype=np.float64)
    first = evaluator.fly(structure, start[None, :])[0]
    best = Tuned(start.copy(), fitness_of(first), first, 1, 0, [fitness_of(first)])
    if len(start) == 0 or generations <= 0:
        return best
    search = NormalizedCMA(structure, start, popsize, sigma0, seed, generations)
    for generation in range(generations):
        if should_stop():
            break
        zs, values = search.ask()
        outcomes = evaluator.fly(structure, values)
        scores = [fitness_of(o) for o in outcomes]
        best.evaluations += len(values)
        for v, o, f in zip(values, outcomes, scores):
            if f > best.fitness:
                best.values, best.fitness, best.outcomes = v.copy(), f, o
        search.tell(zs, scores)
        best.generations = generation + 1
        best.history.append(best.fitness)
    return best
