"""The program database: islands of tuned structures, an archive of diverse ones, and a
record of every candidate that failed.

Islands evolve apart (each keeps its ``capacity`` fittest members) and exchange their
best every few generations (ring migration), which keeps one lucky structure from
taking over every island early. The archive keeps the fittest member of each feature
cell (which observations it reads, whether it keeps state, its size), so a structure
that is different but not yet the best survives as a parent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..sim.report import Outcomes
from .program import Features
from .results import FailedCandidate, LineageStep


@dataclass
class Individual:
    """One tuned program in the database."""

    id: str
    text: str  # with its tuned values written in
    structure_key: str
    values: list[float]
    fitness: float  # on the training landers
    train: Outcomes
    features: Features
    parents: list[str]
    mutation: str  # how it was made ("seed", an operator's name, "llm")
    description: str
    generation: int
    source: str = ""  # the seed file or registry entry it descends from, for seeds

    def lineage_step(self) -> LineageStep:
        return LineageStep(
            self.id,
            tuple(self.parents),
            self.mutation,
            self.description,
            self.generation,
            self.structure_key,
            tuple(self.values),
            self.source,
            self.fitness,
        )


class ProgramDatabase:
    def __init__(self, islands: int, capacity: int):
        self.islands: list[list[Individual]] = [[] for _ in range(max(1, islands))]
        self.capacity = max(1, capacity)
        self.archive: dict[tuple, Individual] = {}
        self.failures: list[FailedCandidate] = []
        self.all: dict[str, Individual] = {}

    def add(self, island: int, individual: Individual) -> bool:
        """Put ``individual`` on ``island`` if there is room or it beats the island's
        worst; the archive keeps it if it is its cell's best. True if it was kept."""
        self.all[individual.id] = individual
        cell = individual.features.cell
        if cell not in self.archive or individual.fitness > self.archive[cell].fitness:
            self.archive[cell] = individual
        members = self.islands[island]
        if any(m.text == individual.text for m in members):
            return False
        if len(members) < self.capacity:
            members.append(individual)
            return True
        worst = min(range(len(members)), key=lambda i: members[i].fitness)
        if individual.fitness > members[worst].fitness:
            members[worst] = individual
            return True
        return False

    def select(self, island: int, rng: np.random.Generator) -> Individual:
        """A parent: a tournament of two on the island, or now and then an archive
        member (diversity)."""
        members = self.islands[island]
        if self.archive and (not members or rng.random() < 0.2):
            cells = sorted(self.archive, key=repr)
            return self.archive[cells[int(rng.integers(len(cells)))]]
        a, b = (members[int(rng.integers(len(members)))] for _ in range(2))
        return a if a.fitness >= b.fitness else b

    def migrate(self) -> None:
        """Ring migration: each island's best goes to the next island."""
        bests = [max(m, key=lambda i: i.fitness) for m in self.islands if m]
        if len(bests) != len(self.islands) or len(self.islands) < 2:
            return
        for k, best in enumerate(bests):
            self.add((k + 1) % len(self.islands), best)

    def living(self) -> list[Individual]:
        """Every program still in play: on an island or kept by the archive (once each)."""
        alive = {id(m): m for m in self.members()}
        alive.update({id(m): m for m in self.archive.values()})
        return list(alive.values())

    def members(self) -> list[Individual]:
        return [m for island in self.islands for m in island]

    def best(self) -> Individual | None:
        members = self.members()
        return (
            max(members, key=lambda i: (i.fitness, -int(i.id.split("-")[-1]))) if members else None
        )
