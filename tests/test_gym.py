"""The lander as Gymnasium environments, and `neurojit gym` flying TensorLang controllers in
Gymnasium environments, Gymnasium's own Box2D LunarLanderContinuous-v3 included: their
arguments, the scores, and the parallel judge."""

import json
import subprocess
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import neurojit_tui.gym  # noqa: F401  (registers NeuroJIT/LunarLander-v0)
from neurojit_tui.gym import ENV_ID
from neurojit_tui.gym.environments import (
    EnvSpec,
    FlightError,
    LandingMonitor,
    make_env,
    parse_env_args,
)
from neurojit_tui.gym.fly import cvar10, fly
from neurojit_tui.gym.judge import Judge
from neurojit_tui.gym.lander import LunarLanderEnv
from neurojit_tui.gym.vector import LunarLanderVectorEnv
from neurojit_tui.paths import PROJECT_ROOT
from neurojit_tui.sim import model

SAMPLES = PROJECT_ROOT / "samples"
BOX2D = "LunarLanderContinuous-v3"
ASSERTING = """func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %y = "tensorlang.extract"(%obs) {index = array<i64: 1>} : (tensor<8xf64>) -> f64
  %limit = arith.constant 0.5 : f64
  %high = arith.cmpf ogt, %y, %limit : f64
  "tensorlang.assert"(%high) {message = "lander must stay high"} : (i1) -> ()
  %a = "tensorlang.constant"() {value = dense<[0.2, 0.0]> : tensor<2xf64>} : () -> tensor<2xf64>
  return %a, %mem : tensor<2xf64>, tensor<4xf64>
}
"""
# The kernel's sin and cos are its own polynomials (sim/native.py), libm's differ in the
# last bit: the tolerance the project holds its two implementations to.
TOLERANCE = 1e-9


def neurojit(*args):
    return subprocess.run(
        [sys.executable, "-m", "neurojit_tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_environment_passes_gymnasiums_checker_without_a_warning():
    env = gymnasium.make(ENV_ID)
    assert env.spec.max_episode_steps == model.MAX_STEPS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    ansi = gymnasium.make(ENV_ID, render_mode="ansi")
    ansi.reset(seed=0)
    assert "altitude" in ansi.render()


def test_gravity_turbulence_and_the_physics_are_make_arguments():
    env = gymnasium.make(ENV_ID, gravity=3.0, turbulence=0.0, crash_speed=2.0).unwrapped
    assert (env.environment.gravity, env.environment.turbulence, env.environment.crash_speed) == (
        3.0,
        0.0,
        2.0,
    )
    with pytest.raises(TypeError, match="unknown lander setting"):
        LunarLanderEnv(wind=3)
    with pytest.raises(ValueError, match="gravity must be a finite number"):
        LunarLanderEnv(gravity=float("nan"))


def test_calm_free_fall_follows_the_model():
    """No engines, no turbulence: after one step the lander has fallen by g * dt^2 and the
    reward is the change of Gymnasium's shaping potential."""
    env = LunarLanderEnv(gravity=1.62, turbulence=0.0)
    first, _ = env.reset(seed=3)
    after, reward, terminated, truncated, _ = env.step(np.zeros(2, dtype=np.float32))
    height = model.WORLD_H / 2
    assert after[1] == pytest.approx(
        first[1] + (first[3] * model.FPS / height * model.DT - 1.62 * model.DT**2) / height,
        abs=1e-12,
    )
    assert reward == pytest.approx(
        -100 * (np.hypot(after[0], after[1]) - np.hypot(first[0], first[1]))
        - 100 * (np.hypot(after[2], after[3]) - np.hypot(first[2], first[3])),
        abs=1e-9,
    )
    assert not terminated and not truncated


def test_reset_seed_fixes_the_sequence_of_episodes():
    a, b = LunarLanderEnv(), LunarLanderEnv()
    first = [a.reset(seed=11)[0], a.reset()[0]]
    second = [b.reset(seed=11)[0], b.reset()[0]]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first[0], first[1])  # each episode its own weather and start


def run_both(autoreset_mode, num_envs=4, steps=1200, seed=7):
    """Step the vector environment and num_envs single environments (each reset with
    seed + i, and again as the vector one autoresets) with the same random actions."""
    vector = gymnasium.make_vec(ENV_ID, num_envs=num_envs, autoreset_mode=autoreset_mode)
    singles = [gymnasium.make(ENV_ID) for _ in range(num_envs)]
    observations, _ = vector.reset(seed=seed)
    single = np.array([env.reset(seed=seed + i)[0] for i, env in enumerate(singles)])
    np.testing.assert_array_equal(observations, single)
    rng = np.random.default_rng(0)
    ended = np.zeros(num_envs, dtype=bool)
    episodes = 0
    for _ in range(steps):
        actions = rng.uniform(-1, 1, (num_envs, 2)).astype(np.float32)
        observations, rewards, terminated, truncated, infos = vector.step(actions)
        for i, env in enumerate(singles):
            if ended[i] and autoreset_mode == AutoresetMode.NEXT_STEP:
                expected = (env.reset()[0], 0.0, False, False)
                ended[i] = False
            else:
                obs, reward, term, trunc, info = env.step(actions[i])
                expected = (obs, reward, term, trunc)
                if term or trunc:
                    episodes += 1
                    ended[i] = True
                    if term:
                        outcomes = (
                            infos["final_info"]
                            if autoreset_mode == AutoresetMode.SAME_STEP
                            else infos
                        )
                        assert outcomes["outcome"][i] == info["outcome"]
                    if autoreset_mode == AutoresetMode.SAME_STEP:
                        np.testing.assert_allclose(
                            infos["final_obs"][i], obs, rtol=0, atol=TOLERANCE
                        )
                        expected = (env.reset()[0], reward, term, trunc)
                        ended[i] = False
            np.testing.assert_allclose(observations[i], expected[0], rtol=0, atol=TOLERANCE)
            assert rewards[i] == pytest.approx(expected[1], rel=0, abs=TOLERANCE)
            assert (terminated[i], truncated[i]) == (expected[2], expected[3])
    return vector, episodes


def test_the_vector_environment_equals_the_single_one():
    vector, episodes = run_both(AutoresetMode.NEXT_STEP)
    assert isinstance(vector.unwrapped, LunarLanderVectorEnv)  # the native step kernel
    assert vector.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert episodes >= 4  # crashes, landings or the time limit, with autoresets after them


def test_the_vector_environment_same_step_autoreset():
    _, episodes = run_both(AutoresetMode.SAME_STEP, num_envs=3, steps=600, seed=21)
    assert episodes >= 3


def test_the_vector_environment_truncates_at_the_time_limit():
    envs = LunarLanderVectorEnv(num_envs=2, turbulence=0.0, max_episode_steps=5)
    envs.reset(seed=0)
    hover = np.tile(np.array([0.0, 0.0], dtype=np.float32), (2, 1))
    for step in range(1, 6):
        _, _, terminated, truncated, _ = envs.step(hover)
        assert not terminated.any() and truncated.all() == (step == 5)
    observations, rewards, _, truncated, _ = envs.step(hover)  # the autoreset step
    assert (rewards == 0).all() and not truncated.any()
    assert envs.observation_space.contains(observations)


def test_neurojit_gym_flies_the_heuristic_in_gymnasiums_box2d_lander():
    result = neurojit(
        "gym",
        SAMPLES / "heuristic.mlir",
        "--env",
        "LunarLanderContinuous-v3",
        "--episodes",
        3,
        "--seed",
        0,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"env", "episodes", "mean_return", "returns", "seconds"} <= set(report)
    assert {"landed", "solved", "cvar10", "landings", "seeds", "env_args"} <= set(report)
    assert report["seeds"] == [0, 1, 2] and report["env_args"] == {}
    assert report["env"] == "LunarLanderContinuous-v3" and report["episodes"] == 3
    assert len(report["returns"]) == 3 and report["seconds"] > 0
    # the sample is a port of Gymnasium's own heuristic: it lands, and scores as "solved"
    assert report["mean_return"] == pytest.approx(np.mean(report["returns"]))
    assert report["mean_return"] >= 200


def test_neurojit_gym_in_our_environment_and_its_text_report():
    result = neurojit("gym", SAMPLES / "heuristic.mlir", "--env", ENV_ID, "--episodes", 2)
    assert result.returncode == 0, result.stderr
    assert f"heuristic.mlir in {ENV_ID}: 2 episode(s), seed 0..1, mean return" in result.stdout
    assert "landed 100%, solved 100%" in result.stdout


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["--env", "CartPole-v1"],
            "CartPole-v1: its observation space is Box(4,); a TensorLang controller needs Box(8,)",
        ),
        (["--env", "Nope-v0"], "cannot make Gymnasium environment 'Nope-v0'"),
        (
            ["--env", "no_such_module:Thing-v0"],
            "cannot make Gymnasium environment 'no_such_module:Thing-v0'",
        ),
        (
            ["--env", BOX2D, "--env-arg", "nosuch=1"],
            f"cannot make Gymnasium environment '{BOX2D} nosuch=1': --env-arg nosuch: {BOX2D} "
            "takes no such argument; it takes continuous, disable_env_checker, enable_wind,",
        ),
        (
            ["--env", BOX2D, "--env-arg", "enable_wind=maybe"],
            f"--env-arg enable_wind=maybe: {BOX2D} takes true or false",
        ),
        (
            ["--env", BOX2D, "--env-arg", "wind_power=strong"],
            f"--env-arg wind_power=strong: {BOX2D} takes a number",
        ),
        (["--env", BOX2D, "--env-arg", "gravity="], f"--env-arg gravity=: {BOX2D} takes a number"),
        (
            ["--env", BOX2D, "--env-arg", "gravity=-20"],
            f"cannot make Gymnasium environment '{BOX2D} gravity=-20': AssertionError:",
        ),
        (["--env", BOX2D, "--env-arg", "wind_power"], "--env-arg 'wind_power': expected KEY=VALUE"),
        (["--env", BOX2D, "--env-arg", "=15"], "--env-arg '=15': the key before '=' is empty"),
    ],
)
def test_neurojit_gym_refuses_environments_that_do_not_fit(arguments, message):
    result = neurojit("gym", SAMPLES / "pd.mlir", *arguments)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_neurojit_gym_reports_compile_errors_like_check():
    broken = SAMPLES / "broken" / "slice_bounds.mlir"
    result = neurojit("gym", broken, "--env", ENV_ID)
    assert result.returncode == 1
    assert f"{broken}:5:11: error: slice out of bounds" in result.stderr


def test_env_args_are_checked_against_the_environments_own_arguments():
    """The creator's signature says which arguments it takes and of what kind; one that
    takes ``**kwargs`` takes any name, and ``gymnasium.make``'s own arguments pass."""
    import gymnasium

    from neurojit_tui.gym.environments import EnvSpec, FlightError, check_env_args

    fine = {"enable_wind": True, "wind_power": 15, "gravity": -9.5, "max_episode_steps": 500}
    check_env_args(EnvSpec.of(BOX2D, fine))
    with pytest.raises(FlightError, match="takes true or false"):
        check_env_args(EnvSpec.of(BOX2D, {"continuous": 1}))
    with pytest.raises(FlightError, match="takes a number"):
        check_env_args(EnvSpec.of(BOX2D, {"turbulence_power": True}))

    def open_ended(strength: float = 1.0, **options):
        raise AssertionError("only inspected, never made")

    gymnasium.register("NeuroJITTest/OpenEnded-v0", entry_point=open_ended)
    try:
        check_env_args(EnvSpec.of("NeuroJITTest/OpenEnded-v0", {"anything": "goes"}))
        with pytest.raises(FlightError, match="strength=x: .* takes a number"):
            check_env_args(EnvSpec.of("NeuroJITTest/OpenEnded-v0", {"strength": "x"}))
    finally:
        del gymnasium.registry["NeuroJITTest/OpenEnded-v0"]
    # an id gymnasium does not know is left to gymnasium.make, which says so
    check_env_args(EnvSpec.of("Nope-v0", {"x": 1}))


def test_env_args_are_json_scalars_or_text():
    assert parse_env_args(
        ["enable_wind=true", "wind_power=15", "gravity=-9.5", "name=abc", "off=False", "e=1e3"]
    ) == {
        "enable_wind": True,
        "wind_power": 15,
        "gravity": -9.5,
        "name": "abc",
        "off": "False",  # JSON's spelling only
        "e": 1000.0,
    }
    parsed = parse_env_args(["x=NaN", "y=", "z=a=b", "w=null", "v=[1]"])
    assert parsed == {"x": "NaN", "y": "", "z": "a=b", "w": "null", "v": "[1]"}
    assert isinstance(parse_env_args(["n=15"])["n"], int)
    assert parse_env_args([]) == {}


@pytest.mark.parametrize(
    "items, message",
    [
        (["wind_power"], "expected KEY=VALUE"),
        (["=3"], "the key before '=' is empty"),
        (["  =3"], "the key before '=' is empty"),
        (["wind power=3"], "is not a keyword argument name"),
        (["a=1", "a=2"], "--env-arg a is given twice"),
    ],
)
def test_malformed_env_args_are_one_line_errors(items, message):
    with pytest.raises(FlightError, match=message) as error:
        parse_env_args(items)
    assert "\n" not in str(error.value)


def test_env_spec_is_canonical_and_hashable():
    one = EnvSpec.parse(BOX2D, ["wind_power=15.0", "enable_wind=true"])
    other = EnvSpec.of(BOX2D, {"enable_wind": True, "wind_power": 15.0})
    assert one == other and hash(one) == hash(other) and len({one, other}) == 1
    assert one.args == (("enable_wind", True), ("wind_power", 15.0))
    assert one.label() == f"{BOX2D} enable_wind=True wind_power=15.0"
    assert one.to_json() == {"id": BOX2D, "args": {"enable_wind": True, "wind_power": 15.0}}
    assert json.loads(one.key()) == one.to_json()
    assert EnvSpec.of(BOX2D, {"wind_power": 15}).key() != one.key()  # 15 and 15.0 differ
    assert EnvSpec(BOX2D).label() == BOX2D and EnvSpec.of(BOX2D, {"s": "a b"}).label().endswith(
        's="a b"'
    )


def test_cvar10_is_the_mean_of_the_worst_tenth_and_at_least_one_episode():
    assert cvar10([5.0]) == 5.0
    assert cvar10([3.0, -1.0, 7.0]) == -1.0
    assert cvar10(list(range(20))) == 0.5
    assert cvar10([]) == -np.inf


class EndsWith(gymnasium.Env):
    """A one-step environment without a lander whose only reward is ``reward``."""

    observation_space = gymnasium.spaces.Box(-1, 1, shape=(8,))
    action_space = gymnasium.spaces.Box(-1, 1, shape=(2,))

    def __init__(self, reward, terminated=True):
        self.reward, self.terminated = reward, terminated

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(8, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(8, dtype=np.float32), self.reward, self.terminated, True, {}


@pytest.mark.parametrize(
    "reward, terminated, landed", [(100.0, True, True), (-100.0, True, False), (100.0, False, None)]
)
def test_landing_without_a_lander_is_the_last_rewards_bonus(reward, terminated, landed):
    env = LandingMonitor(EndsWith(reward, terminated))
    env.reset(seed=0)
    *_, info = env.step(np.zeros(2, dtype=np.float32))
    assert info.get("landed") == landed


def test_landed_is_read_from_the_box2d_lander(compiler):
    """heuristic.mlir, a port of Gymnasium's heuristic, lands in the stock environment;
    every landing ends with Gymnasium's +100, which only a lander at rest gets."""
    program = compiler.compile((SAMPLES / "heuristic.mlir").read_text(), "h.mlir")
    report, violation = fly(program, BOX2D, seeds=range(8))
    assert violation is None and report.episodes == 8
    assert report.landed >= 0.75 and report.landed == np.mean(report.landings)
    env = make_env(BOX2D)
    env.reset(seed=0)
    assert isinstance(env, LandingMonitor) and env.unwrapped.lander.awake
    env.close()
    crash = compiler.compile((SAMPLES / "pd.mlir").read_text(), "pd.mlir")
    crashed, _ = fly(crash, BOX2D, seeds=range(3))
    assert crashed.landed < 1 and crashed.solved == 0


def test_neurojit_gym_with_env_args_reports_the_scores():
    result = neurojit(
        "gym",
        SAMPLES / "heuristic.mlir",
        "--env",
        BOX2D,
        "--env-arg",
        "enable_wind=true",
        "--env-arg",
        "wind_power=15",
        "--episodes",
        4,
        "--workers",
        2,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["env"] == BOX2D and report["env_args"] == {"enable_wind": True, "wind_power": 15}
    assert report["episodes"] == 4 and report["workers"] == 2 and report["seeds"] == [0, 1, 2, 3]
    assert 0 <= report["landed"] <= 1 and 0 <= report["solved"] <= 1
    assert report["landed"] == np.mean(report["landings"])
    assert report["solved"] == np.mean([r >= 200 for r in report["returns"]])
    assert report["cvar10"] == min(report["returns"])  # 10% of 4 episodes: the worst one
    assert report["violation"] is None


@pytest.fixture(scope="module")
def programs():
    from neurojit_tui.compiler import Compiler

    compiler = Compiler()
    return {
        name: compiler.compile((SAMPLES / f"{name}.mlir").read_text(), f"{name}.mlir")
        for name in ("heuristic", "pid")
    }


@pytest.mark.parametrize("workers, envs_per_worker", [(1, 1), (2, 2), (3, 1), (2, 8)])
def test_the_judge_equals_sequential_flight_for_the_same_seeds(programs, workers, envs_per_worker):
    """Episode i is reset with seeds[i] whatever the workers: the same returns and
    landings as fly(), one flight after another on the same workers."""
    seeds = [5, 17, 3, 42, 8, 11, 2]
    with Judge(BOX2D, workers=workers, envs_per_worker=envs_per_worker) as judge:
        for name in ("heuristic", "pid"):
            expected, _ = fly(programs[name], BOX2D, seeds=seeds)
            report = judge.fly(programs[name], seeds)
            assert report.returns == expected.returns, name
            assert report.landings == expected.landings and report.seeds == seeds
            assert report.steps == expected.steps and report.workers == workers
            assert (report.mean_return, report.cvar10, report.landed, report.solved) == (
                expected.mean_return,
                expected.cvar10,
                expected.landed,
                expected.solved,
            )
        # both programs in one batch: each report as its own flight's
        together = judge.fly_many([programs["heuristic"], programs["pid"]], seeds)
        for name, report in zip(("heuristic", "pid"), together):
            expected, _ = fly(programs[name], BOX2D, seeds=seeds)
            assert report.returns == expected.returns and report.seeds == seeds, name
            assert report.landings == expected.landings and report.steps == expected.steps


def test_a_flight_of_fewer_episodes_than_slots_takes_every_worker_in_turn():
    from neurojit_tui.gym.judge import slots_by_turn

    assert slots_by_turn(2, 3).tolist() == [0, 3, 1, 4, 2, 5]
    assert slots_by_turn(3, 1).tolist() == [0, 1, 2]
    assert slots_by_turn(1, 4).tolist() == [0, 1, 2, 3]


def test_the_judge_in_our_environment_with_arguments_and_a_step_limit(programs):
    spec = EnvSpec.of(ENV_ID, {"gravity": 3.0, "turbulence": 0.5})
    expected, _ = fly(programs["heuristic"], spec, seeds=[1, 2, 3], max_steps=50)
    with Judge(spec, workers=2, envs_per_worker=1, max_steps=50) as judge:
        report = judge.fly(programs["heuristic"], [1, 2, 3])
    assert report.returns == expected.returns and report.steps == 150
    assert report.env_args == {"gravity": 3.0, "turbulence": 0.5}


def test_an_assert_violation_ends_the_judges_flight(compiler):
    program = compiler.compile(ASSERTING, "asserting.mlir")
    with Judge(BOX2D, workers=1, envs_per_worker=2) as judge:
        report = judge.fly(program, [0, 1, 2])
        assert report.violation is not None and "lander must stay high" in report.violation.message
        assert 1 <= report.episodes <= 2 and report.landings == [False] * report.episodes
        # the workers stay usable for the next controller
        again = judge.fly(program, [0])
        assert again.violation is not None and again.episodes == 1
        # in a batch, the violation ends its own program's flight, not the other's
        heuristic = compiler.compile((SAMPLES / "heuristic.mlir").read_text(), "heuristic.mlir")
        mixed = judge.fly_many([program, heuristic], [0, 1, 2])
        assert mixed[0].violation is not None and 1 <= mixed[0].episodes <= 2
        assert mixed[1].violation is None and mixed[1].seeds == [0, 1, 2]
        assert mixed[1].returns == judge.fly(heuristic, [0, 1, 2]).returns
    assert judge._envs is None  # closed by the context manager


def test_neurojit_gym_reports_an_assert_violation(tmp_path):
    path = tmp_path / "asserting.mlir"
    path.write_text(ASSERTING)
    result = neurojit("gym", path, "--env", BOX2D, "--episodes", 2, "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["violation"]["line"] == 5
    assert "assertion failed: lander must stay high" in result.stderr


def test_bad_judge_environments_fail_before_any_worker_starts():
    with pytest.raises(FlightError, match="its action space is Discrete"):
        Judge("LunarLander-v3", workers=1)


def test_the_box2d_twins_constants_are_those_identified_from_box2d_trajectories():
    """The stored mechanics agree with a fresh fit to Box2D's own free flights."""
    from neurojit_tui.gym import calibration

    fitted = calibration.identify(episodes=40, seed=3)
    stored = calibration.BOX2D_LANDER
    assert fitted.transitions > 1000
    for name in ("gravity", "main_engine_accel", "side_engine_accel", "side_engine_angular"):
        assert getattr(fitted, name) == pytest.approx(getattr(stored, name), rel=0.05), name
    assert fitted.main_engine_noise == pytest.approx(stored.main_engine_noise, rel=0.1)
    assert fitted.main_engine_spin == pytest.approx(stored.main_engine_spin, rel=0.1)
    assert fitted.start_height == pytest.approx(stored.start_height, rel=0.02)
    assert fitted.initial_speed == pytest.approx(stored.initial_speed, rel=0.05)
    assert fitted.wind_accel_per_power == pytest.approx(calibration.WIND_ACCEL_PER_POWER, rel=0.05)
    assert fitted.torque_accel_per_power == pytest.approx(
        calibration.TORQUE_ACCEL_PER_POWER, rel=0.05
    )


def test_a_twin_follows_the_environments_arguments():
    from neurojit_tui.gym.calibration import BOX2D_LANDER, native_twin

    lander = "LunarLanderContinuous-v3"
    assert native_twin(EnvSpec.of(lander)) == BOX2D_LANDER
    windy = native_twin(
        EnvSpec.of(lander, {"gravity": -11.5, "enable_wind": True, "wind_power": 10.0})
    )
    assert windy is not None and windy.gravity == 11.5
    assert windy.wind_accel == pytest.approx(2.018) and windy.torque_accel == pytest.approx(1.626)
    calm = native_twin(EnvSpec.of(lander, {"wind_power": 10.0}))  # wind not enabled
    assert calm is not None and calm.wind_accel == 0.0 and calm.torque_accel == 0.0
    assert native_twin(EnvSpec.of("LunarLander-v3", {"continuous": True})) == BOX2D_LANDER
    assert native_twin(EnvSpec.of("LunarLander-v3")) is None  # discrete: no controller fits
    assert native_twin(EnvSpec.of(ENV_ID, {"gravity": 3.0})) == model.Environment(gravity=3.0)
    assert native_twin(EnvSpec.of("Pendulum-v1")) is None


def test_evolve_env_trains_in_the_twin_unless_the_conditions_are_given():
    from neurojit_tui import cli
    from neurojit_tui.commands.evolve import Evolve
    from neurojit_tui.evolve.gym_judging import training_conditions

    parser = cli.build_parser()
    lander = ["evolve", "--env", "LunarLanderContinuous-v3", "--budget", "5"]
    twin = Evolve.options_from(parser.parse_args(lander))
    given = Evolve.options_from(parser.parse_args([*lander, "--gravity", "3"]))
    assert twin.native_twin and not given.native_twin
    moon = model.Environment()
    assert training_conditions(moon, twin).gravity == 10.0
    assert training_conditions(model.Environment(gravity=3.0), given).gravity == 3.0
    native = Evolve.options_from(parser.parse_args(["evolve", "--budget", "5"]))
    assert training_conditions(moon, native) == moon  # no environment: as given


def test_bench_fidelity_ranks_a_population_in_the_moons_conditions_and_in_the_twin():
    from neurojit_tui.benches.fidelity import bench_fidelity, format_fidelity_table

    result = bench_fidelity(["stock"], variants=2, episodes=3, agents=16, log=lambda _: None)
    rows = result["rows"]
    assert [row["native"] for row in rows] == ["moon", "twin"]
    assert rows[1]["native_conditions"]["gravity"] == 10.0  # Box2D's, not the Moon's 1.62
    assert all(row["programs"] == 6 and -1 <= row["spearman_return"] <= 1 for row in rows)
    assert "twin" in format_fidelity_table(result)
