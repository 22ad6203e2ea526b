"""The numpy reference simulation: readable, vectorized over agents, the baseline.

It runs ``model.step`` on numpy arrays (one element per agent) and evaluates the
controller with TensorLang's numpy reference semantics, so no compiled code is
involved: it is what the native kernel is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compiler.reference import BatchedAssertFailure, ReferenceProgram
from . import model
from .numpy_ops import NumpyOps


@dataclass
class RunResult:
    """Final per-agent state of a swarm run (arrays named by ``model.STATE_FIELDS``)."""

    state: dict
    seconds: float = 0.0
    assert_failure: object = None  # a BatchedAssertFailure / AssertViolation, or None
    trigger: dict | None = None  # the first assert failure: {"agent", "step", "obs"}
    trajectory: list = field(default_factory=list)  # per step, a copy of the state

    @property
    def agents(self) -> int:
        return len(self.state["x"])

    @property
    def agent_steps(self) -> int:
        return int(self.state["steps"].sum())


def agent_numbers(agents: int, first: int = 0) -> np.ndarray:
    return np.arange(first, first + agents, dtype=np.uint64)


def simulate_reference(
    program: ReferenceProgram,
    env: model.Environment,
    agents: int,
    seed: int,
    max_steps: int = model.MAX_STEPS,
    record_trajectory: bool = False,
) -> RunResult:
    """Run ``agents`` landers to the end of their episodes with ``@control`` of
    ``program``. An assert failure stops the run (the candidate is disqualified)."""
    import time

    start = time.perf_counter()
    numbers = agent_numbers(agents)
    params, state = model.start(env, seed, numbers)
    constants = model.runtime_constants(env, max_steps)
    failures: list[BatchedAssertFailure] = []
    result = RunResult(state)
    now = {"step": 0}

    def control(obs, mem):
        observations = np.stack(obs, axis=1)
        (action, mem_out), failure = program.call("control", observations, np.stack(mem, axis=1))
        if failure is not None and not failures:
            failures.append(failure)
            agent = int(np.flatnonzero(failure.rows)[0])
            result.trigger = {
                "agent": agent,
                "step": now["step"],
                "obs": observations[agent].tolist(),
            }
        return [action[:, i] for i in range(action.shape[1])], [
            mem_out[:, i] for i in range(mem_out.shape[1])
        ]

    seed64 = NumpyOps.u64(seed)
    for t in range(max_steps):
        now["step"] = t
        if state["done"].min() > 0.5:
            break
        state = model.step(
            NumpyOps, state, params, constants, seed64, numbers, NumpyOps.u64(t), control
        )
        if record_trajectory:
            result.trajectory.append({k: v.copy() for k, v in state.items()})
        if failures:
            break
    result.state = state
    result.assert_failure = failures[0] if failures else None
    result.seconds = time.perf_counter() - start
    return result
