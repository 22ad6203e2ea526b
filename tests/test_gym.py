"""The lander as Gymnasium environments, and `neurojit gym` flying TensorLang controllers in
Gymnasium environments, Gymnasium's own Box2D LunarLanderContinuous-v3 included."""

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
from neurojit_tui.gym.lander import LunarLanderEnv
from neurojit_tui.gym.vector import LunarLanderVectorEnv
from neurojit_tui.paths import PROJECT_ROOT
from neurojit_tui.sim import model

SAMPLES = PROJECT_ROOT / "samples"
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
    assert set(report) == {"env", "episodes", "mean_return", "returns", "seconds"}
    assert report["env"] == "LunarLanderContinuous-v3" and report["episodes"] == 3
    assert len(report["returns"]) == 3 and report["seconds"] > 0
    # the sample is a port of Gymnasium's own heuristic: it lands, and scores as "solved"
    assert report["mean_return"] == pytest.approx(np.mean(report["returns"]))
    assert report["mean_return"] >= 200


def test_neurojit_gym_in_our_environment_and_its_text_report():
    result = neurojit("gym", SAMPLES / "heuristic.mlir", "--env", ENV_ID, "--episodes", 2)
    assert result.returncode == 0, result.stderr
    assert f"heuristic.mlir in {ENV_ID}: 2 episode(s), seed 0, mean return" in result.stdout


@pytest.mark.parametrize(
    "env, message",
    [
        (
            "CartPole-v1",
            "CartPole-v1: its observation space is Box(4,); a TensorLang controller needs Box(8,)",
        ),
        ("Nope-v0", "cannot make Gymnasium environment 'Nope-v0'"),
        ("no_such_module:Thing-v0", "cannot make Gymnasium environment 'no_such_module:Thing-v0'"),
    ],
)
def test_neurojit_gym_refuses_environments_that_do_not_fit(env, message):
    result = neurojit("gym", SAMPLES / "pd.mlir", "--env", env)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_neurojit_gym_reports_compile_errors_like_check():
    broken = SAMPLES / "broken" / "slice_bounds.mlir"
    result = neurojit("gym", broken, "--env", ENV_ID)
    assert result.returncode == 1
    assert f"{broken}:5:11: error: slice out of bounds" in result.stderr
