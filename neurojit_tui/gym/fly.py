"""``neurojit gym``: fly a TensorLang controller in a Gymnasium environment.

Any installed environment whose spaces fit the controller ABI will do: a Box observation
of 8 values (the lander's layout, which is Gymnasium LunarLander's) and a Box action of 2
(main engine, lateral engine). Each episode starts with the controller state ``mem`` at
zeros; the action is clipped to the action space and cast to its dtype. ``fly`` flies the
episodes one after the other in this process; ``judge.Judge`` flies them in parallel in
worker processes, with the same returns for the same seeds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..compiler.dialect import CONTROL_ENTRY, CONTROL_MEM_SIZE
from ..sim.model import SOLVED_SCORE
from .environments import EnvSpec, FlightError, as_env_spec, clip_action, make_env

__all__ = ["DEFAULT_MAX_STEPS", "FlightError", "FlightReport", "cvar10", "fly"]

DEFAULT_MAX_STEPS = 10_000  # per episode, for an environment without a time limit


def cvar10(returns: Sequence[float]) -> float:
    """Mean of the worst 10% of ``returns`` (at least one); -inf for none."""
    if not len(returns):
        return -math.inf
    worst = np.sort(np.asarray(returns, dtype=np.float64))[: max(1, math.ceil(0.1 * len(returns)))]
    return float(worst.mean())


@dataclass
class FlightReport:
    """The episodes of one controller in one environment, and their scores. The JSON keys
    of ``neurojit gym --json`` are ``to_json``'s."""

    env: str
    episodes: int
    mean_return: float
    returns: list[float] = field(default_factory=list)
    seconds: float = 0.0
    env_args: dict[str, Any] = field(default_factory=dict)
    seeds: list[int | None] = field(default_factory=list)  # None: the reset continued
    landings: list[bool] = field(default_factory=list)  # per episode: came to rest (+100)
    landed: float = 0.0  # share of episodes that landed
    solved: float = 0.0  # share of episodes with a return >= 200
    cvar10: float = -math.inf
    steps: int = 0  # environment steps of all episodes
    workers: int = 1
    controller_seconds: float = 0.0  # in the controller (the rest: the environments)
    violation: Any = None  # the first AssertViolation, which ended the flight

    @classmethod
    def of_episodes(
        cls,
        spec: EnvSpec,
        returns: list[float],
        landings: list[bool],
        seeds: list[int | None],
        **more: Any,
    ) -> FlightReport:
        """The report of these episodes, its scores computed from them."""
        count = len(returns)
        return cls(
            env=spec.id,
            episodes=count,
            mean_return=float(np.mean(returns)) if count else 0.0,
            returns=returns,
            env_args=spec.kwargs(),
            seeds=seeds,
            landings=landings,
            landed=sum(landings) / count if count else 0.0,
            solved=sum(r >= SOLVED_SCORE for r in returns) / count if count else 0.0,
            cvar10=cvar10(returns),
            **more,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "episodes": self.episodes,
            "mean_return": self.mean_return,
            "returns": self.returns,
            "seconds": self.seconds,
            "env_args": self.env_args,
            "seeds": self.seeds,
            "landings": self.landings,
            "landed": self.landed,
            "solved": self.solved,
            "cvar10": self.cvar10 if math.isfinite(self.cvar10) else None,
            "steps": self.steps,
            "workers": self.workers,
            "controller_seconds": self.controller_seconds,
            "violation": self.violation.to_json() if self.violation is not None else None,
        }


def fly(
    program,
    env: EnvSpec | str,
    episodes: int = 1,
    seed: int | None = 0,
    max_steps: int = DEFAULT_MAX_STEPS,
    seeds: Sequence[int] | None = None,
):
    """Fly ``program`` (a compiled controller) in ``env``, one episode after the other in
    this process: one episode per seed of ``seeds`` (reset with that seed), or else
    ``episodes`` episodes, the first reset taking ``seed`` and the next ones continuing
    its sequence. Returns (FlightReport, the first assert violation or None); a violation
    ends the flight."""
    spec = as_env_spec(env)
    made = make_env(spec)
    episode_seeds: list[int | None] = (
        list(seeds) if seeds is not None else [seed] + [None] * (episodes - 1)
    )
    returns: list[float] = []
    landings: list[bool] = []
    steps = 0
    controller_seconds = 0.0
    start = time.perf_counter()
    violation = None
    try:
        for episode_seed in episode_seeds:
            observation, _ = made.reset(seed=episode_seed)
            mem = np.zeros(CONTROL_MEM_SIZE)
            total, landed = 0.0, False
            for _ in range(max_steps):
                before = time.perf_counter()
                (action, mem), violation = program.call(
                    CONTROL_ENTRY, np.asarray(observation, dtype=np.float64), mem
                )
                controller_seconds += time.perf_counter() - before
                if violation is not None:
                    break
                observation, reward, terminated, truncated, info = made.step(
                    clip_action(action, made.action_space)
                )
                steps += 1
                total += float(reward)
                if terminated or truncated:
                    landed = bool(info.get("landed", False))
                    break
            returns.append(total)
            landings.append(landed)
            if violation is not None:
                break
    finally:
        made.close()
    report = FlightReport.of_episodes(
        spec,
        returns,
        landings,
        episode_seeds[: len(returns)],
        seconds=time.perf_counter() - start,
        steps=steps,
        controller_seconds=controller_seconds,
        violation=violation,
    )
    return report, violation
