"""What one swarm run says about one controller (``swarm.evaluate`` fills it in), and
what a population run says about each of its candidates (``Outcomes``).

Plain values, free of MLIR and the native kernels, so the engine can send them to the
workstation as they are (a search's best carries its ``Outcomes``) and the UI process
can read them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..compiler.diagnostics import Diagnostic
from ..compiler.jit import AssertViolation

HISTOGRAM_BINS = 12


@dataclass
class SwarmReport:
    """JSON keys are fixed (CLI, agents): ``to_json`` writes an assert violation as the
    one entry of "diagnostics", as it always has."""

    file: str
    agents: int
    landed: int = 0
    crashed: int = 0
    out_of_bounds: int = 0
    timed_out: int = 0  # still flying when the step limit came
    solved: int = 0  # episodes scoring >= 200, Gymnasium's "solved"
    success_rate: float = 0.0  # landed / agents
    mean_score: float = -math.inf
    worst_score: float = -math.inf
    cvar10_score: float = -math.inf  # mean of the worst 10% of scores
    seconds: float = 0.0
    agent_steps: int = 0
    agent_steps_per_s: float = 0.0
    compile_seconds: float = 0.0
    seed: int = 0
    threads: int = 1
    environment: dict = field(default_factory=dict)
    failure: str | None = None  # why the candidate failed outright, if it did
    diagnostics: list[Diagnostic] = field(default_factory=list)  # why it does not compile
    trigger: dict | None = None  # for an assert failure: {"agent", "step", "obs"} that set it off
    # the scores' distribution: {"edges": [HISTOGRAM_BINS + 1 floats], "counts": [HISTOGRAM_BINS]}
    score_histogram: dict | None = None
    assert_violation: AssertViolation | None = None  # the assert the run failed, if one did

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_json(self) -> dict:
        data = asdict(self)
        del data["assert_violation"]
        data["diagnostics"] = [d.to_json() for d in self.diagnostics] or (
            [self.assert_violation.to_json()] if self.assert_violation else []
        )
        for key in ("mean_score", "worst_score", "cvar10_score"):
            if not math.isfinite(data[key]):
                data[key] = None  # JSON has no infinities
        return data

    def rank_key(self) -> tuple:
        """Sort ascending by this: failures last, then success rate, then CVaR."""
        return (not self.ok, -self.success_rate, -self.cvar10_score, -self.mean_score)


@dataclass(frozen=True)
class Outcomes:
    """What a population run says about one candidate: a SwarmReport's statistics
    without the histogram and the per-run extras (a search scores thousands)."""

    agents: int
    landed: int
    crashed: int
    out_of_bounds: int
    timed_out: int
    success_rate: float
    mean_score: float
    cvar10_score: float
    mean_steps: float
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def rank_key(self) -> tuple:
        return (not self.ok, -self.success_rate, -self.cvar10_score, -self.mean_score)

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("mean_score", "cvar10_score"):
            if not math.isfinite(data[key]):
                data[key] = None
        return data

    def describe(self) -> str:
        if not self.ok:
            return f"failed: {self.failure}"
        return (
            f"landed {self.landed}/{self.agents}, crashed {self.crashed}, out of bounds "
            f"{self.out_of_bounds}, still flying {self.timed_out}; mean score "
            f"{self.mean_score:.1f}, CVaR-10 {self.cvar10_score:.1f}"
        )
