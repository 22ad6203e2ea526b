"""The failure table (sim/failures.py): crafted final states, and crafted controllers
flown with the numpy reference, each failing one known way."""

import math

import numpy as np
import pytest

from neurojit_tui.sim import model
from neurojit_tui.sim.failures import (
    DRIFT_OUT,
    FAILURE_KINDS,
    HARD_TOUCHDOWN,
    SIDEWAYS_TOUCHDOWN,
    TIMEOUT,
    TIP_OVER,
    condition_bins,
    condition_draws,
    failure_kinds,
    failure_table,
    fly_failures,
    fly_reference,
    format_failure_table,
)

CALM_MOON = model.Environment(turbulence=0.0)  # no wind: a lander drifts only as it starts


def _state(rows):
    """Final states from per-lander overrides of a lander resting level on the pad."""
    resting = {name: 0.0 for name in model.STATE_FIELDS}
    resting.update(y=model.LEG_DOWN, leg_left=1.0, leg_right=1.0, fuel=0.5, done=1.0, steps=300.0)
    return {
        name: np.array([{**resting, **row}[name] for row in rows], dtype=np.float64)
        for name in model.STATE_FIELDS
    }


def test_crafted_final_states_name_each_kind():
    state = _state(
        [
            {"outcome": model.LANDED, "score": 230.0},
            # level on both feet, slow sideways: the vertical impact crashed it
            {"outcome": model.CRASHED, "vx": 0.3, "score": -120.0},
            # one foot down, sliding faster than the crash speed
            {"outcome": model.CRASHED, "vx": -2.0, "leg_right": 0.0, "angle": 0.1},
            # upside down, body in the ground, feet in the air
            {
                "outcome": model.CRASHED,
                "angle": math.pi,
                "y": -0.4,
                "leg_left": 0.0,
                "leg_right": 0.0,
            },
            {
                "outcome": model.OUT_OF_BOUNDS,
                "x": 10.01,
                "y": 6.0,
                "leg_left": 0.0,
                "leg_right": 0.0,
            },
            {
                "outcome": model.FLYING,
                "y": 8.0,
                "steps": 1000.0,
                "done": 1.0,
                "leg_left": 0.0,
                "leg_right": 0.0,
            },
        ]
    )
    env = model.Environment()
    assert failure_kinds(state, env) == [
        None,
        HARD_TOUCHDOWN,
        SIDEWAYS_TOUCHDOWN,
        TIP_OVER,
        DRIFT_OUT,
        TIMEOUT,
    ]
    table = failure_table(state, env, seed=0)
    assert table.agents == 6 and table.landed == 1
    assert all(table.total(kind) == 1 for kind in FAILURE_KINDS)
    assert sum(table.landers_per_bin) == 6
    # the worst score (-120, the hard touchdown; the others scored 0) tells its end
    assert table.failed[0].kind == HARD_TOUCHDOWN and table.failed[0].agent == 1
    assert table.worst.startswith("lander 1 (steady wind")
    assert "hard touchdown at step 300" in table.worst


def test_engines_off_is_a_hard_touchdown():
    flight = fly_reference(
        lambda obs, mem: ([obs[0] * 0 - 1, obs[0] * 0], mem), CALM_MOON, 0, range(16)
    )
    assert (flight.state["outcome"] == model.CRASHED).all()
    assert failure_kinds(flight.state, CALM_MOON) == [HARD_TOUCHDOWN] * 16
    # the free fall from 10 m at the Moon's gravity: about 5.7 m/s at contact
    table = failure_table(flight.state, CALM_MOON, 0, trajectory=flight.trajectory)
    assert "came down at 5." in table.worst


def test_engines_off_and_fast_sideways_is_a_sideways_touchdown():
    # heavy gravity: down within 3 s (starting up to 3 m/s upwards), too soon to drift
    # out at up to 3 m/s sideways
    env = model.Environment(gravity=4.5, turbulence=0.0, initial_speed=3.0)
    flight = fly_reference(lambda obs, mem: ([obs[0] * 0 - 1, obs[0] * 0], mem), env, 0, range(32))
    kinds = failure_kinds(flight.state, env)
    start_vx = model.agent_parameters(env, 0, flight.agents)["_vx0"]
    # the ground's friction takes 10% of the sideways speed before the crash test
    expected = [
        SIDEWAYS_TOUCHDOWN if 0.9 * abs(v) > env.crash_speed else HARD_TOUCHDOWN for v in start_vx
    ]
    assert kinds == expected
    assert SIDEWAYS_TOUCHDOWN in kinds and HARD_TOUCHDOWN in kinds


def _hover(obs, mem):
    """Main engine on while falling, off while rising; the lateral engine never fires
    (so the lander never turns and keeps the sideways speed it started with)."""
    main = np.where(obs[3] < 0.0, 1.0, -1.0)
    return [main, obs[0] * 0], mem


def test_hovering_forever_times_out_or_drifts_out():
    flight = fly_reference(_hover, CALM_MOON, 0, range(24))
    kinds = failure_kinds(flight.state, CALM_MOON)
    start_vx = model.agent_parameters(CALM_MOON, 0, flight.agents)["_vx0"]
    # 20 s of flight: out past 10 m when starting faster than 0.5 m/s sideways
    for kind, vx in zip(kinds, start_vx):
        if abs(vx) > 0.55:
            assert kind == DRIFT_OUT
        elif abs(vx) < 0.45:
            assert kind == TIMEOUT
    assert {DRIFT_OUT, TIMEOUT} <= set(kinds)
    table = failure_table(flight.state, CALM_MOON, 0, by="start", trajectory=flight.trajectory)
    # drifting out happens to landers that start moving sideways, never to still ones
    assert table.counts[DRIFT_OUT][1] == 0
    assert table.counts[DRIFT_OUT][0] + table.counts[DRIFT_OUT][2] == table.total(DRIFT_OUT)


def test_spinning_tips_over():
    # full lateral thrust spins the lander; it falls on its side or head
    env = model.Environment(turbulence=0.0)
    flight = fly_reference(
        lambda obs, mem: ([obs[0] * 0 - 1, obs[0] * 0 + 1], mem), env, 0, range(16)
    )
    kinds = failure_kinds(flight.state, env)
    assert TIP_OVER in kinds
    assert set(kinds) <= {TIP_OVER, HARD_TOUCHDOWN, SIDEWAYS_TOUCHDOWN, DRIFT_OUT}


def test_the_table_for_a_prompt():
    table = fly_failures(_hover, CALM_MOON, seed=0, agents=24, by="start")
    text = format_failure_table(table)
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(
        "24 landers (gravity 1.62 m/s^2, turbulence 0): 0 landed, 24 failed: "
    )
    assert f"drift out {table.total(DRIFT_OUT)}" in lines[0]
    assert lines[1].startswith(
        "failures by start velocity (moving left / nearly still / moving right"
    )
    assert lines[2].startswith("worst: lander ")
    assert "tilted most" in lines[2]  # the trajectory's part of the story
    landed = failure_table(_state([{"outcome": model.LANDED}]), CALM_MOON, 0)
    assert format_failure_table(landed).endswith("1 landed, 0 failed.")
    assert landed.worst == ""


def test_condition_bins():
    env = model.Environment(turbulence=2.0)
    agents = np.arange(300, dtype=np.uint64)
    for by in ("wind", "gusts", "gravity", "start"):
        draws = condition_draws(env, 3, agents, by)
        assert draws.min() >= -1.0 and draws.max() <= 1.0
        # uniform draws: every third of the range gets about a third of the landers
        assert (np.bincount(condition_bins(env, 3, agents, by), minlength=3) > 60).all()
    # no turbulence: no wind and no gusts, every lander in the middle bin
    assert (condition_bins(CALM_MOON, 3, agents, "wind") == 1).all()
    assert (condition_bins(CALM_MOON, 3, agents, "gusts") == 1).all()
    with pytest.raises(ValueError):
        condition_draws(env, 3, agents, "colour")
    with pytest.raises(ValueError):
        failure_table(_state([{"outcome": model.LANDED}]), env, 0, by="colour")


def test_the_native_kernels_final_states_give_the_same_table(compiler):
    """The kernel's per-lander final states carry what the table reads: a sample that
    fails under heavy gravity gets the same table from the kernel as from the numpy
    reference."""
    from neurojit_tui.compiler.reference import ReferenceProgram
    from neurojit_tui.sim.failures import reference_controller
    from neurojit_tui.sim.native import NativeSwarm

    from .conftest import SAMPLES

    text = (SAMPLES / "pd.mlir").read_text()
    env = model.Environment(gravity=3.0, turbulence=0.8)
    native = NativeSwarm(text, "pd.mlir", compiler).run(env, 32, seed=4)
    module, _ = compiler.parse(text, "pd.mlir", require_control=True)
    reference = fly_failures(reference_controller(ReferenceProgram(module, "pd.mlir")), env, 4, 32)
    from_kernel = failure_table(native.state, env, 4)
    assert from_kernel.counts == reference.counts
    assert from_kernel.landed == reference.landed < 32
    assert from_kernel.failed[0].agent == reference.failed[0].agent
