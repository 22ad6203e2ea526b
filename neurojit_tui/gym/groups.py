"""Several environments in one worker process of the parallel judge, as one Gymnasium
environment: ``EnvGroup``.

A message between the judge and a worker of ``gymnasium.vector.AsyncVectorEnv`` costs
more than a step of a small environment such as Box2D's LunarLander, so each worker
steps a group of environments per message. The group's action tells each member what to
do (``STEP`` with its action, ``RESET`` with a seed, or ``IDLE``); its observation holds
one row per member: the member's observation, then its reward, terminated, truncated and
landed flags (``LandingMonitor``). The group's own reward and termination mean nothing.

This module is what the worker processes import: nothing heavier than gymnasium.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces

from .environments import EnvSpec, make_unchecked

# The commands of a member, in the group's action["command"].
STEP, RESET, IDLE = 0, 1, 2
# The columns after a member's observation, in the group's observation.
REWARD, TERMINATED, TRUNCATED, LANDED = range(4)
EXTRA_COLUMNS = 4


class EnvGroup(gymnasium.Env):
    """``size`` environments of ``spec`` (each in a ``LandingMonitor``) stepped together."""

    def __init__(self, spec: EnvSpec, size: int):
        self.members = [make_unchecked(spec) for _ in range(size)]
        member = self.members[0]
        self.observation_size = int(np.prod(member.observation_space.shape))
        self.observation_space = spaces.Box(
            -np.inf, np.inf, shape=(size, self.observation_size + EXTRA_COLUMNS), dtype=np.float64
        )
        low, high = member.action_space.low, member.action_space.high
        self.action_space = spaces.Dict(
            {
                "action": spaces.Box(
                    np.tile(low, (size, 1)),
                    np.tile(high, (size, 1)),
                    dtype=member.action_space.dtype,
                ),
                "command": spaces.MultiDiscrete(np.full(size, 3)),
                "seed": spaces.Box(0, np.iinfo(np.int64).max, shape=(size,), dtype=np.int64),
            }
        )
        self._rows = np.zeros(self.observation_space.shape)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Resets every member: member ``j`` with ``seed + j`` (or none)."""
        super().reset(seed=seed)
        self._rows[:] = 0.0
        for j, member in enumerate(self.members):
            observation, _ = member.reset(seed=None if seed is None else seed + j)
            self._rows[j, : self.observation_size] = observation
        return self._rows.copy(), {}

    def step(self, action):
        for j, member in enumerate(self.members):
            command = action["command"][j]
            row = self._rows[j]
            if command == STEP:
                observation, reward, terminated, truncated, info = member.step(action["action"][j])
                row[: self.observation_size] = observation
                row[self.observation_size :] = (
                    reward,
                    terminated,
                    truncated,
                    bool(info.get("landed", False)),
                )
            elif command == RESET:
                observation, _ = member.reset(seed=int(action["seed"][j]))
                row[: self.observation_size] = observation
                row[self.observation_size :] = 0.0
        return self._rows.copy(), 0.0, False, False, {}

    def close(self):
        for member in self.members:
            member.close()


class EnvGroupFactory:
    """``EnvGroup(spec, size)`` as a picklable callable, for ``AsyncVectorEnv``."""

    def __init__(self, spec: EnvSpec, size: int):
        self.spec, self.size = spec, size

    def __call__(self) -> EnvGroup:
        return EnvGroup(self.spec, self.size)
