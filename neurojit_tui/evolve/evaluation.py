"""Flying candidates for the search: parametric kernels, cached by structure.

A ``Structure`` is one program's shape, compiled once into a parametric swarm kernel
(``sim.native.NativeSwarm(parametric=True)``); ``PopulationEvaluator.fly`` runs many
parameter vectors of it in one call on the training landers. Validation flies the
written-back *text* through the ordinary compile path on landers the search never saw,
so a reported score is the score of the program the user gets.
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
from ..sim.swarm import (Outcomes, SwarmReport, default_threads, evaluate, population_outcomes,
                         validation_seed)

# Seeds: the training landers are agents 0..N-1 of ``train_seed(S)``; validation uses
# ``validation_seed(S)`` (sim.swarm), a different stream of the counter-based generator,
# which the search never flies.


def train_seed(seed: int) -> int:
    return seed


def fitness(outcomes: Outcomes) -> float:
    """The swarm's robust ranking as one number, for CMA-ES (which uses only the order):
    the percentage landed, then CVaR-10 squeezed into less than one lander's worth, so
    no CVaR gain outweighs one more landing. Failures are -inf."""
    if not outcomes.ok or not math.isfinite(outcomes.cvar10_score):
        return -math.inf
    squeeze = 0.5 + math.atan(outcomes.cvar10_score / 100.0) / math.pi  # in (0, 1)
    return 100.0 * outcomes.success_rate + (100.0 / outcomes.agents) * 0.999 * squeeze


@dataclass
class Structure:
    """One program shape with its compiled parametric kernel."""

    key: str
    text: str  # the program as first seen (its numbers are the default parameters)
    path: str
    kernel: NativeSwarm
    compile_seconds: float

    @property
    def parameters(self):
        return self.kernel.parameters

    def write(self, values) -> str:
        """The program text with ``values`` in place of its tunable numbers."""
        return self.parameters.write_back(self.text, values)


class PopulationEvaluator:
    """Training evaluations for one search: fixed conditions, landers and threads."""

    def __init__(self, env: model.Environment, agents: int = 128, seed: int = 0,
                 threads: int | None = None, max_steps: int = model.MAX_STEPS,
                 timeout_s: float = 60.0, compiler: Compiler | None = None):
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
            lowered_key = self._key_of(text, path)
            if lowered_key in self._structures:
                return self._structures[lowered_key]
            kernel = NativeSwarm(text, path, self.compiler, parametric=True)
            seconds = time.perf_counter() - t0
            self.compile_seconds += seconds
            structure = Structure(lowered_key, text, path, kernel, seconds)
            self._structures[lowered_key] = structure
            return structure

    def _key_of(self, text: str, path: str) -> str:
        return self.compiler.parameters(text, path).structure_key(text)

    def fly(self, structure: Structure, thetas: np.ndarray) -> list[Outcomes]:
        """Training outcomes of each row of ``thetas``; a run past the time budget is a
        failure for every candidate in it (never a hang)."""
        t0 = time.perf_counter()
        thetas = np.atleast_2d(thetas)
        try:
            run = structure.kernel.run_population(self.env, thetas, self.agents, self.seed,
                                                  self.max_steps, self.threads, self.timeout_s)
            outcomes = population_outcomes(run)
        except SwarmTimeout as timeout:
            outcomes = [_failed(self.agents, str(timeout))] * len(thetas)
        self.evaluations += len(thetas)
        self.fly_seconds += time.perf_counter() - t0
        return outcomes


def _failed(agents: int, reason: str) -> Outcomes:
    return Outcomes(agents, 0, 0, 0, 0, 0.0, -math.inf, -math.inf, 0.0, reason)


def validate(text: str, path: str, env: model.Environment, seed: int, agents: int = 1000,
             compiler: Compiler | None = None, threads: int | None = None) -> SwarmReport:
    """The program as written, compiled the ordinary way, on validation landers."""
    return evaluate(text, path, env, agents=agents, seed=validation_seed(seed),
                    compiler=compiler, threads=threads)
