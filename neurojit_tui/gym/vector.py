"""The vector version of ``NeuroJIT/LunarLander-v0``: every sub-environment stepped by one
call of the native step kernel (``step_kernel.py``), with Gymnasium's autoreset modes.

``gymnasium.make_vec("NeuroJIT/LunarLander-v0", num_envs=N)`` builds it (the registration's
``vector_entry_point``). Sub-environment ``i`` reset with ``seed=s`` flies the episodes of
``gymnasium.make("NeuroJIT/LunarLander-v0")`` reset with ``seed=s + i``: the same
observations and rewards (up to the last bits of sin and cos, which the kernel computes
with its own polynomials), the same terminations, truncation at the same step.
"""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ..sim import model
from . import lander
from .step_kernel import step_kernel


class LunarLanderVectorEnv(VectorEnv):
    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        gravity: float = model.MOON_GRAVITY,
        turbulence: float = 1.0,
        max_episode_steps: int | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        **settings,
    ):
        """``max_episode_steps``: truncate an episode after this many steps (``make_vec``
        passes the registered 1000); ``settings``: as for ``LunarLanderEnv``."""
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be at least 1, got {max_episode_steps!r}")
        self.num_envs = num_envs
        self.environment = lander.physics(gravity, turbulence, settings)
        self.max_episode_steps = max_episode_steps
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self.render_mode = None
        self.single_observation_space = lander.observation_space()
        self.single_action_space = lander.action_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        constants = model.runtime_constants(self.environment, 1)
        constants["max_steps"] = lander.NO_STEP_LIMIT
        self._constants = np.array(list(constants.values()), dtype=np.float64)
        self._kernel = step_kernel()
        self._state = {f: np.zeros(num_envs) for f in model.STATE_FIELDS}
        self._params = {f: np.zeros(num_envs) for f in model.PARAM_FIELDS}
        self._seeds = np.zeros(num_envs, dtype=np.uint64)
        self._generators = [seeding.np_random()[0] for _ in range(num_envs)]
        self._ended = np.zeros(num_envs, dtype=bool)  # reset at the next step (NEXT_STEP)

    # -- episodes ------------------------------------------------------------------------------

    def _start(self, which: np.ndarray) -> None:
        """New episodes for the sub-environments ``which`` (indices): each draws its episode
        seed from its own generator, as ``LunarLanderEnv.reset`` does."""
        if len(which) == 0:
            return
        seeds = np.array([lander.episode_seed(self._generators[i]) for i in which], dtype=np.uint64)
        params, state = model.start(self.environment, seeds, np.zeros(len(which), dtype=np.uint64))
        for f in model.PARAM_FIELDS:
            self._params[f][which] = params[f]
        for f in model.STATE_FIELDS:
            self._state[f][which] = state[f]
        self._seeds[which] = seeds
        self._ended[which] = False

    def reset(self, *, seed: int | list | None = None, options: dict | None = None):
        """``seed``: sub-environment i is seeded with ``seed + i`` (or ``seed[i]``);
        ``options={"reset_mask": mask}`` resets only the masked sub-environments."""
        super().reset(seed=seed if isinstance(seed, int) else None)
        if seed is not None:
            seeds = (
                [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else list(seed)
            )
            if len(seeds) != self.num_envs:
                raise ValueError(f"reset got {len(seeds)} seeds for {self.num_envs} environments")
            for i, s in enumerate(seeds):
                if s is not None:
                    self._generators[i] = seeding.np_random(s)[0]
        mask = np.ones(self.num_envs, dtype=bool)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], dtype=bool)
            if mask.shape != (self.num_envs,):
                raise ValueError(f"reset_mask must have shape ({self.num_envs},), got {mask.shape}")
        self._start(np.flatnonzero(mask))
        return lander.observations(self._state), {}

    # -- steps ---------------------------------------------------------------------------------

    def step(self, actions):
        actions = np.ascontiguousarray(actions, dtype=np.float64).reshape(self.num_envs, 2)
        restarting = (
            np.flatnonzero(self._ended)
            if self.autoreset_mode == AutoresetMode.NEXT_STEP
            else np.zeros(0, dtype=int)
        )
        self._state["done"][restarting] = 1.0  # not stepped: they start over below
        self._state["score"].fill(0.0)  # so that the score after the step is its reward
        self._kernel.step(self._state, self._params, self._seeds, actions, self._constants)

        rewards = self._state["score"].copy()
        outcomes = self._state["outcome"].copy()
        terminated = outcomes != model.FLYING
        truncated = (
            self._state["steps"] >= self.max_episode_steps
            if self.max_episode_steps
            else np.zeros(self.num_envs, dtype=bool)
        )
        observations = lander.observations(self._state)
        if len(restarting):
            self._start(restarting)
            observations[restarting] = self._observations(restarting)
            rewards[restarting] = 0.0
            terminated[restarting] = False
            truncated[restarting] = False

        infos: dict = {}
        ended = np.flatnonzero(terminated | truncated)
        for i in ended:
            info = lander.outcome_info(outcomes[i]) if terminated[i] else {}
            if self.autoreset_mode == AutoresetMode.SAME_STEP:
                info = {"final_obs": observations[i].copy(), "final_info": info}
            infos = self._add_info(infos, info, i)
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            self._start(ended)
            observations[ended] = self._observations(ended)
        else:
            self._ended[ended] = True
        return observations, rewards, terminated, truncated, infos

    def _observations(self, which: np.ndarray) -> np.ndarray:
        return lander.observations({f: self._state[f][which] for f in model.STATE_FIELDS})
