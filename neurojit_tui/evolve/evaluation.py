"""Flying candidates for the search: parametric kernels, cached by structure.

A ``Structure`` is one program's shape, compiled once into a parametric swarm kernel
(``sim.native.NativeSwarm(parametric=True)``); ``PopulationEvaluator.fly`` runs many
parameter vectors of it in one call on the training landers. ``ClusterEvaluator`` does
the same on a Ray cluster (``population_evaluator(..., cluster=ADDRESS)``), with the
same outcomes. Validation flies the written-back *text* through the ordinary compile
path on landers the search never saw, so a reported score is the score of the program
the user gets.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..compiler import Compiler
from ..sim import model
from ..sim.native import NativeSwarm, SwarmTimeout
from ..sim.swarm import (
    Outcomes,
    default_threads,
    population_outcomes,
)

# Seeds: the training landers are agents 0..N-1 of ``train_seed(S)``; validation uses
# ``validation_seed(S)`` (sim.swarm), a different stream of the counter-based generator,
# which the search never flies.


def train_seed(seed: int) -> int:
    return seed


# The search's finalists are judged again on landers of this seed (never validation's).
SELECTION_SEED_OFFSET = 0x5E1E_0000


def selection_seed(seed: int) -> int:
    return seed + SELECTION_SEED_OFFSET


def fitness(outcomes: Outcomes) -> float:
    """The swarm's robust ranking as one number, for CMA-ES (which uses only the order):
    the percentage landed, then CVaR-10 squeezed into less than one lander's worth, so
    no CVaR gain outweighs one more landing. Failures are -inf."""
    if not outcomes.ok or not math.isfinite(outcomes.cvar10_score):
        return -math.inf
    squeeze = 0.5 + math.atan(outcomes.cvar10_score / 100.0) / math.pi  # in (0, 1)
    return 100.0 * outcomes.success_rate + (100.0 / outcomes.agents) * 0.999 * squeeze


def return_fitness(outcomes: Outcomes) -> float:
    """For ``--objective return``: the mean score, which is Gymnasium's episode return
    (shaping, fuel cost, +-100 at the end) on the native lander, then CVaR-10 squeezed
    into less than a hundredth of a point. Failures are -inf."""
    if not outcomes.ok or not math.isfinite(outcomes.mean_score):
        return -math.inf
    cvar = outcomes.cvar10_score if math.isfinite(outcomes.cvar10_score) else -1e9
    return outcomes.mean_score + 0.01 * (0.5 + math.atan(cvar / 100.0) / math.pi)


OBJECTIVES = ("landed", "return")


def objective_fitness(objective: str):
    """The training fitness for an objective: ``fitness`` (landed, then CVaR-10) or
    ``return_fitness`` (mean score, then CVaR-10)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
    return return_fitness if objective == "return" else fitness


def training_fitness(objective: str, env_judged: bool):
    """The native swarm's fitness in a search: ``objective_fitness``, except that when a
    Gymnasium environment judges (``--env``) the swarm trains on the mean score whatever
    the objective. The environment then ranks the finalists and tunes the winner by the
    objective; ranked by its landings instead, the twin's swarm prefers programs that
    hover down, which land in Box2D too but burn the return (docs/evolution.md)."""
    by_objective = objective_fitness(objective)  # refuses an unknown objective either way
    return return_fitness if env_judged else by_objective


@dataclass
class Structure:
    """One program shape with its compiled parametric kernel (on a cluster: the
    workers hold the kernel, and ``kernel`` is None)."""

    key: str
    text: str  # the program as first seen (its numbers are the default parameters)
    path: str
    parameters: object  # compiler.parametric.ParameterTable
    kernel: NativeSwarm | None = None
    compile_seconds: float = 0.0

    def write(self, values) -> str:
        """The program text with ``values`` in place of its tunable numbers."""
        return self.parameters.write_back(self.text, values)


class PopulationEvaluator:
    """Training evaluations for one search: fixed conditions, landers and threads."""

    def __init__(
        self,
        env: model.Environment,
        agents: int = 128,
        seed: int = 0,
        threads: int | None = None,
        max_steps: int = model.MAX_STEPS,
        timeout_s: float = 60.0,
        compiler: Compiler | None = None,
    ):
        self.env, self.agents, self.seed = env, agents, train_seed(seed)
        self.threads = threads or default_threads()
        self.max_steps, self.timeout_s = max_steps, timeout_s
        self.compiler = compiler or Compiler()
        self.evaluations = 0
        self.fly_seconds = 0.0
        self.compile_seconds = 0.0
        self._structures: dict[str, Structure] = {}
        self._lock = threading.Lock()

    def structure(self, text: str, path: str) -> Structure:
        """The structure of ``text``, compiled once per shape (CompileError if it
        does not compile)."""
        with self._lock:
            t0 = time.perf_counter()
            table = self.compiler.parameters(text, path)
            key = table.structure_key(text)
            if key in self._structures:
                return self._structures[key]
            structure = self._build(key, text, path, table)
            structure.compile_seconds = time.perf_counter() - t0
            self.compile_seconds += structure.compile_seconds
            self._structures[key] = structure
            return structure

    def _build(self, key: str, text: str, path: str, table) -> Structure:
        kernel = NativeSwarm(text, path, self.compiler, parametric=True)
        return Structure(key, text, path, kernel.parameters, kernel)

    def _run(self, structure: Structure, thetas: np.ndarray):
        return structure.kernel.run_population(
            self.env, thetas, self.agents, self.seed, self.max_steps, self.threads, self.timeout_s
        )

    def on_landers(self, agents: int, seed: int) -> PopulationEvaluator:
        """An evaluator like this one (the same machine or cluster, conditions and
        compiler) for other landers: the search's selection set."""
        return PopulationEvaluator(
            self.env, agents, seed, self.threads, self.max_steps, self.timeout_s, self.compiler
        )

    def report(self) -> dict:
        """Where the evaluations ran (empty on one machine; per node on a cluster)."""
        return {}

    def close(self) -> None:
        """Release what the evaluator holds beyond this process (a cluster's workers)."""

    def fly(self, structure: Structure, thetas: np.ndarray) -> list[Outcomes]:
        """Training outcomes of each row of ``thetas``; a run past the time budget is a
        failure for every candidate in it (never a hang)."""
        t0 = time.perf_counter()
        thetas = np.atleast_2d(thetas)
        try:
            outcomes = population_outcomes(self._run(structure, thetas))
        except SwarmTimeout as timeout:
            outcomes = [_failed(self.agents, str(timeout))] * len(thetas)
        self.evaluations += len(thetas)
        self.fly_seconds += time.perf_counter() - t0
        return outcomes


class ClusterEvaluator(PopulationEvaluator):
    """``PopulationEvaluator`` on a Ray cluster (``cluster.scheduler.RayCluster``): the
    driver verifies each program and lifts its parameters; only the verified text goes
    to the workers, which compile it once per structure and fly batches of (parameter
    rows, agent range). Every candidate's outcomes equal the local evaluator's."""

    def __init__(
        self,
        env: model.Environment,
        cluster,
        agents: int = 128,
        seed: int = 0,
        max_steps: int = model.MAX_STEPS,
        timeout_s: float = 60.0,
        compiler: Compiler | None = None,
    ):
        super().__init__(env, agents, seed, cluster.threads, max_steps, timeout_s, compiler)
        self.cluster = cluster

    def _spec(self, structure: Structure):
        from ..cluster.actors import WorkSpec

        return WorkSpec(
            structure.key, structure.text, structure.path, True, self.env, self.seed, self.max_steps
        )

    def _build(self, key: str, text: str, path: str, table) -> Structure:
        structure = Structure(key, text, path, table)
        self.cluster.compile(self._spec(structure))  # CompileError as on one machine
        return structure

    def _run(self, structure: Structure, thetas: np.ndarray):
        return self.cluster.fly_population(
            self._spec(structure), thetas, self.agents, self.timeout_s
        )

    def on_landers(self, agents: int, seed: int) -> ClusterEvaluator:
        return ClusterEvaluator(
            self.env, self.cluster, agents, seed, self.max_steps, self.timeout_s, self.compiler
        )

    def report(self) -> dict:
        return self.cluster.report()

    def close(self) -> None:
        self.cluster.close()


def population_evaluator(
    env: model.Environment,
    agents: int = 128,
    seed: int = 0,
    threads: int | None = None,
    cluster: str | None = None,
    granularity: str = "node",
) -> PopulationEvaluator:
    """The local evaluator, or with ``cluster`` (an address, or ``auto``) one on that Ray
    cluster (ClusterError if it cannot be used). Ray is imported only for a cluster."""
    if cluster in (None, "", "none"):
        return PopulationEvaluator(env, agents, seed, threads)
    from ..cluster.scheduler import RayCluster

    return ClusterEvaluator(env, RayCluster(cluster, granularity), agents, seed)


def _failed(agents: int, reason: str) -> Outcomes:
    return Outcomes(agents, 0, 0, 0, 0, 0.0, -math.inf, -math.inf, 0.0, reason)
