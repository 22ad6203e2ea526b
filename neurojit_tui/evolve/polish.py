"""Polishing the winner in the Gymnasium environment itself (``evolve --env ID --polish S``).

The native swarm is a different machine from Box2D's lander: the ranking on it predicts
the ranking there only in part (``evolve.fidelity``), so the last tuning of the winner's
constants is done where it will be judged. CMA-ES (``tuning.NormalizedCMA``) moves the
winner's numbers; each candidate is written back into the program text, compiled the
ordinary way and flown in the environment.

Every generation flies a fresh batch of training episodes (reset seeds no selection or
validation episode uses), the same batch for each of its candidates, so candidates are
compared on equal terms within a generation while the search as a whole never fits a
fixed handful of episodes. The polished program is the strategy's final centre, not the
luckiest candidate seen (on fresh episodes the best-looking candidate is mostly the
luckiest). Each generation also flies the centre and the unpolished winner on its batch,
which says, paired on the same episodes, whether the centre pulls ahead.

Whether the polished program replaces the winner is decided on paired episodes too
(``paired_comparison``): the held-out selection episodes, which the polish never flew,
and the batches of its last generations, on which each generation's centre (set by
earlier batches only) flew beside the winner. A hundred selection episodes alone cannot
tell a program that lands 99% of episodes from one that lands 95%: each crashes about
once in a hundred.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..gym.fly import FlightReport
from ..sim.report import Outcomes
from .evaluation import Structure
from .gym_judging import GymJudging
from .results import EvolveOptions
from .tuning import NormalizedCMA


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


def polish_fitness(objective: str) -> Callable[[Outcomes], float]:
    """What the polish maximises. return: the mean return, CVaR-10 breaking ties.
    landed: the landed rate weighs most (one more landing in 64 episodes outweighs a
    mean return a hundred points better), then the mean return, the environment's own
    order for finalists (``gym_judging.rank_key``)."""

    def fitness(o: Outcomes) -> float:
        if not o.ok or not math.isfinite(o.mean_score) or not math.isfinite(o.cvar10_score):
            return -math.inf
        if objective == "return":
            return o.mean_score + 0.01 * (0.5 + math.atan(o.cvar10_score / 100.0) / math.pi)
        return 100.0 * o.success_rate + 0.01 * o.mean_score

    return fitness


# Besides its candidates, each generation flies the unpolished winner and the centre.
PAIRED_FLIGHTS = 2


def seconds_to_finish(
    options: EvolveOptions, episodes: int, seconds: float, longest_generation: float = 0.0
) -> float:
    """The seconds one more polish generation and the flights after the polish (its
    selection check, the winner and the polished program, and the validation) will take,
    at the rate of ``episodes`` flown in ``seconds`` so far, the generation taking no less
    than ``longest_generation`` (a generation whose candidates hover until the step limit
    takes longer than the average one): the polish starts no generation it cannot finish
    in time, so that the whole run keeps to its budget."""
    if episodes <= 0 or seconds <= 0:
        return 0.0
    generation = (options.gym_polish_popsize + PAIRED_FLIGHTS) * options.gym_polish_episodes
    after = 2 * options.gym_selection_episodes + options.gym_validation_episodes
    return max(generation * seconds / episodes, longest_generation) + after * seconds / episodes


class GenerationClock:
    """The longest polish generation so far: ``tick()`` as each generation starts."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._last: float | None = None

    def tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.longest = max(self.longest, now - self._last)
        self._last = now


# How many of the polish's own paired episodes, besides the selection episodes, decide
# whether the polished program is kept: the last generations' batches that hold them.
PAIRED_HISTORY_EPISODES = 320


@dataclass
class GenerationRecord:
    """One polish generation's batch: the unpolished winner's and the strategy centre's
    fitness on it."""

    start_fitness: float
    centre_fitness: float


@dataclass
class Polished:
    text: str
    values: np.ndarray
    generations: int
    evaluations: int  # parameter vectors flown
    episodes: int  # Gymnasium episodes flown
    history: list[GenerationRecord] = field(default_factory=list)


@dataclass(frozen=True)
class PairedComparison:
    """The unpolished winner's and the polished program's fitness, each the
    episode-weighted mean over the same batches of episodes."""

    start_fitness: float
    polished_fitness: float
    episodes: int

    @property
    def keeps_polish(self) -> bool:
        """Strictly fitter keeps it; a tie, or a polished program an assert ended (its
        mean is -inf), keeps the winner."""
        return self.polished_fitness > self.start_fitness


def paired_comparison(
    history: list[GenerationRecord],
    batch_episodes: int,
    selection: GenerationRecord,
    selection_episodes: int,
) -> PairedComparison:
    """The winner against the polish on ``selection`` (both flown on the selection
    episodes) and on the last generations' batches of ``history`` that hold
    ``PAIRED_HISTORY_EPISODES`` episodes."""
    last = max(1, math.ceil(PAIRED_HISTORY_EPISODES / max(1, batch_episodes)))
    records = [*history[-last:], selection]
    weights = [batch_episodes] * (len(records) - 1) + [selection_episodes]

    def mean(values: list[float]) -> float:
        if any(v == -math.inf for v in values):
            return -math.inf
        return float(np.average(values, weights=weights))

    return PairedComparison(
        mean([r.start_fitness for r in records]),
        mean([r.centre_fitness for r in records]),
        sum(weights),
    )


def fitnesses_of(
    reports: list[FlightReport | None], fitness_of: Callable[[Outcomes], float]
) -> list[float]:
    """The polish fitness of each of ``GymJudging.fly_many``'s reports: a program the
    verifier refused (None) is worse than any that flew."""
    return [fitness_of(outcomes_of(r)) if r is not None else -math.inf for r in reports]


class _Flights:
    """Programs written from parameter vectors, flown together on one batch of
    episodes (one batch keeps every core busy until the last episode of all)."""

    def __init__(self, judging: GymJudging, structure: Structure, fitness_of):
        self.judging, self.structure, self.fitness_of = judging, structure, fitness_of
        self.evaluations = 0
        self.episodes = 0

    def fitnesses(self, vectors: list[np.ndarray], seeds: list[int]) -> list[float]:
        self.evaluations += len(vectors)
        texts = [self.structure.write(values) for values in vectors]
        reports = self.judging.fly_many(texts, "polished.mlir", seeds)
        self.episodes += sum(report.episodes for report in reports if report is not None)
        return fitnesses_of(reports, self.fitness_of)


def polish(
    judging: GymJudging,
    structure: Structure,
    start: np.ndarray,
    batch: Callable[[int], list[int]],
    generations: int,
    seed: int,
    fitness_of: Callable[[Outcomes], float],
    popsize: int = 10,
    sigma0: float = 0.15,
    should_stop: Callable[[], bool] = lambda: False,
) -> Polished:
    """CMA-ES from ``start`` for at most ``generations`` generations, generation ``g``
    flying the episodes ``batch(g)``. Deterministic for a given ``seed`` and number of
    generations."""
    start = np.asarray(start, dtype=np.float64)
    flights = _Flights(judging, structure, fitness_of)
    done = Polished(structure.write(start), start.copy(), 0, 0, 0)
    if len(start) == 0 or generations <= 0:
        return done
    search = NormalizedCMA(structure, start, popsize, sigma0, seed, generations)
    for generation in range(generations):
        if should_stop():
            break
        seeds = batch(generation)
        zs, values = search.ask()
        *scores, start_fitness, centre_fitness = flights.fitnesses(
            [*values, start, search.mean()], seeds
        )
        record = GenerationRecord(start_fitness, centre_fitness)
        search.tell(zs, scores)
        done.history.append(record)
        done.generations = generation + 1
    done.values = search.mean()
    done.text = structure.write(done.values)
    done.evaluations, done.episodes = flights.evaluations, flights.episodes
    return done
