"""The lunar-lander model, written once for both implementations.

Every function here takes ``xp``, an array namespace: ``NumpyOps`` (the numpy reference,
one array element per agent) or the MLIR tracer in ``native.py`` (one scalar per agent,
emitted as code for the fused kernel). Both execute exactly these lines in this order,
so the two implementations do the same IEEE operations; only ``sin``/``cos`` come from
different libraries (numpy and libm) and may differ in the last bit.

Units and frame: metres, seconds, radians. The world is Gymnasium LunarLander's, 20 m
wide and 13.3 m tall (its SCALE=30 pixels per metre), flat ground at y = 0 with the
landing pad at |x| <= 2 m. The lander is a rigid body; ``angle`` is counter-clockwise.

Where this differs from Gymnasium's Box2D model (documented in docs/simulation.md):
* flat ground everywhere instead of random hills (the pad is still marked);
* legs are rigid points instead of spring joints; ground contact pushes the body out,
  removes downward speed, applies friction and tips a one-legged lander onto both legs;
* engine forces act at fixed points (no random dispersion, no particles);
* gravity defaults to the Moon's 1.62 m/s^2; the main engine gives 5 m/s^2 at full
  throttle (thrust/weight 3.1 there; Gymnasium's is 1.7 at its g = 10), so a heavier
  gravity is harder and above 5 m/s^2 impossible; a fuel tank can run dry;
* turbulence: each agent's gravity and lateral wind follow Ornstein-Uhlenbeck processes
  whose strengths and time constants are drawn per agent from the seed.

``Environment`` has fields beyond these defaults so that the model can stand in for
Gymnasium's Box2D lander (``gym/calibration.py`` identifies them from its trajectories):
Box2D's gust and turbulence torque (``wind_accel``, ``torque_accel``: its
``tanh(sin(0.02 k) + sin(0.01 pi k))`` of the airborne step k, from a random phase per
agent), its main engine's random lever, the hills past its pad (``landing_half_width``), its
start height and its half second of stillness before a lander counts as at rest
(``rest_seconds``), which a firing engine restarts (``engines_wake``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .numpy_ops import NumpyOps

FPS = 50
DT = 1.0 / FPS
MAX_STEPS = 1000
WORLD_W = 20.0
WORLD_H = 40.0 / 3.0
PAD_HALF_WIDTH = 2.0
START_HEIGHT = 10.0  # body centre above its resting height at the start

# Lander geometry (body frame, metres): legs are points; the body is a box.
LEG_SPREAD = 0.6  # horizontal distance of each foot from the centre
LEG_DOWN = 0.6  # how far the feet are below the centre = resting height of the centre
BODY_HALF_WIDTH = 0.55
BODY_BOTTOM = 0.3  # the body's underside, below the centre

# Ground contact
GROUND_FRICTION = 0.1  # fraction of horizontal speed lost per step on the ground
GROUND_ANGULAR_DAMPING = 0.2
CONTACT_TOLERANCE = 0.02  # a foot this close to the ground touches it (legs give a little)
LEVELLING = 0.5  # on both feet, this fraction of the tilt and spin goes per step
TIP_OVER_GAIN = 1.5  # angular acceleration (per unit of gravity) on a lander on one leg
REST_SPEED = 0.05  # m/s and rad/s: below this on both legs the lander has landed

# Rewards, as in Gymnasium: shaping on the normalised observation, fuel cost per step,
# +100 for landing, -100 for a crash or leaving the screen; >= 200 counts as solved.
SOLVED_SCORE = 200.0
MAIN_ENGINE_COST = 0.30
SIDE_ENGINE_COST = 0.03

# Agent outcome codes
FLYING, LANDED, CRASHED, OUT_OF_BOUNDS = 0.0, 1.0, 2.0, 3.0
OUTCOME_NAMES = {
    FLYING: "flying",
    LANDED: "landed",
    CRASHED: "crashed",
    OUT_OF_BOUNDS: "out_of_bounds",
}

MOON_GRAVITY = 1.62
# The conditions people may ask for (the commands' flags, the workstation's dialog)
GRAVITY_RANGE = (0.0, 100.0)  # m/s^2
TURBULENCE_RANGE = (0.0, 100.0)


@dataclass(frozen=True)
class Environment:
    """What a swarm run is evaluated under. Part of every cache key (memory package)."""

    gravity: float = MOON_GRAVITY  # m/s^2, downwards
    turbulence: float = 1.0  # 0 = calm; scales gravity noise and wind
    main_engine_accel: float = 5.0  # m/s^2 at full main throttle (thrust/weight 3.1)
    side_engine_accel: float = 1.0  # m/s^2 at full lateral throttle
    side_engine_angular: float = 3.0  # rad/s^2 at full lateral throttle
    crash_speed: float = 1.5  # m/s: a harder touchdown (vertical or horizontal) crashes
    fuel_seconds: float = 15.0  # seconds of full main-engine burn in the tank
    initial_speed: float = 1.5  # m/s: initial velocity drawn uniformly in +-this
    # Added for a stand-in of Box2D's lander; at these defaults they change nothing, and
    # ``to_json`` leaves them out, so the keys of stored controllers stay as they were.
    start_height: float = START_HEIGHT  # m: the body's centre above its resting height
    rest_seconds: float = 0.0  # s a lander stays still on both legs before it has landed
    wind_accel: float = 0.0  # m/s^2: the largest of Box2D's gust function
    torque_accel: float = 0.0  # rad/s^2: the largest of Box2D's turbulence torque
    # Box2D's main engine has a random lever each step: its thrust varies uniformly by
    # this fraction either way, and it spins the lander by up to this many rad/s^2 at
    # full throttle.
    main_engine_noise: float = 0.0
    main_engine_spin: float = 0.0
    # m: a touchdown of the centre farther than this from the pad's centre crashes
    # (Box2D's ground slopes into hills past its pad; ours is flat everywhere)
    landing_half_width: float = WORLD_W / 2
    # Box2D's engines push with impulses that wake its body, so a lander whose engines
    # fire is never at rest, however still it stands: its episode runs on to the step
    # limit. Here the engines are forces and a firing lander can still count as landed.
    engines_wake: bool = False

    def to_json(self) -> dict:
        data = asdict(self)
        for name, default in _ADDED_FIELDS.items():
            if data[name] == default:
                del data[name]
        return data

    def impossible(self) -> str | None:
        """Why no controller can land under these conditions, or None. The main engine
        at full throttle must out-pull gravity to stop a fall."""
        if self.gravity >= self.main_engine_accel:
            return (
                f"gravity {self.gravity:g} m/s^2 is not below the main engine's "
                f"{self.main_engine_accel:g} m/s^2 at full throttle: no controller can stop "
                "the fall, so none will land"
            )
        return None

    # Turbulence model (per agent, drawn from the seed; see ``agent_parameters``).
    @property
    def gravity_noise(self) -> float:  # m/s^2, stationary std of the gravity perturbation
        return 0.08 * self.gravity * self.turbulence

    @property
    def wind_noise(self) -> float:  # m/s^2, stationary std of the gusts
        return 0.1 * self.turbulence

    @property
    def wind_mean_max(self) -> float:  # m/s^2, largest steady wind
        return 0.15 * self.turbulence


_ADDED_FIELDS = {
    "start_height": START_HEIGHT,
    "rest_seconds": 0.0,
    "wind_accel": 0.0,
    "torque_accel": 0.0,
    "main_engine_noise": 0.0,
    "main_engine_spin": 0.0,
    "landing_half_width": WORLD_W / 2,
    "engines_wake": False,
}

# Box2D's gust function's two angular frequencies per step (rad).
GUST_FREQUENCIES = (0.02, 0.01 * math.pi)


# Per-agent state carried between steps, in this order (the native kernel keeps one
# array per field). mem0..3 is the controller's state (the ABI's ``mem``).
STATE_FIELDS = (
    "x",
    "y",
    "vx",
    "vy",
    "angle",
    "omega",
    "leg_left",
    "leg_right",
    "fuel",
    "gravity_dev",
    "wind_dev",
    "mem0",
    "mem1",
    "mem2",
    "mem3",
    "score",
    "shaping",
    "done",
    "outcome",
    "steps",
    "still_steps",  # steps in a row at rest on both legs
)
# Per-agent constants drawn at the start: Ornstein-Uhlenbeck decay and innovation
# factors for gravity and wind, the steady wind, and the phases of the gust function's
# two sines for the gust and for the torque (a random start index, as Box2D draws).
PARAM_FIELDS = (
    "gravity_decay",
    "gravity_kick",
    "wind_decay",
    "wind_kick",
    "wind_mean",
    "gust_phase_a",
    "gust_phase_b",
    "torque_phase_a",
    "torque_phase_b",
)
OBS_SIZE, MEM_SIZE = 8, 4

# Random streams of the counter-based generator (see ``uniform``).
_STREAM_GRAVITY, _STREAM_WIND, _STREAM_THRUST, _STREAM_SPIN = 1, 2, 3, 4
_STREAM_INIT = 100


# -- random numbers ------------------------------------------------------------------------
# A counter-based generator (SplitMix64's finaliser over seed, agent, step and stream):
# any agent's noise at any step is a pure function of those numbers, so the numpy
# reference and the native kernel draw identical noise, and agent i sees the same
# turbulence whatever the swarm size or the slice a thread runs.

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_AGENT_MUL = 0xD1B54A32D192ED03
_STEP_MUL = 0x8CB92BA72F3D8DD7


def uniform(xp, seed, agent, step, stream: int):
    """A uniform number in [0, 1) per agent, from 64-bit integer arithmetic."""
    z = (
        xp.u64(seed) * xp.u64(_GOLDEN)
        + agent * xp.u64(_AGENT_MUL)
        + step * xp.u64(_STEP_MUL)
        + xp.u64(stream)
    )
    z = (z ^ (z >> xp.u64(30))) * xp.u64(_MIX1)
    z = (z ^ (z >> xp.u64(27))) * xp.u64(_MIX2)
    z = z ^ (z >> xp.u64(31))
    return xp.to_float(z >> xp.u64(11)) * (1.0 / 9007199254740992.0)


def unit_noise(xp, seed, agent, step, stream: int):
    """Zero-mean, unit-variance noise (uniform, so it is exact in both implementations)."""
    return (uniform(xp, seed, agent, step, stream) - 0.5) * math.sqrt(12.0)


# -- start of an episode ---------------------------------------------------------------------


def agent_parameters(env: Environment, seed: int, agent: np.ndarray) -> dict:
    """Per-agent constants for the agents numbered ``agent`` (a uint64 array); numpy
    only, computed once before the run. Keys starting with "_" are initial values."""
    xp = NumpyOps

    def draw(k, lo, hi):
        return lo + (hi - lo) * uniform(xp, seed, agent, 0, _STREAM_INIT + k)

    gravity_tau = draw(0, 0.5, 3.0)
    wind_tau = draw(1, 0.5, 3.0)
    gravity_sigma = env.gravity_noise * draw(2, 0.5, 1.5)
    wind_sigma = env.wind_noise * draw(3, 0.5, 1.5)
    gravity_decay = np.exp(-DT / gravity_tau)
    wind_decay = np.exp(-DT / wind_tau)
    return {
        "gravity_decay": gravity_decay,
        "gravity_kick": gravity_sigma * np.sqrt(1.0 - gravity_decay * gravity_decay),
        "wind_decay": wind_decay,
        "wind_kick": wind_sigma * np.sqrt(1.0 - wind_decay * wind_decay),
        "wind_mean": env.wind_mean_max * draw(4, -1.0, 1.0),
        # The OU processes start from their stationary distribution.
        "_gravity_dev0": gravity_sigma * unit_noise(xp, seed, agent, 0, _STREAM_INIT + 5),
        "_wind_dev0": wind_sigma * unit_noise(xp, seed, agent, 0, _STREAM_INIT + 6),
        "_vx0": env.initial_speed * draw(7, -1.0, 1.0),
        "_vy0": env.initial_speed * draw(8, -1.0, 1.0),
        "gust_phase_a": draw(9, 0.0, 2.0 * math.pi),
        "gust_phase_b": draw(10, 0.0, 2.0 * math.pi),
        "torque_phase_a": draw(11, 0.0, 2.0 * math.pi),
        "torque_phase_b": draw(12, 0.0, 2.0 * math.pi),
    }


def initial_state(env: Environment, params: dict) -> dict:
    """State arrays at step 0 for the agents ``params`` was drawn for."""
    n = len(params["wind_mean"])
    state = {name: np.zeros(n) for name in STATE_FIELDS}
    state["y"][:] = env.start_height + LEG_DOWN
    state["vx"][:] = params["_vx0"]
    state["vy"][:] = params["_vy0"]
    state["fuel"][:] = 1.0
    state["gravity_dev"][:] = params["_gravity_dev0"]
    state["wind_dev"][:] = params["_wind_dev0"]
    state["shaping"][:] = shaping(NumpyOps, observe(NumpyOps, state))
    return state


def start(env: Environment, seed: int, agent: np.ndarray) -> tuple[dict, dict]:
    """(per-agent parameters, state at step 0) for the agents numbered ``agent``."""
    params = agent_parameters(env, seed, agent)
    return params, initial_state(env, params)


# -- one step --------------------------------------------------------------------------------


def observe(xp, s) -> list:
    """Gymnasium LunarLander's normalised observation (the controller ABI's ``obs``)."""
    return [
        s["x"] / (WORLD_W / 2),
        (s["y"] - LEG_DOWN) / (WORLD_H / 2),
        s["vx"] * (WORLD_W / 2) / FPS,
        s["vy"] * (WORLD_H / 2) / FPS,
        s["angle"],
        s["omega"] * 20.0 / FPS,
        s["leg_left"],
        s["leg_right"],
    ]


def shaping(xp, obs) -> object:
    """Gymnasium's potential: closer, slower, more level and on its legs is better."""
    return (
        -100.0 * xp.sqrt(obs[0] * obs[0] + obs[1] * obs[1])
        - 100.0 * xp.sqrt(obs[2] * obs[2] + obs[3] * obs[3])
        - 100.0 * xp.abs(obs[4])
        + 10.0 * obs[6]
        + 10.0 * obs[7]
    )


def clip(xp, v, lo: float, hi: float):
    return xp.minimum(xp.maximum(v, lo), hi)


def gust(xp, phase_a, phase_b, steps):
    """Box2D's ``tanh(sin(0.02 k) + sin(0.01 pi k))`` at step ``steps`` from the phases
    a random start index gives. tanh is Lambert's continued fraction to the z^7 term:
    both implementations compute it with the same arithmetic, within 2e-8 of tanh over
    the |z| <= 2 that two sines reach."""
    z = xp.sin(phase_a + steps * GUST_FREQUENCIES[0]) + xp.sin(
        phase_b + steps * GUST_FREQUENCIES[1]
    )
    z2 = z * z
    numerator = z * (z2 * (z2 * (z2 + 378.0) + 17325.0) + 135135.0)
    return numerator / (z2 * (z2 * (z2 * 28.0 + 3150.0) + 62370.0) + 135135.0)


def runtime_constants(env: Environment, max_steps: int) -> dict:
    """The values ``step`` reads from ``env``: run-time inputs of the native kernel, so
    one compiled kernel serves every environment."""
    return {
        "gravity": env.gravity,
        "main_engine_accel": env.main_engine_accel,
        "side_engine_accel": env.side_engine_accel,
        "side_engine_angular": env.side_engine_angular,
        "crash_speed": env.crash_speed,
        "fuel_seconds": env.fuel_seconds,
        "rest_seconds": env.rest_seconds,
        "wind_accel": env.wind_accel,
        "torque_accel": env.torque_accel,
        "main_engine_noise": env.main_engine_noise,
        "main_engine_spin": env.main_engine_spin,
        "landing_half_width": env.landing_half_width,
        "engines_wake": 1.0 if env.engines_wake else 0.0,
        "max_steps": float(max_steps),
    }


RUNTIME_CONSTANTS = tuple(runtime_constants(Environment(), 1))


def step(xp, s: dict, p: dict, env: dict, seed, agent, t, control) -> dict:
    """Advance every agent that is not done by one step; done agents keep their state.

    ``control(obs, mem) -> (action, mem_out)`` is the controller (lists of values);
    ``env`` is ``runtime_constants(...)``; ``seed``, ``agent`` and ``t`` are unsigned
    64-bit values (the agent's global number and the step) for the noise.
    """
    obs = observe(xp, s)
    action, mem_out = control(obs, [s["mem0"], s["mem1"], s["mem2"], s["mem3"]])

    # Engines, as in Gymnasium's continuous mode: main fires above 0 at 50..100%
    # throttle, lateral beyond |0.5| at 50..100%; nothing once the tank is dry.
    main_cmd = clip(xp, action[0], -1.0, 1.0)
    side_cmd = clip(xp, action[1], -1.0, 1.0)
    has_fuel = s["fuel"] > 0.0
    main = xp.where((main_cmd > 0.0) & has_fuel, (clip(xp, main_cmd, 0.0, 1.0) + 1.0) * 0.5, 0.0)
    side_abs = xp.abs(side_cmd)
    side = xp.where((side_abs > 0.5) & has_fuel, clip(xp, side_abs, 0.5, 1.0), 0.0)
    side_dir = xp.where(side_cmd > 0.0, 1.0, -1.0)

    # Forces: main engine along the body's up axis, lateral engine along its right axis
    # (with the torque of its offset mount), gravity with turbulence, steady wind + gusts.
    cos_a = xp.cos(s["angle"])
    sin_a = xp.sin(s["angle"])
    thrust_noise = uniform(xp, seed, agent, t, _STREAM_THRUST) * 2.0 - 1.0
    main_acc = main * env["main_engine_accel"] * (1.0 + env["main_engine_noise"] * thrust_noise)
    side_acc = side * side_dir * env["side_engine_accel"]
    gravity = env["gravity"] + s["gravity_dev"]
    # Box2D's gust and torque push only a lander with no leg on the ground.
    airborne = xp.where((s["leg_left"] < 0.5) & (s["leg_right"] < 0.5), 1.0, 0.0)
    gust_acc = (
        env["wind_accel"] * airborne * gust(xp, p["gust_phase_a"], p["gust_phase_b"], s["steps"])
    )
    torque_acc = (
        env["torque_accel"]
        * airborne
        * gust(xp, p["torque_phase_a"], p["torque_phase_b"], s["steps"])
    )
    wind = p["wind_mean"] + s["wind_dev"] + gust_acc
    ax = -sin_a * main_acc + cos_a * side_acc + wind
    ay = cos_a * main_acc + sin_a * side_acc - gravity
    spin_noise = uniform(xp, seed, agent, t, _STREAM_SPIN) * 2.0 - 1.0
    alpha = (
        torque_acc
        + main * env["main_engine_spin"] * spin_noise
        - side * side_dir * env["side_engine_angular"]
    )

    # Semi-implicit Euler, Box2D's integrator.
    vx = s["vx"] + ax * DT
    vy = s["vy"] + ay * DT
    omega = s["omega"] + alpha * DT
    x = s["x"] + vx * DT
    y = s["y"] + vy * DT
    angle = s["angle"] + omega * DT
    fuel = xp.maximum(s["fuel"] - (main + 0.1 * side) * (DT / env["fuel_seconds"]), 0.0)

    # Ground contact of the feet (flat ground at 0).
    cos_b = xp.cos(angle)
    sin_b = xp.sin(angle)
    foot_left = y - LEG_SPREAD * sin_b - LEG_DOWN * cos_b
    foot_right = y + LEG_SPREAD * sin_b - LEG_DOWN * cos_b
    depth = xp.maximum(-xp.minimum(foot_left, foot_right), 0.0)
    touching = depth > 0.0
    impact = xp.where(touching, xp.maximum(-vy, 0.0), 0.0)
    y = y + depth
    leg_left = xp.where(foot_left + depth <= CONTACT_TOLERANCE, 1.0, 0.0)
    leg_right = xp.where(foot_right + depth <= CONTACT_TOLERANCE, 1.0, 0.0)
    vy = xp.where(touching, xp.maximum(vy, 0.0), vy)
    vx = xp.where(touching, vx * (1.0 - GROUND_FRICTION), vx)
    tip = (leg_right - leg_left) * TIP_OVER_GAIN * gravity * DT  # onto the other leg
    omega = xp.where(touching, omega * (1.0 - GROUND_ANGULAR_DAMPING) + tip, omega)
    both_feet = (leg_left > 0.5) & (leg_right > 0.5)
    omega = xp.where(both_feet, omega * (1.0 - LEVELLING), omega)
    angle = xp.where(both_feet, angle * (1.0 - LEVELLING), angle)
    body_low = y - BODY_HALF_WIDTH * xp.abs(sin_b) - BODY_BOTTOM * cos_b

    # Turbulence: one Ornstein-Uhlenbeck step each for gravity and wind.
    gravity_dev = p["gravity_decay"] * s["gravity_dev"] + p["gravity_kick"] * unit_noise(
        xp, seed, agent, t, _STREAM_GRAVITY
    )
    wind_dev = p["wind_decay"] * s["wind_dev"] + p["wind_kick"] * unit_noise(
        xp, seed, agent, t, _STREAM_WIND
    )

    # End of episode and reward (Gymnasium's: the terminal step's reward is +-100 alone).
    new = {
        "x": x,
        "y": y,
        "vx": vx,
        "vy": vy,
        "angle": angle,
        "omega": omega,
        "leg_left": leg_left,
        "leg_right": leg_right,
    }
    crashed = (
        (body_low < 0.0)
        | (impact > env["crash_speed"])
        | (touching & (xp.abs(vx) > env["crash_speed"]))
        | (touching & (xp.abs(x) > env["landing_half_width"]))
    )
    out = xp.abs(x) >= WORLD_W / 2
    waking = xp.where((main > 0.0) | (side > 0.0), 1.0, 0.0) * env["engines_wake"]
    still = (
        both_feet
        & (xp.abs(vx) < REST_SPEED)
        & (xp.abs(vy) < REST_SPEED)
        & (xp.abs(omega) < REST_SPEED)
        & (waking < 0.5)
    )
    still_steps = xp.where(still, s["still_steps"] + 1.0, 0.0)
    # Box2D's lander sleeps only after half a second still: until then its engines cost.
    at_rest = still & (still_steps * DT >= env["rest_seconds"])
    new_shaping = shaping(xp, observe(xp, new))
    reward = new_shaping - s["shaping"] - main * MAIN_ENGINE_COST - side * SIDE_ENGINE_COST
    reward = xp.where(at_rest, 100.0, reward)
    reward = xp.where(crashed | out, -100.0, reward)
    outcome = xp.where(at_rest, LANDED, FLYING)
    outcome = xp.where(out, OUT_OF_BOUNDS, outcome)
    outcome = xp.where(crashed, CRASHED, outcome)
    last_step = (s["steps"] + 1.0) >= env["max_steps"]
    done = xp.where(crashed | out | at_rest | last_step, 1.0, 0.0)

    new.update(
        {
            "fuel": fuel,
            "gravity_dev": gravity_dev,
            "wind_dev": wind_dev,
            "mem0": mem_out[0],
            "mem1": mem_out[1],
            "mem2": mem_out[2],
            "mem3": mem_out[3],
            "score": s["score"] + reward,
            "shaping": new_shaping,
            "done": done,
            "outcome": outcome,
            "steps": s["steps"] + 1.0,
            "still_steps": still_steps,
        }
    )
    finished = s["done"] > 0.5
    return {name: xp.where(finished, s[name], new[name]) for name in STATE_FIELDS}
