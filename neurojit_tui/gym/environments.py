"""Gymnasium environments for TensorLang controllers: which one (``EnvSpec``: an id and its
``gymnasium.make`` arguments, as ``--env ID --env-arg KEY=VALUE`` give them), making it
(``make_env``: every failure is one ``FlightError`` line) and telling a landing from the
other ends of an episode (``LandingMonitor``).

The parallel judge's worker processes make their environments with ``EnvFactory``: this
module imports nothing heavier than gymnasium, the compiler (MLIR) only when it checks
spaces, which the judge does once in its own process.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

# A value of ``--env-arg KEY=VALUE``: JSON's scalars, or else the text itself.
EnvArgValue = bool | int | float | str

# Gymnasium's LunarLander sets the last reward of an episode to exactly +100 when the
# lander comes to rest and to -100 when it crashes; environments that add the bonus to
# that step's shaping stay far above this, crashes far below.
LANDING_REWARD_THRESHOLD = 50.0


class FlightError(Exception):
    """The environment cannot be made, or does not fit the controller ABI."""


def parse_env_value(text: str) -> EnvArgValue:
    """``true``/``false`` -> bool, a JSON integer -> int, a finite JSON number -> float,
    anything else -> the text itself."""

    def reject_constant(name: str) -> Any:
        raise ValueError(name)  # NaN and Infinity stay text: JSON has no such numbers

    try:
        value = json.loads(text, parse_constant=reject_constant)
    except ValueError:
        return text
    if isinstance(value, (bool, int, float)):
        return value
    return text  # null, a list, an object or a quoted string: the text as given


def parse_env_args(items: Iterable[str]) -> dict[str, EnvArgValue]:
    """``["KEY=VALUE", ...]`` (``--env-arg``) as ``gymnasium.make`` keyword arguments.
    Raises ``FlightError`` (one line) for an item without ``=``, a key that is not a
    Python identifier, or a key given twice."""
    args: dict[str, EnvArgValue] = {}
    for item in items:
        key, equals, text = item.partition("=")
        key = key.strip()
        if not equals:
            raise FlightError(f"--env-arg {item!r}: expected KEY=VALUE")
        if not key:
            raise FlightError(f"--env-arg {item!r}: the key before '=' is empty")
        if not key.isidentifier():
            raise FlightError(f"--env-arg {item!r}: {key!r} is not a keyword argument name")
        if key in args:
            raise FlightError(f"--env-arg {key} is given twice")
        args[key] = parse_env_value(text)
    return args


@dataclass(frozen=True)
class EnvSpec:
    """A Gymnasium environment id and its ``gymnasium.make`` arguments, sorted by name:
    hashable, and equal for the same environment however the arguments were ordered."""

    id: str
    args: tuple[tuple[str, EnvArgValue], ...] = ()

    @classmethod
    def of(cls, env_id: str, args: Mapping[str, EnvArgValue] | None = None) -> EnvSpec:
        return cls(env_id, tuple(sorted((args or {}).items())))

    @classmethod
    def parse(cls, env_id: str, env_args: Iterable[str] = ()) -> EnvSpec:
        """From ``--env ID`` and the ``--env-arg KEY=VALUE`` items."""
        return cls.of(env_id, parse_env_args(env_args))

    def kwargs(self) -> dict[str, EnvArgValue]:
        return dict(self.args)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "args": self.kwargs()}

    def key(self) -> str:
        """Canonical text (JSON, sorted keys): True, 1 and 1.0 are different arguments
        here, though equal, with equal hashes, in ``args``."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    def label(self) -> str:
        """``LunarLanderContinuous-v3 enable_wind=True wind_power=15.0``"""
        words = [self.id]
        for name, value in self.args:
            shown = str(value)
            if isinstance(value, str) and (not value or any(c.isspace() for c in value)):
                shown = json.dumps(value)
            words.append(f"{name}={shown}")
        return " ".join(words)


def as_env_spec(env: EnvSpec | str) -> EnvSpec:
    return env if isinstance(env, EnvSpec) else EnvSpec(env)


class LandingMonitor(gymnasium.Wrapper):
    """Adds ``info["landed"]`` (bool) at the end of every terminated episode: whether the
    episode ended with LunarLander's +100 bonus, i.e. the lander came to rest.

    Asked in this order: our environment's ``info["outcome"]``; Gymnasium's Box2D
    LunarLander's lander body, which goes to sleep exactly when the bonus is given
    (``not env.unwrapped.lander.awake``); otherwise the last reward, at least
    ``LANDING_REWARD_THRESHOLD``. A truncated episode has not landed."""

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        if terminated:
            info = {**info, "landed": self._landed(info, float(reward))}
        return observation, reward, terminated, truncated, info

    def _landed(self, info: dict, reward: float) -> bool:
        if "outcome" in info:
            return info["outcome"] == "landed"
        lander = getattr(self.env.unwrapped, "lander", None)
        awake = getattr(lander, "awake", None)
        if isinstance(awake, bool):
            return not awake
        return reward >= LANDING_REWARD_THRESHOLD


def make_env(env: EnvSpec | str) -> gymnasium.Env:
    """``gymnasium.make`` of ``env`` with our environments registered, in a
    ``LandingMonitor``; every way it can fail (unknown id, a missing optional dependency,
    a module that does not import, arguments it rejects, spaces that do not fit the
    controller ABI) becomes one ``FlightError``."""
    spec = as_env_spec(env)
    check_env_args(spec)
    made = make_unchecked(spec)
    check_spaces(spec.id, made)
    return made


def make_unchecked(spec: EnvSpec) -> gymnasium.Env:
    """``make_env`` without its checks of the arguments and the spaces (the judge's
    workers: the judge made the environment with ``make_env`` before they start)."""
    # pygame (Gymnasium's Box2D environments import it) greets on stdout: keep it clean
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from . import ENV_ID  # noqa: F401  (the package registers our environments)

    try:
        made = gymnasium.make(spec.id, **spec.kwargs())
    except gymnasium.error.Error as error:
        raise FlightError(f"cannot make Gymnasium environment {spec.label()!r}: {error}") from None
    except Exception as error:  # an environment's constructor is anyone's code
        message = str(error).splitlines()[0] if str(error) else ""
        raise FlightError(
            f"cannot make Gymnasium environment {spec.label()!r}: {type(error).__name__}: {message}"
        ) from None
    return LandingMonitor(made)


def creator_arguments(env_id: str) -> tuple[dict[str, Any], bool] | None:
    """The keyword arguments ``gymnasium.make(env_id, ...)`` passes on to the
    environment's creator, each with its default (the registration's own arguments
    override the signature's), and whether the creator takes any other (``**kwargs``);
    ``gymnasium.make``'s own arguments are among them. None when that cannot be read
    (an unknown id, a creator without a signature): ``gymnasium.make`` then says why."""
    from gymnasium.envs.registration import load_env_creator

    try:
        registered = gymnasium.spec(env_id)
        creator = registered.entry_point
        if isinstance(creator, str):
            creator = load_env_creator(creator)
        own = list(inspect.signature(creator).parameters.values())
        make = list(inspect.signature(gymnasium.make).parameters.values())
    except Exception:  # an environment's module is anyone's code
        return None
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    defaults = {
        p.name: registered.kwargs.get(p.name, p.default)
        for p in [*own, *make]
        if p.kind in named and p.name not in ("self", "id")
    }
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in own)
    return defaults, takes_any


def check_env_args(spec: EnvSpec) -> None:
    """Raise ``FlightError`` for an ``--env-arg`` the environment does not take, or whose
    value is not of its default's kind (true/false for a flag, a number for a number):
    a flag given ``maybe`` would otherwise be taken as true without a word."""
    known = creator_arguments(spec.id)
    if known is None:
        return
    defaults, takes_any = known
    where = f"cannot make Gymnasium environment {spec.label()!r}: --env-arg"
    for key, value in spec.kwargs().items():
        if key not in defaults:
            if takes_any:
                continue
            raise FlightError(
                f"{where} {key}: {spec.id} takes no such argument; it takes "
                + ", ".join(sorted(defaults))
            )
        default = defaults[key]
        if isinstance(default, bool) and not isinstance(value, bool):
            raise FlightError(f"{where} {key}={value}: {spec.id} takes true or false")
        if (
            isinstance(default, int | float)
            and not isinstance(default, bool)
            and isinstance(value, bool | str)
        ):
            raise FlightError(f"{where} {key}={value}: {spec.id} takes a number")


def check_spaces(env_id: str, env: gymnasium.Env) -> None:
    """Raise ``FlightError`` (and close ``env``) unless its spaces fit the controller ABI."""
    from gymnasium import spaces

    from ..compiler.dialect import CONTROL_ACTION_SIZE, CONTROL_OBS_SIZE

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


class EnvFactory:
    """``make_unchecked(spec)`` as a picklable callable: what each worker process of
    ``gymnasium.vector.AsyncVectorEnv`` calls to make its environment."""

    def __init__(self, spec: EnvSpec):
        self.spec = spec

    def __call__(self) -> gymnasium.Env:
        return make_unchecked(self.spec)


def clip_action(action: np.ndarray, space: gymnasium.spaces.Box) -> np.ndarray:
    """A controller's action inside ``space``, in its dtype."""
    return np.clip(action, space.low, space.high).astype(space.dtype)
