"""The memory of edits that helped: what the search learns from its own history.

When a proposed structural edit (a change, on an observation, for an engine) gives a
child fitter than its parent, the search records it with how the parent failed (the
share of each failure kind on a few landers), what the parent was and the conditions.
A later proposal for a parent that fails in a similar way, under similar conditions,
gets the closest such records as examples in the model's prompt.

Layout: ``<registry>/edits/<created_ns>-<pid>-<n>.json``, one record per file, written
to the registry's ``tmp/``, fsynced and renamed like the registry's entries (so a crash
never leaves half a record and processes sharing it lose none). A file that does not
read as a record is skipped.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

_counter = itertools.count()


@dataclass(frozen=True)
class EditRecord:
    """One edit that made a child fitter than its parent."""

    gravity: float
    turbulence: float
    failures: dict[str, float]  # failure kind -> share of the landers flown
    parent: str  # what the parent was, in words (its features)
    change: str  # as the proposal grammar names it, e.g. "add a term"
    observation: str
    engine: str  # "main" or "lateral"
    fitness_before: float
    fitness_after: float
    created: float = field(default_factory=time.time)

    @property
    def gain(self) -> float:
        return self.fitness_after - self.fitness_before

    def describe(self) -> str:
        """The record as a line of a few-shot example."""
        failing = ", ".join(
            f"{kind} {share:.0%}" for kind, share in sorted(self.failures.items()) if share
        )
        return (
            f"a controller that {self.parent}, failing with {failing or 'no failure'} "
            f"(gravity {self.gravity:g}, turbulence {self.turbulence:g}): "
            f'"{self.change}" on {self.observation} for the {self.engine} engine raised '
            f"its fitness from {self.fitness_before:.1f} to {self.fitness_after:.1f}"
        )


def distance(a: EditRecord, b: EditRecord) -> float:
    """How unlike two situations are: the failure shares (L1) plus the conditions."""
    kinds = set(a.failures) | set(b.failures)
    failures = sum(abs(a.failures.get(k, 0.0) - b.failures.get(k, 0.0)) for k in kinds)
    conditions = abs(a.gravity - b.gravity) / max(a.gravity, 0.1) + abs(a.turbulence - b.turbulence)
    return failures + conditions


class EditMemory:
    def __init__(self, root: str | Path):
        """``root``: the registry's folder (records go to its ``edits/``)."""
        self.root = Path(root)

    @property
    def folder(self) -> Path:
        return self.root / "edits"

    def add(self, record: EditRecord) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{os.getpid()}-{next(_counter)}.json"
        tmp = tmp_dir / f"edit-{name}.tmp"
        with open(tmp, "w") as file:
            json.dump(asdict(record), file, sort_keys=True)
            file.flush()
            os.fsync(file.fileno())
        path = self.folder / name
        os.replace(tmp, path)
        return path

    def records(self) -> list[EditRecord]:
        try:
            paths = sorted(self.folder.glob("*.json"))
        except OSError:
            return []
        records = []
        names = {f.name for f in fields(EditRecord)}
        for path in paths:
            try:
                data: Any = json.loads(path.read_text())
                records.append(EditRecord(**{k: v for k, v in data.items() if k in names}))
            except (OSError, ValueError, TypeError, AttributeError):
                continue  # gone meanwhile, or not a record: never a reason to fail
        return records

    def similar(self, situation: EditRecord, count: int = 2) -> list[EditRecord]:
        """The ``count`` records of edits that helped in the situations most like
        ``situation`` (whose change and fitness fields are not read)."""
        helped = [r for r in self.records() if r.gain > 0]
        return sorted(helped, key=lambda r: (distance(r, situation), -r.gain))[:count]
