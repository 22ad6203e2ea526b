"""``NeuroJIT/LunarLander-v0``: the project's lander as a Gymnasium environment.

The physics is ``sim/model.py``, the one the swarm and the workstation fly, run with numpy
for one lander. Observation and action follow Gymnasium's LunarLanderContinuous: the
observation is its normalised 8-vector (float64 here: the model computes in float64 and
the controller ABI reads float64), the action is [main engine, lateral engine] in
[-1, 1]. The reward is Gymnasium's (shaping, fuel, +-100 at the end); the episode
terminates on landing, a crash or leaving the screen. The step limit is Gymnasium's
``TimeLimit`` (1000 steps, as registered), not the model's.

Each episode is one lander of the model: on ``reset`` the environment's random generator
draws the episode's noise seed, and the lander is agent 0 of that seed. So
``reset(seed=s)`` fixes the whole sequence of episodes, and the vector environment's
sub-environment ``i`` reset with ``seed=s`` flies exactly this environment's episodes
reset with ``seed=s + i``.
"""

from __future__ import annotations

import dataclasses
import math

import gymnasium
import numpy as np
from gymnasium import spaces

from ..sim import model
from ..sim.numpy_ops import NumpyOps

# Gymnasium LunarLander's observation bounds (like its, ours can leave them in a wild flight).
OBSERVATION_LOW = np.array([-2.5, -2.5, -10.0, -10.0, -2 * math.pi, -10.0, 0.0, 0.0])
OBSERVATION_HIGH = np.array([2.5, 2.5, 10.0, 10.0, 2 * math.pi, 10.0, 1.0, 1.0])
# The model's own step limit is switched off: the time limit is the TimeLimit wrapper's
# (single environment) or ``max_episode_steps`` (vector environment), as in Gymnasium.
NO_STEP_LIMIT = float(2**53)
EPISODE_SEEDS = 2**63  # episode seeds are drawn below this (the kernel's seed is an i64)


def observation_space() -> spaces.Box:
    return spaces.Box(OBSERVATION_LOW, OBSERVATION_HIGH, dtype=np.float64)


def action_space() -> spaces.Box:
    """Gymnasium LunarLanderContinuous's action space, float32 like its."""
    return spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)


def physics(gravity: float, turbulence: float, other: dict) -> model.Environment:
    """The model's ``Environment`` from ``gymnasium.make`` keyword arguments."""
    known = {f.name for f in dataclasses.fields(model.Environment)}
    unknown = set(other) - known
    if unknown:
        raise TypeError(
            f"unknown lander setting(s) {', '.join(sorted(unknown))}; "
            f"settings: {', '.join(sorted(known))}"
        )
    for name, value in {"gravity": gravity, "turbulence": turbulence, **other}.items():
        bound = "> 0" if name == "fuel_seconds" else ">= 0"  # the model divides by the fuel
        if not (
            isinstance(value, (int, float))
            and math.isfinite(value)
            and (value > 0 if bound == "> 0" else value >= 0)
        ):
            raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return model.Environment(
        gravity=float(gravity),
        turbulence=float(turbulence),
        **{k: float(v) for k, v in other.items()},
    )


def observations(state: dict) -> np.ndarray:
    """The observation of every lander in ``state`` (one row each)."""
    return np.stack(model.observe(NumpyOps, state), axis=1)


def episode_seed(generator: np.random.Generator) -> int:
    return int(generator.integers(EPISODE_SEEDS))


def outcome_info(outcome: float) -> dict:
    return {"outcome": model.OUTCOME_NAMES[float(outcome)]}


class LunarLanderEnv(gymnasium.Env):
    metadata = {"render_modes": ["ansi"], "render_fps": model.FPS}

    def __init__(
        self,
        gravity: float = model.MOON_GRAVITY,
        turbulence: float = 1.0,
        render_mode: str | None = None,
        **lander,
    ):
        """``gravity`` (m/s^2) and ``turbulence`` (0 = calm) as for ``neurojit swarm``;
        ``lander``: any other field of ``sim.model.Environment`` (engine strengths, crash
        speed, fuel...)."""
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode {render_mode!r} is not one of {self.metadata['render_modes']}"
            )
        self.environment = physics(gravity, turbulence, lander)
        self.observation_space = observation_space()
        self.action_space = action_space()
        self.render_mode = render_mode
        self._constants = model.runtime_constants(self.environment, 1)
        self._constants["max_steps"] = NO_STEP_LIMIT
        self._agent = np.zeros(1, dtype=np.uint64)
        self._seed = 0
        self._params: dict = {}
        self._state: dict = {}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._seed = episode_seed(self.np_random)
        self._params, self._state = model.start(self.environment, self._seed, self._agent)
        return observations(self._state)[0], {}

    def step(self, action):
        action = np.asarray(action, dtype=np.float64).reshape(2)
        self._state["score"][:] = 0.0  # so that the score after the step is its reward
        self._state = model.step(
            NumpyOps,
            self._state,
            self._params,
            self._constants,
            NumpyOps.u64(self._seed),
            self._agent,
            NumpyOps.u64(int(self._state["steps"][0])),
            lambda obs, mem: ([action[0:1], action[1:2]], mem),
        )
        outcome = float(self._state["outcome"][0])
        terminated = outcome != model.FLYING
        return (
            observations(self._state)[0],
            float(self._state["score"][0]),
            terminated,
            False,
            outcome_info(outcome) if terminated else {},
        )

    def render(self):
        if self.render_mode != "ansi" or not self._state:
            return None
        s = {k: float(v[0]) for k, v in self._state.items()}
        return (
            f"step {int(s['steps'])}: x {s['x']:+.2f} m, altitude "
            f"{s['y'] - model.LEG_DOWN:.2f} m, velocity ({s['vx']:+.2f}, {s['vy']:+.2f}) m/s, "
            f"angle {s['angle']:+.2f} rad, fuel {s['fuel']:.0%}, "
            f"{model.OUTCOME_NAMES[s['outcome']]}\n"
        )
