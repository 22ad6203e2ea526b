"""``neurojit gym``: fly a TensorLang controller in a Gymnasium environment.

Any installed environment whose spaces fit the controller ABI will do: a Box observation
of 8 values (the lander's layout, which is Gymnasium LunarLander's) and a Box action of 2
(main engine, lateral engine). Each episode starts with the controller state ``mem`` at
zeros; the action is clipped to the action space and cast to its dtype.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..compiler.dialect import (
    CONTROL_ACTION_SIZE,
    CONTROL_ENTRY,
    CONTROL_MEM_SIZE,
    CONTROL_OBS_SIZE,
)

DEFAULT_MAX_STEPS = 10_000  # per episode, for an environment without a time limit


class FlightError(Exception):
    """The environment cannot be made, or does not fit the controller ABI."""


@dataclass
class FlightReport:
    """JSON keys are fixed (``neurojit gym --json``)."""

    env: str
    episodes: int
    mean_return: float
    returns: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def make_env(env_id: str):
    """``gymnasium.make(env_id)`` with our environments registered; every way it can fail
    (unknown id, a missing optional dependency, a module that does not import, bad
    arguments) becomes one ``FlightError``."""
    # pygame (Gymnasium's Box2D environments import it) greets on stdout: keep it clean
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import gymnasium  # this package's __init__ has registered ours

    try:
        env = gymnasium.make(env_id)
    except gymnasium.error.Error as error:
        raise FlightError(f"cannot make Gymnasium environment {env_id!r}: {error}") from None
    except (ImportError, TypeError, ValueError, AttributeError) as error:
        raise FlightError(
            f"cannot make Gymnasium environment {env_id!r}: {type(error).__name__}: {error}"
        ) from None
    _check_spaces(env_id, env)
    return env


def _check_spaces(env_id: str, env) -> None:
    from gymnasium import spaces

    for what, space, size in (
        ("observation", env.observation_space, CONTROL_OBS_SIZE),
        ("action", env.action_space, CONTROL_ACTION_SIZE),
    ):
        if not isinstance(space, spaces.Box) or space.shape != (size,):
            env.close()
            shown = f"{type(space).__name__}{getattr(space, 'shape', None) or ''}"
            raise FlightError(
                f"{env_id}: its {what} space is {shown}; a TensorLang controller needs Box({size},)"
            )


def fly(
    program,
    env_id: str,
    episodes: int = 1,
    seed: int | None = 0,
    max_steps: int = DEFAULT_MAX_STEPS,
):
    """Fly ``program`` (a compiled controller) for ``episodes`` episodes of ``env_id``;
    the first reset takes ``seed``, the next ones continue its sequence. Returns
    (FlightReport, the first assert violation or None); a violation ends the flight."""
    env = make_env(env_id)
    low, high = env.action_space.low, env.action_space.high
    returns = []
    start = time.perf_counter()
    violation = None
    try:
        for episode in range(episodes):
            observation, _ = env.reset(seed=seed if episode == 0 else None)
            mem = np.zeros(CONTROL_MEM_SIZE)
            total = 0.0
            for _ in range(max_steps):
                (action, mem), violation = program.call(
                    CONTROL_ENTRY, np.asarray(observation, dtype=np.float64), mem
                )
                if violation is not None:
                    break
                action = np.clip(action, low, high).astype(env.action_space.dtype)
                observation, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                if terminated or truncated:
                    break
            returns.append(total)
            if violation is not None:
                break
    finally:
        env.close()
    report = FlightReport(
        env_id,
        len(returns),
        float(np.mean(returns)) if returns else 0.0,
        returns,
        time.perf_counter() - start,
    )
    return report, violation
