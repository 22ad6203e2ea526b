"""How a controller's landers fail, in a few lines a model can read.

A swarm run ends with every lander's final state (``model.STATE_FIELDS``: position,
velocity, angle, legs, fuel, outcome code, steps), from the native kernel and the numpy
reference alike. From it each failed lander gets a kind:

* ``hard touchdown``: touched down coming down faster than the crash speed;
* ``sideways touchdown``: touched down moving sideways faster than the crash speed;
* ``tip-over``: the body itself hit the ground (the lander was on its side or upside
  down at contact);
* ``drift out``: left the screen sideways (the world has no ceiling);
* ``timeout``: still flying at the step limit (hovering, or creeping down too slowly).

The final state is the state after the contact step, where the ground has already
removed the downward speed, so a crash's kind is read from what the contact left:
the body below the ground is a tip-over, the sideways speed that crashed it is kept
(after the ground's friction, the same value the model tested), and a crash with
neither was a hard touchdown (the model's only other crash). A lander that came down
both too hard and too fast sideways counts as a sideways touchdown.

The failures are binned by the lander's weather or start, which are drawn per lander
from the seed (``model.agent_parameters``) and so can be recomputed for any run; and
the worst lander (lowest score) gets a one-line story. That story is richer with a
trajectory, which the native kernel does not keep: ``fly_failures`` flies a few dozen
landers with the numpy reference simulation (``model.step`` on numpy, the same
physics), recording every step, which is what a prompt needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from . import model
from .numpy_ops import NumpyOps

if TYPE_CHECKING:  # only a type here: reading a table does not load MLIR
    from ..compiler.reference import ReferenceProgram

FloatArray = NDArray[np.float64]
State = Mapping[str, FloatArray]
# A controller as ``model.step`` calls it: (obs, mem) -> (action, mem_out), each a list
# of per-lander arrays (8 observations, 4 memory slots, 2 actions).
Controller = Callable[
    [list[FloatArray], list[FloatArray]], tuple[list[FloatArray], list[FloatArray]]
]

HARD_TOUCHDOWN = "hard touchdown"
SIDEWAYS_TOUCHDOWN = "sideways touchdown"
TIP_OVER = "tip-over"
DRIFT_OUT = "drift out"
TIMEOUT = "timeout"
FAILURE_KINDS = (HARD_TOUCHDOWN, SIDEWAYS_TOUCHDOWN, TIP_OVER, DRIFT_OUT, TIMEOUT)

# Recomputing the body's height from the stored state repeats the model's arithmetic
# with one more rounding (the levelling undone); the model's test is body_low < 0.
_BODY_TOLERANCE = 1e-9


# -- the kind of each failure ------------------------------------------------------------------


def _body_low(state: State) -> FloatArray:
    """The body's lowest point at the last step, as ``model.step`` computed it: before
    levelling, which on both feet halves the stored angle."""
    both_feet = (state["leg_left"] > 0.5) & (state["leg_right"] > 0.5)
    angle = np.where(both_feet, state["angle"] / (1.0 - model.LEVELLING), state["angle"])
    return np.asarray(
        state["y"]
        - model.BODY_HALF_WIDTH * np.abs(np.sin(angle))
        - model.BODY_BOTTOM * np.cos(angle),
        dtype=np.float64,
    )


def failure_kinds(state: State, env: model.Environment) -> list[str | None]:
    """Per lander: its failure's kind (one of ``FAILURE_KINDS``), None if it landed."""
    outcome = state["outcome"]
    on_ground = (state["leg_left"] > 0.5) | (state["leg_right"] > 0.5)
    body_hit = _body_low(state) < _BODY_TOLERANCE
    sideways = on_ground & (np.abs(state["vx"]) > env.crash_speed)
    kinds: list[str | None] = []
    for i, code in enumerate(outcome):
        if code == model.LANDED:
            kinds.append(None)
        elif code == model.OUT_OF_BOUNDS:
            kinds.append(DRIFT_OUT)
        elif code == model.CRASHED:
            kinds.append(
                TIP_OVER if body_hit[i] else SIDEWAYS_TOUCHDOWN if sideways[i] else HARD_TOUCHDOWN
            )
        else:  # flying: the run's step limit came first
            kinds.append(TIMEOUT)
    return kinds


# -- conditions: what each lander met ------------------------------------------------------------


@dataclass(frozen=True)
class Binning:
    """A per-lander draw cut into three bins of its range."""

    title: str
    labels: tuple[str, str, str]


BINNINGS = {
    "wind": Binning("steady wind", ("to the left", "light", "to the right")),
    "gusts": Binning("gusts", ("mild", "moderate", "strong")),
    "gravity": Binning("gravity noise", ("weak", "moderate", "strong")),
    "start": Binning("start velocity", ("moving left", "nearly still", "moving right")),
}


def _ratio(numerator: FloatArray, denominator: float) -> FloatArray:
    """numerator / denominator; 0 where the condition is off (denominator 0)."""
    if denominator == 0:
        return np.zeros_like(numerator)
    return np.asarray(numerator / denominator, dtype=np.float64)


def _stationary_sigma(kick: FloatArray, decay: FloatArray) -> FloatArray:
    """An Ornstein-Uhlenbeck process's stationary std from its step factors."""
    return np.asarray(kick / np.sqrt(np.maximum(1.0 - decay * decay, 1e-300)), dtype=np.float64)


def condition_draws(
    env: model.Environment, seed: int, agents: NDArray[np.uint64], by: str
) -> FloatArray:
    """Each lander's draw for ``by`` (a key of ``BINNINGS``) in [-1, 1]: -1 and 1 are the
    ends of its range, 0 its middle (and every lander when the condition is off, e.g.
    no wind at turbulence 0)."""
    params = model.agent_parameters(env, seed, agents)
    if by == "wind":
        draws = _ratio(np.asarray(params["wind_mean"], dtype=np.float64), env.wind_mean_max)
    elif by in ("gusts", "gravity"):
        # the noise's strength per lander is the condition's times a factor in 0.5..1.5
        noise = env.wind_noise if by == "gusts" else env.gravity_noise
        prefix = "wind" if by == "gusts" else "gravity"
        sigma = _stationary_sigma(params[f"{prefix}_kick"], params[f"{prefix}_decay"])
        draws = 2.0 * (_ratio(sigma, noise) - 1.0) if noise else np.zeros(len(agents))
    elif by == "start":
        draws = _ratio(np.asarray(params["_vx0"], dtype=np.float64), env.initial_speed)
    else:
        raise ValueError(f"bin by {by!r}: choose one of {', '.join(BINNINGS)}")
    return np.clip(draws, -1.0, 1.0)


def condition_bins(
    env: model.Environment, seed: int, agents: NDArray[np.uint64], by: str = "wind"
) -> NDArray[np.int64]:
    """Each lander's bin (0, 1 or 2) for ``by``: the thirds of the draw's range."""
    draws = condition_draws(env, seed, agents, by)
    return np.digitize(draws, (-1.0 / 3.0, 1.0 / 3.0)).astype(np.int64)


# -- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedLander:
    """One failed lander's last state."""

    agent: int  # its number in the seed's landers
    kind: str
    condition: str  # its bin's label
    score: float
    steps: int
    x: float
    height: float  # of its feet above the ground when level (y - LEG_DOWN), metres
    vx: float
    vy: float
    angle: float
    fuel: float  # fraction of the tank left


@dataclass(frozen=True)
class FailureTable:
    """How a swarm's landers failed, per kind and per condition bin."""

    gravity: float
    turbulence: float
    agents: int
    landed: int
    condition: str  # what the bins are, e.g. "steady wind"
    bins: tuple[str, ...]  # their labels
    landers_per_bin: tuple[int, ...]
    counts: dict[str, tuple[int, ...]]  # kind -> failures per bin, every kind in order
    failed: tuple[FailedLander, ...]  # worst score first
    worst: str  # the worst lander's story in one line; "" when every lander landed

    def total(self, kind: str) -> int:
        return sum(self.counts[kind])


def lander_summary(lander: FailedLander) -> str:
    """The one line for a failed lander from its last state alone."""
    where = f"at step {lander.steps} ({lander.steps * model.DT:.1f} s), x {lander.x:+.1f} m"
    if lander.kind == TIMEOUT:
        where += f", height {lander.height:.1f} m, vy {lander.vy:+.2f} m/s"
    elif lander.kind == DRIFT_OUT:
        where += f", height {lander.height:.1f} m, vx {lander.vx:+.2f} m/s"
    else:
        where += f", vx {lander.vx:+.2f} m/s"
    return (
        f"lander {lander.agent} ({lander.condition}), score {lander.score:.0f}: {lander.kind} "
        f"{where}, angle {lander.angle:+.2f} rad, fuel left {lander.fuel:.0%}"
    )


def failure_table(
    state: State,
    env: model.Environment,
    seed: int,
    first_agent: int = 0,
    by: str = "wind",
    trajectory: Sequence[State] | None = None,
) -> FailureTable:
    """The failure table of one swarm run: ``state`` is its final state, one array
    element per lander, landers ``first_agent``... of ``seed`` (a ``RunResult.state``,
    or one candidate's row of a population run: ``{k: v[c] for k, v in run.state.items()}``).
    With the run's ``trajectory`` (the numpy reference's, one state per step) the worst
    lander's line tells its flight, else only its end."""
    agents = len(state["outcome"])
    numbers = np.arange(first_agent, first_agent + agents, dtype=np.uint64)
    binning = BINNINGS.get(by)
    if binning is None:
        raise ValueError(f"bin by {by!r}: choose one of {', '.join(BINNINGS)}")
    bins = condition_bins(env, seed, numbers, by)
    kinds = failure_kinds(state, env)
    counts = {kind: [0, 0, 0] for kind in FAILURE_KINDS}
    failed = []
    for i, kind in enumerate(kinds):
        if kind is None:
            continue
        counts[kind][bins[i]] += 1
        failed.append(
            FailedLander(
                agent=first_agent + i,
                kind=kind,
                condition=f"{binning.title} {binning.labels[bins[i]]}",
                score=float(state["score"][i]),
                steps=int(state["steps"][i]),
                x=float(state["x"][i]),
                height=float(state["y"][i] - model.LEG_DOWN),
                vx=float(state["vx"][i]),
                vy=float(state["vy"][i]),
                angle=float(state["angle"][i]),
                fuel=float(state["fuel"][i]),
            )
        )
    # NaN scores (a controller that output NaN) sort as the worst
    failed.sort(key=lambda f: (-math.inf if math.isnan(f.score) else f.score, f.agent))
    worst = ""
    if failed:
        first = failed[0]
        worst = (
            trajectory_summary(trajectory, first.agent - first_agent, first, env)
            if trajectory
            else lander_summary(first)
        )
    return FailureTable(
        gravity=env.gravity,
        turbulence=env.turbulence,
        agents=agents,
        landed=sum(kind is None for kind in kinds),
        condition=binning.title,
        bins=binning.labels,
        landers_per_bin=tuple(int((bins == b).sum()) for b in range(3)),
        counts={kind: tuple(c) for kind, c in counts.items()},
        failed=tuple(failed),
        worst=worst,
    )


def trajectory_summary(
    trajectory: Sequence[State], index: int, lander: FailedLander, env: model.Environment
) -> str:
    """The line for a failed lander with its flight: where it tilted most, when its
    fuel ran out and, for a crash, how fast it came down just before contact (the
    stored state after contact has lost that speed)."""
    steps = min(lander.steps, len(trajectory))
    angle = np.array([float(trajectory[t]["angle"][index]) for t in range(steps)])
    fuel = np.array([float(trajectory[t]["fuel"][index]) for t in range(steps)])
    line = lander_summary(lander)
    details = []
    if lander.kind in (HARD_TOUCHDOWN, SIDEWAYS_TOUCHDOWN, TIP_OVER) and steps >= 2:
        before = trajectory[steps - 2]
        details.append(
            f"came down at {-float(before['vy'][index]):.1f} m/s, sideways "
            f"{float(before['vx'][index]):+.1f} m/s (crash speed {env.crash_speed:g})"
        )
    if steps:
        tilt = int(np.argmax(np.abs(angle)))
        details.append(f"tilted most {angle[tilt]:+.2f} rad at step {tilt + 1}")
    dry = np.flatnonzero(fuel <= 0.0)
    if len(dry):
        details.append(f"fuel ran out at step {int(dry[0]) + 1}")
    return line + ("; " + ", ".join(details) if details else "")


def format_failure_table(table: FailureTable) -> str:
    """The table in three lines for a model's prompt."""
    failed = table.agents - table.landed
    head = (
        f"{table.agents} landers (gravity {table.gravity:g} m/s^2, turbulence "
        f"{table.turbulence:g}): {table.landed} landed, {failed} failed"
    )
    if failed == 0:
        return head + "."
    present = [kind for kind in FAILURE_KINDS if table.total(kind)]
    head += ": " + ", ".join(f"{kind} {table.total(kind)}" for kind in present)
    bins = " / ".join(table.bins)
    per_bin = "/".join(str(n) for n in table.landers_per_bin)
    split = ", ".join(f"{kind} " + "/".join(str(n) for n in table.counts[kind]) for kind in present)
    return (
        f"{head}\nfailures by {table.condition} ({bins}; landers {per_bin}): {split}\n"
        f"worst: {table.worst}"
    )


# -- flying a few landers with the numpy reference ------------------------------------------


@dataclass(frozen=True)
class Flight:
    """Landers flown with the numpy reference: their final state and every step's."""

    agents: NDArray[np.uint64]
    state: dict[str, FloatArray]
    trajectory: tuple[dict[str, FloatArray], ...]


def fly_reference(
    control: Controller,
    env: model.Environment,
    seed: int,
    agents: Sequence[int] | NDArray[np.uint64],
    max_steps: int = model.MAX_STEPS,
    record_trajectory: bool = True,
) -> Flight:
    """Fly the landers numbered ``agents`` of ``seed`` (any numbers: a swarm's worst
    lander alone, say) with ``control``, as ``reference.simulate_reference`` does."""
    numbers = np.asarray(agents, dtype=np.uint64)
    params, state = model.start(env, seed, numbers)
    constants = model.runtime_constants(env, max_steps)
    # 1-element uint64 arrays, as NumpyOps.u64 makes them: numpy warns when uint64
    # scalars overflow, and the noise's hashing wraps around on purpose
    seed64 = np.array([seed], dtype=np.uint64)
    trajectory = []
    for t in range(max_steps):
        if state["done"].min() > 0.5:
            break
        state = model.step(
            NumpyOps,
            state,
            params,
            constants,
            seed64,
            numbers,
            np.array([t], dtype=np.uint64),
            control,
        )
        if record_trajectory:
            trajectory.append({k: np.array(v, dtype=np.float64) for k, v in state.items()})
    final = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
    return Flight(numbers, final, tuple(trajectory))


def reference_controller(program: ReferenceProgram) -> Controller:
    """A TensorLang program's ``@control`` as a ``Controller`` (its numpy reference
    semantics). An assert that fails is not a crash kind: the swarm reports it."""

    def control(
        obs: list[FloatArray], mem: list[FloatArray]
    ) -> tuple[list[FloatArray], list[FloatArray]]:
        (action, mem_out), _ = program.call("control", np.stack(obs, axis=1), np.stack(mem, axis=1))
        return (
            [np.asarray(action[:, i], dtype=np.float64) for i in range(action.shape[1])],
            [np.asarray(mem_out[:, i], dtype=np.float64) for i in range(mem_out.shape[1])],
        )

    return control


def fly_failures(
    control: Controller,
    env: model.Environment,
    seed: int,
    agents: int = 48,
    by: str = "wind",
    max_steps: int = model.MAX_STEPS,
) -> FailureTable:
    """The failure table of ``agents`` landers (0.. of ``seed``) flown with the numpy
    reference, the worst lander's line with its flight."""
    flight = fly_reference(control, env, seed, range(agents), max_steps)
    return failure_table(flight.state, env, seed, 0, by, flight.trajectory)


__all__ = [
    "BINNINGS",
    "DRIFT_OUT",
    "FAILURE_KINDS",
    "HARD_TOUCHDOWN",
    "SIDEWAYS_TOUCHDOWN",
    "TIMEOUT",
    "TIP_OVER",
    "Binning",
    "Controller",
    "FailedLander",
    "FailureTable",
    "Flight",
    "condition_bins",
    "condition_draws",
    "failure_kinds",
    "failure_table",
    "fly_failures",
    "fly_reference",
    "format_failure_table",
    "lander_summary",
    "reference_controller",
    "trajectory_summary",
]
