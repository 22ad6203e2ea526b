"""What one swarm run says about one controller (``swarm.evaluate`` fills it in).

A plain value, free of MLIR and the native kernels, so the engine can send it to the
workstation as it is and the UI process can read it.
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
