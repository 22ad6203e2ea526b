"""The native model as a stand-in ("twin") for a Gymnasium environment, so that the fast
swarm ranks programs as the environment will.

``native_twin(spec)`` gives the ``sim.model.Environment`` a search trains in when it is
judged in ``spec``: for Box2D's ``LunarLanderContinuous`` (and ``LunarLander`` with
``continuous=True``), the model with Box2D's mechanics (``BOX2D_LANDER``) and, with
``enable_wind``, its gust and turbulence torque scaled by ``wind_power`` and
``turbulence_power``; for ``NeuroJIT/LunarLander-v0``, the model with that environment's
own arguments. Other environments have none (the search then trains in the conditions it
was given).

The mechanics are identified from Box2D's own trajectories (``identify``): the lander
flown with random engine commands, each free-flight step's change of velocity and spin,
in the model's units, fitted by least squares to the model's equations of motion. The
crash speed comes from touchdowns at set sink rates instead (Box2D ends the episode when
the body, not a leg, touches the ground): the springy legs take a touchdown up to about
1.8 m/s. The main engine's random lever (its thrust +-50% each step, and a spin) is fitted
from the spread of those steps. Box2D's ground past the pad slopes into random hills:
the twin's crashes a touchdown there. What the model still lacks: the side engines'
smaller random lever and the legs' springs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..sim import model
from .environments import EnvArgValue, EnvSpec

# Box2D LunarLander's mechanics in the model's units (see ``identify``).
BOX2D_LANDER = model.Environment(
    gravity=10.0,  # Box2D's default; ``gravity=`` changes it
    turbulence=0.0,  # Box2D's gravity does not wander; its wind is the gust below
    main_engine_accel=17.4,
    side_engine_accel=2.44,
    side_engine_angular=5.28,
    crash_speed=1.8,
    fuel_seconds=1.0e6,  # Box2D's tank never runs dry; the fuel is paid in the return
    initial_speed=4.0,  # its random initial push gives up to 4 m/s each way
    start_height=9.4,
    rest_seconds=0.5,  # Box2D puts a body to sleep after half a second still
    engines_wake=True,  # and an engine's impulse wakes it
    main_engine_noise=0.5,  # its lever is 4 +- 2 pixels: thrust +-50%, uniformly
    main_engine_spin=2.1,
    # past its pad Box2D's ground slopes into random hills, where a landing mostly tips
    landing_half_width=model.PAD_HALF_WIDTH,
)
# The gust's and torque's largest accelerations per unit of Box2D's wind_power and
# turbulence_power: one over the lander's mass and moment of inertia.
WIND_ACCEL_PER_POWER = 0.2018
TORQUE_ACCEL_PER_POWER = 1.084
# Box2D's own defaults for the arguments the twin reads.
BOX2D_DEFAULTS: dict[str, EnvArgValue] = {
    "gravity": -10.0,
    "enable_wind": False,
    "wind_power": 15.0,
    "turbulence_power": 1.5,
}

FPS = model.FPS
# Box2D's observation -> the model's units (metres, m/s, rad/s), as ``model.observe``.
_SPEED_X = FPS / (model.WORLD_W / 2)
_SPEED_Y = FPS / (model.WORLD_H / 2)
_SPIN = FPS / 20.0


def _is_box2d_lander(spec: EnvSpec) -> bool:
    args = spec.kwargs()
    name = spec.id.split("/")[-1]
    return name.startswith("LunarLanderContinuous") or (
        name.startswith("LunarLander") and args.get("continuous") is True
    )


def native_twin(spec: EnvSpec) -> model.Environment | None:
    """The conditions the native swarm trains in for ``spec``, or None if the model has
    no stand-in for that environment."""
    from . import ENV_ID
    from .lander import physics

    args = spec.kwargs()
    if spec.id == ENV_ID:  # the model itself, with the physics its make arguments give
        gravity = args.pop("gravity", model.MOON_GRAVITY)
        turbulence = args.pop("turbulence", 1.0)
        args.pop("render_mode", None)
        return physics(float(gravity), float(turbulence), args)
    if not _is_box2d_lander(spec):
        return None
    given = {**BOX2D_DEFAULTS, **args}
    wind = bool(given["enable_wind"])
    return replace(
        BOX2D_LANDER,
        gravity=-float(given["gravity"]),
        wind_accel=WIND_ACCEL_PER_POWER * float(given["wind_power"]) if wind else 0.0,
        torque_accel=TORQUE_ACCEL_PER_POWER * float(given["turbulence_power"]) if wind else 0.0,
    )


@dataclass(frozen=True)
class Identified:
    """Box2D's mechanics in the model's terms, fitted from its trajectories."""

    gravity: float
    main_engine_accel: float
    side_engine_accel: float
    side_engine_angular: float
    main_engine_noise: float
    main_engine_spin: float
    wind_accel_per_power: float
    torque_accel_per_power: float
    start_height: float
    initial_speed: float  # the largest initial speed across seen
    transitions: int


def identify(
    episodes: int = 200, seed: int = 0, env_id: str = "LunarLanderContinuous-v3"
) -> Identified:
    """Fly Box2D's lander with random engine commands (held five steps each, the main
    engine kept on near the ground) and fit the model's constants to its free-flight
    steps (no leg touching). The wind's and torque's scales come from a second set of
    flights with the engines off and ``enable_wind``, against Box2D's own gust index."""
    import gymnasium

    rng = np.random.default_rng(seed)
    steps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    starts = []
    env = gymnasium.make(env_id)
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed * 100_000 + episode)
            starts.append(obs.astype(np.float64))
            action = np.zeros(2)
            for t in range(400):
                if t % 5 == 0:
                    action = rng.uniform(-1.0, 1.0, 2)
                    if obs[1] < 0.6:
                        action[0] = rng.uniform(0.3, 1.0)
                after, _, terminated, truncated, _ = env.step(action.astype(np.float32))
                if terminated or truncated or max(obs[6], obs[7], after[6], after[7]) > 0:
                    break
                steps.append((obs.astype(np.float64), action, after.astype(np.float64)))
                obs = after
    finally:
        env.close()
    before = np.array([s[0] for s in steps])
    actions = np.array([s[1] for s in steps])
    after = np.array([s[2] for s in steps])
    ax = (after[:, 2] - before[:, 2]) * _SPEED_X * FPS
    ay = (after[:, 3] - before[:, 3]) * _SPEED_Y * FPS
    alpha = (after[:, 5] - before[:, 5]) * _SPIN * FPS
    main_cmd = np.clip(actions[:, 0], -1.0, 1.0)
    main = np.where(main_cmd > 0.0, (np.clip(main_cmd, 0.0, 1.0) + 1.0) / 2.0, 0.0)
    side_cmd = np.clip(actions[:, 1], -1.0, 1.0)
    side = np.where(np.abs(side_cmd) > 0.5, np.clip(np.abs(side_cmd), 0.5, 1.0), 0.0)
    side *= np.sign(side_cmd)
    angle = (before[:, 4] + after[:, 4]) / 2.0
    n = len(steps)
    # ax = -sin(a) main M + cos(a) side S;  ay = cos(a) main M + sin(a) side S - g
    design = np.zeros((2 * n, 3))
    design[:n, 0], design[:n, 1] = -np.sin(angle) * main, np.cos(angle) * side
    design[n:, 0], design[n:, 1], design[n:, 2] = np.cos(angle) * main, np.sin(angle) * side, -1.0
    (main_accel, side_accel, gravity), *_ = np.linalg.lstsq(
        design, np.concatenate([ax, ay]), rcond=None
    )
    (side_angular, _), *_ = np.linalg.lstsq(np.stack([-side, np.ones(n)], 1), alpha, rcond=None)
    # The main engine's spread, on the steps it fires alone: the interquartile range of
    # uniform noise of half-width w is w (and it ignores the odd step a collision spoils).
    alone = (main > 0.0) & (side == 0.0)
    thrust = (-np.sin(angle) * ax + np.cos(angle) * (ay + gravity))[alone] / main[alone]
    thrust_noise = _interquartile(thrust) / float(np.median(thrust))
    spin = _interquartile(alpha[alone] / main[alone])
    wind, torque = _identify_wind(max(episodes // 2, 1), seed, env_id)
    start = np.array(starts)
    start_height = float(np.mean(start[:, 1]) * (model.WORLD_H / 2))
    # across: the first step's gravity is in the vertical speed already
    initial_speed = float(np.abs(start[:, 2] * _SPEED_X).max())
    return Identified(
        float(gravity),
        float(main_accel),
        float(side_accel),
        float(side_angular),
        thrust_noise,
        spin,
        wind,
        torque,
        start_height,
        initial_speed,
        n,
    )


def _identify_wind(episodes: int, seed: int, env_id: str) -> tuple[float, float]:
    """(wind, torque) acceleration per unit of power: the engines off, each airborne
    step's change of horizontal speed and spin against Box2D's gust function."""
    import gymnasium

    power, torque_power = 10.0, 1.0
    env = gymnasium.make(env_id, enable_wind=True, wind_power=power, turbulence_power=torque_power)
    gusts, changes = [], []
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed * 100_000 + episode)
            lander = env.unwrapped
            for _ in range(300):
                gust = [_gust_function(lander.wind_idx), _gust_function(lander.torque_idx)]  # type: ignore[attr-defined]
                after, _, terminated, truncated, _ = env.step(np.array([-1.0, 0.0], np.float32))
                if terminated or truncated or after[6] or after[7] or obs[1] < 0.3:
                    break
                gusts.append(gust)
                changes.append(
                    ((after[2] - obs[2]) * _SPEED_X * FPS, (after[5] - obs[5]) * _SPIN * FPS)
                )
                obs = after
    finally:
        env.close()
    g, c = np.array(gusts), np.array(changes, dtype=np.float64)
    ones = np.ones(len(g))
    (wind, _), *_ = np.linalg.lstsq(np.stack([g[:, 0], ones], 1), c[:, 0], rcond=None)
    (torque, _), *_ = np.linalg.lstsq(np.stack([g[:, 1], ones], 1), c[:, 1], rcond=None)
    return float(wind / power), float(torque / torque_power)


def _interquartile(values: np.ndarray) -> float:
    upper, lower = np.percentile(values, [75.0, 25.0])
    return float(upper - lower)


def _gust_function(index: int) -> float:
    return math.tanh(math.sin(0.02 * index) + math.sin(math.pi * 0.01 * index))
