"""A Gymnasium environment as the search's judge (``neurojit evolve --env ID``).

The native swarm stays the training loop; the environment chooses among the finalists
and validates the winner, each on episodes of its own reset seeds, which neither the
training landers nor the other use. Programs are flown as written, compiled the
ordinary way, by the parallel judge (``gym.judge.Judge``), one per run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..compiler import CompileError, Compiler
from ..gym.calibration import native_twin
from ..gym.environments import EnvSpec, make_env
from ..gym.fly import FlightReport
from ..gym.judge import Judge
from ..sim import model
from .results import EvolveOptions, GymScores

# Episode i of a run of seed S is reset with OFFSET + S + i; the three sets never meet for
# fewer than 2**24 episodes each.
GYM_SELECTION_OFFSET = 0x6E00_0000
GYM_VALIDATION_OFFSET = 0x6F00_0000
GYM_TRAINING_OFFSET = 0x7000_0000  # the polish step's episodes (polish.py)
EPISODE_SEEDS = 2**63


def episode_seeds(offset: int, seed: int, episodes: int) -> list[int]:
    return [(offset + seed + i) % EPISODE_SEEDS for i in range(episodes)]


def selection_episodes(options: EvolveOptions) -> list[int]:
    return episode_seeds(GYM_SELECTION_OFFSET, options.seed, options.gym_selection_episodes)


def validation_episodes(options: EvolveOptions) -> list[int]:
    return episode_seeds(GYM_VALIDATION_OFFSET, options.seed, options.gym_validation_episodes)


def env_spec(options: EvolveOptions) -> EnvSpec | None:
    """The options' Gymnasium environment, None for a native run."""
    if options.env_id is None:
        return None
    return EnvSpec.of(options.env_id, dict(options.env_args))


def training_conditions(conditions: model.Environment, options: EvolveOptions) -> model.Environment:
    """What the native swarm trains in: ``conditions``, or, judged in a Gymnasium
    environment that has a twin (``gym.calibration.native_twin``) and with
    ``options.native_twin``, that twin: the model with the environment's mechanics, so
    that the native ranking predicts the environment's."""
    spec = env_spec(options)
    if spec is None or not options.native_twin:
        return conditions
    return native_twin(spec) or conditions


def env_fields(spec: EnvSpec | None) -> dict[str, Any]:
    """``EvolveOptions`` keyword arguments naming ``spec``."""
    if spec is None:
        return {"env_id": None, "env_args": ()}
    return {"env_id": spec.id, "env_args": spec.args}


def check_env(spec: EnvSpec) -> None:
    """Make the environment once and close it: ``FlightError`` (one line) if it cannot be
    made or its spaces do not fit the controller ABI."""
    make_env(spec).close()


def rank_key(report: FlightReport, objective: str) -> tuple[float, float]:
    """Larger is better. landed: landed rate, then mean return; return: mean return,
    then CVaR-10. A flight an assert ended ranks below every other."""
    if report.violation is not None or not report.episodes:
        return (-math.inf, -math.inf)
    if objective == "return":
        return (report.mean_return, report.cvar10)
    return (report.landed, report.mean_return)


def scores_rank_key(scores: GymScores, objective: str) -> tuple[float, float]:
    """``rank_key`` of flights already summed up as ``GymScores``."""
    if scores.failure is not None or not scores.episodes:
        return (-math.inf, -math.inf)
    cvar = scores.cvar10 if scores.cvar10 is not None else -math.inf
    if objective == "return":
        return (scores.mean_return, cvar)
    return (scores.landed, scores.mean_return)


def gym_scores(report: FlightReport, spec: EnvSpec) -> GymScores:
    seeds = [s for s in report.seeds if s is not None]
    return GymScores(
        spec.label(),
        report.episodes,
        report.mean_return,
        report.cvar10 if math.isfinite(report.cvar10) else None,
        report.landed,
        report.solved,
        (seeds[0], seeds[-1]) if seeds else (0, -1),
        report.violation.format() if report.violation is not None else None,
    )


def admission_scores(report: FlightReport) -> dict[str, Any]:
    """A flight as ``memory.admission`` compares scores: landed as the success rate, the
    mean return as the mean score."""
    return {
        "success_rate": report.landed,
        "mean_score": report.mean_return,
        "cvar10_score": report.cvar10 if math.isfinite(report.cvar10) else None,
        "failure": report.violation.format() if report.violation is not None else None,
        "agents": report.episodes,
        "episodes": report.episodes,
        "solved": report.solved,
    }


class GymJudging:
    """One run's judge: the environment's worker processes, started once; close it."""

    def __init__(self, spec: EnvSpec, workers: int | None = None, compiler=None):
        self.spec = spec
        self.compiler = compiler or Compiler()
        self.judge = Judge(spec, workers=workers)
        self.episodes = 0  # flown so far, and the seconds their flights took
        self.seconds = 0.0

    def fly(self, text: str, path: str, seeds: Sequence[int]) -> FlightReport:
        """``text`` compiled the ordinary way, flown for one episode per seed
        (``CompileError`` if it does not compile)."""
        program = self.compiler.compile(text, path, require_control=True)
        report = self.judge.fly(program, seeds)
        self.episodes += report.episodes
        self.seconds += report.seconds
        return report

    def fly_many(self, texts: Sequence[str], path: str, seeds: Sequence[int]) -> list:
        """Each text compiled the ordinary way and those that compile flown together, one
        episode per seed each, in one batch (``Judge.fly_many``): a ``FlightReport``
        per text, None for one that does not compile."""
        programs = []
        for text in texts:
            try:
                programs.append(self.compiler.compile(text, path, require_control=True))
            except CompileError:
                programs.append(None)
        flown = [program for program in programs if program is not None]
        reports = iter(self.judge.fly_many(flown, seeds) if flown else [])
        results = [next(reports) if program is not None else None for program in programs]
        self.episodes += sum(r.episodes for r in results if r is not None)
        self.seconds += sum(r.seconds for r in results if r is not None)
        return results

    def close(self) -> None:
        self.judge.close()

    def __enter__(self) -> GymJudging:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
