"""The live single lander that the UI's lander view draws, frame by frame.

It runs ``model.step`` on one agent (numpy, one element per array) and calls the
controller through a ``ControllerSlot``, so a hot-swap takes effect at the next frame
and every frame says which controller flew it. Agent ``agent`` of seed ``seed`` meets
exactly the turbulence that agent meets in a swarm run with that seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..compiler.hotswap import ControllerSlot
from ..compiler.jit import AssertViolation
from . import model
from .numpy_ops import NumpyOps


@dataclass
class Frame:
    step: int
    state: dict  # model.STATE_FIELDS -> float, after this step
    action: tuple[float, float]  # what the controller asked for in this step
    controller_id: str
    wind: float  # m/s^2 lateral, for drawing
    violation: AssertViolation | None = None

    @property
    def outcome(self) -> str:
        return model.OUTCOME_NAMES[self.state["outcome"]]

    @property
    def done(self) -> bool:
        return self.state["done"] > 0.5

    @property
    def score(self) -> float:
        return self.state["score"]


class LiveLander:
    def __init__(
        self,
        slot: ControllerSlot,
        env: model.Environment | None = None,
        seed: int = 0,
        agent: int = 0,
        max_steps: int = model.MAX_STEPS,
    ):
        self.slot = slot
        self.env = env or model.Environment()
        self.seed = seed
        self.agent = agent
        self.max_steps = max_steps
        self.reset()

    def reset(self) -> None:
        self._numbers = np.array([self.agent], dtype=np.uint64)
        self._params, self._state = model.start(self.env, self.seed, self._numbers)
        self._constants = model.runtime_constants(self.env, self.max_steps)
        self.steps = 0

    @property
    def state(self) -> dict:
        return {name: float(value[0]) for name, value in self._state.items()}

    def step(self) -> Frame:
        """Advance one step (a finished episode stays where it ended)."""
        used = {}

        def control(obs, mem):
            action, mem_out, controller_id, violation = self.slot.step_identified(
                np.concatenate(obs), np.concatenate(mem)
            )
            used.update(action=action, controller_id=controller_id, violation=violation)
            return (
                [action[i : i + 1] for i in range(len(action))],
                [mem_out[i : i + 1] for i in range(len(mem_out))],
            )

        self._state = model.step(
            NumpyOps,
            self._state,
            self._params,
            self._constants,
            NumpyOps.u64(self.seed),
            self._numbers,
            NumpyOps.u64(self.steps),
            control,
        )
        self.steps += 1
        wind = float(self._params["wind_mean"][0] + self._state["wind_dev"][0])
        return Frame(
            self.steps,
            self.state,
            tuple(float(a) for a in used["action"]),
            used["controller_id"],
            wind,
            used["violation"],
        )

    def frames(self) -> Iterator[Frame]:
        """Frames until the episode ends."""
        while True:
            frame = self.step()
            yield frame
            if frame.done:
                return
