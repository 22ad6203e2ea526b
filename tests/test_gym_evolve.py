"""`neurojit evolve --env ID`: a Gymnasium environment chooses among the search's finalists
and validates the winner on episodes the search never flew; the registry keeps its
controllers per environment."""

import json
import math
import subprocess
import sys

import pytest
from gymnasium.utils import seeding

from neurojit_tui.compiler import Compiler
from neurojit_tui.engine.protocol import from_wire, to_wire
from neurojit_tui.evolve.evaluation import fitness, return_fitness, training_fitness
from neurojit_tui.evolve.gym_judging import (
    GYM_SELECTION_OFFSET,
    GYM_VALIDATION_OFFSET,
    env_spec,
    rank_key,
)
from neurojit_tui.evolve.report import summary
from neurojit_tui.evolve.results import EvolutionResult, EvolveOptions
from neurojit_tui.evolve.runner import run_evolution
from neurojit_tui.gym import ENV_ID
from neurojit_tui.gym.environments import EnvSpec
from neurojit_tui.gym.lander import episode_seed
from neurojit_tui.memory import NO_MODELS, Registry, cache_key, remember
from neurojit_tui.memory.admission import remember_if_better
from neurojit_tui.paths import PROJECT_ROOT
from neurojit_tui.sim import model
from neurojit_tui.sim.report import Outcomes
from neurojit_tui.sim.swarm import evaluate

SAMPLES = PROJECT_ROOT / "samples"
HEURISTIC = SAMPLES / "heuristic.mlir"
PID = SAMPLES / "pid.mlir"


def neurojit(*args):
    return subprocess.run(
        [sys.executable, "-m", "neurojit_tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def small_options(**more):
    """A short search judged in our environment, on a handful of episodes."""
    return EvolveOptions(
        **{
            "budget_s": None,
            "generations": 1,
            "seed": 3,
            "use_llm": False,
            "train_agents": 32,
            "seed_tune_generations": 2,
            "child_tune_generations": 2,
            "validation_agents": 100,
            "finalists": 3,
            "env_id": ENV_ID,
            "env_args": (("turbulence", 0.5),),
            "gym_selection_episodes": 4,
            "gym_validation_episodes": 6,
            **more,
        }
    )


@pytest.fixture(scope="module")
def run():
    seeds = [(str(path), path.read_text()) for path in (HEURISTIC, PID)]
    return run_evolution(model.Environment(), small_options(), seeds=seeds)


def test_the_environment_chooses_among_the_finalists_on_its_own_episodes(run):
    best = run.best
    assert run.status == "ok" and best is not None
    finalists = best.gym_selection
    assert 2 <= len(finalists) <= 3 and len({f.id for f in finalists}) == len(finalists)
    # the winner is the best finalist there, ranked by landed rate then mean return
    assert best.id == finalists[0].id
    keys = [(f.scores.landed, f.scores.mean_return) for f in finalists]
    assert keys == sorted(keys, reverse=True)
    for finalist in finalists:
        scores = finalist.scores
        assert scores.env == f"{ENV_ID} turbulence=0.5" and scores.episodes == 4
        assert scores.seeds == (GYM_SELECTION_OFFSET + 3, GYM_SELECTION_OFFSET + 6)
    validation = best.gym_validation
    assert validation is not None and validation.episodes == 6
    assert validation.seeds == (GYM_VALIDATION_OFFSET + 3, GYM_VALIDATION_OFFSET + 8)
    assert 0 <= validation.landed <= 1 and math.isfinite(validation.mean_return)
    assert best.validation.agents == 100  # the native validation stays
    assert best.selection is None  # the environment chose, not the native selection landers
    text = summary(run)
    assert f"Gymnasium validation: {ENV_ID} turbulence=0.5, 6 episodes" in text


def test_the_result_round_trips_the_engine_pipe_and_json(run):
    assert from_wire(EvolutionResult, to_wire(run)) == run
    data = json.loads(json.dumps(run.to_json()))
    assert data["options"]["env_id"] == ENV_ID and data["options"]["env_args"] == [
        ["turbulence", 0.5]
    ]
    assert data["best"]["gym_validation"]["episodes"] == 6
    for key in ("train", "validation", "selection", "lineage", "fitness", "source"):
        assert key in data["best"]  # the keys of a native run's JSON stay
    assert env_spec(run.options) == EnvSpec.of(ENV_ID, {"turbulence": 0.5})


def test_the_search_is_deterministic_with_an_environment(run):
    seeds = [(str(path), path.read_text()) for path in (HEURISTIC, PID)]
    again = run_evolution(model.Environment(), small_options(), seeds=seeds)
    assert again.best.source == run.best.source
    assert again.best.gym_selection == run.best.gym_selection
    assert again.best.gym_validation == run.best.gym_validation


def test_return_in_our_environment_is_the_native_swarms_score(run):
    """Our environment is the native lander: episode i reset with seed s is agent 0 of the
    seed the environment draws, and its return is the swarm's score for that lander."""
    from neurojit_tui.gym.fly import fly

    text = run.best.source
    program = Compiler().compile(text, "best.mlir", require_control=True)
    seeds = [11, 12, 13]
    spec = EnvSpec.of(ENV_ID, {"turbulence": 0.5})
    report, _ = fly(program, spec, seeds=seeds)
    env = model.Environment(turbulence=0.5)
    natives = []
    for seed, episode_return in zip(seeds, report.returns):
        drawn = episode_seed(seeding.np_random(seed)[0])
        native = evaluate(text, "best.mlir", env, agents=1, seed=drawn, threads=1)
        # actions reach the environment as float32 (its action space), the swarm's in f64
        assert episode_return == pytest.approx(native.mean_score, abs=1e-4)
        natives.append(native.mean_score)
    mean = sum(natives) / len(natives)
    assert rank_key(report, "return")[0] == pytest.approx(mean, abs=1e-4)
    # the return objective's training fitness is that score (CVaR-10 breaks ties only)
    one = evaluate(text, "best.mlir", env, agents=1, seed=drawn, threads=1)
    from neurojit_tui.sim.report import Outcomes

    outcomes = Outcomes(
        1, one.landed, one.crashed, one.out_of_bounds, one.timed_out, one.success_rate,
        one.mean_score, one.cvar10_score, 0.0,
    )  # fmt: skip
    assert return_fitness(outcomes) == pytest.approx(report.returns[-1], abs=0.011)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--env", ENV_ID, "--env-arg", "gravity"], "expected KEY=VALUE"),
        (["--env", "NoSuchEnv-v0"], "cannot make Gymnasium environment"),
        (["--env", "CartPole-v1"], "CartPole-v1: its observation space is Box(4,)"),
        (["--env", ENV_ID, "--env-arg", "gravity=-1"], "gravity must be a finite number"),
    ],
)
def test_bad_environments_are_one_line_before_any_search(arguments, message):
    result = neurojit("evolve", HEURISTIC, "--no-llm", "--no-cache", "--json", *arguments)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_registry_keys_differ_by_environment_and_native_keys_stay():
    env = model.Environment()
    native, data = cache_key(env, NO_MODELS)
    assert "gym" not in data  # the key of every registry written before environments
    calm = EnvSpec.of(ENV_ID, {"turbulence": 0.0}).key()
    windy = EnvSpec.of(ENV_ID, {"turbulence": 2.0}).key()
    keys = {native, cache_key(env, NO_MODELS, calm)[0], cache_key(env, NO_MODELS, windy)[0]}
    assert len(keys) == 3


def test_admission_is_per_environment_on_the_callers_episodes(tmp_path):
    """Each rival is flown by the caller's scorer (the Gymnasium judge on the candidate's
    validation episodes) and ranked by the objective; a stored entry only competes
    within its environment's key."""

    registry = Registry(tmp_path / "registry")
    env = model.Environment()
    heuristic = HEURISTIC.read_text()
    better = heuristic.replace("//", "// evolved\n//", 1)
    returns = {heuristic: 280.0, better: 290.0}
    flown = []

    def rival_scores(text, path):
        flown.append(path.rsplit("/", 1)[-1])
        mean = returns.get(text, -100.0)
        return {"success_rate": 0.5, "mean_score": mean, "cvar10_score": mean - 50}

    keys = {
        name: cache_key(env, NO_MODELS, EnvSpec.of(ENV_ID, {"turbulence": t}).key())
        for name, t in (("calm", 0.0), ("windy", 2.0))
    }

    def offer(where, text, mean):
        key, key_data = keys[where]
        verdict = remember_if_better(
            registry, env, key, key_data, text, "evolved.mlir", Compiler(),
            candidate={"success_rate": 0.5, "mean_score": mean, "cvar10_score": mean - 50},
            rival_scores=rival_scores, objective="return",
        )  # fmt: skip
        registry.flush()  # entries are written back on a thread
        return verdict

    verdict = offer("calm", better, 290.0)
    assert verdict["stored"], verdict["reason"]
    assert {"heuristic.mlir", "pid.mlir", "mlp.mlir", "pd.mlir"} <= set(flown)
    # a worse return is refused under the same environment's key, by the stored entry...
    verdict = offer("calm", heuristic.replace("//", "// other\n//", 1), 285.0)
    assert not verdict["stored"] and "stored entry" in verdict["reason"]
    # ...and taken under another environment's, where nothing is stored yet
    assert offer("windy", heuristic.replace("//", "// other\n//", 1), 285.0)["stored"]
    assert set(registry.keys()) == {keys["calm"][0], keys["windy"][0]}


def test_neurojit_evolve_env_and_its_replay(tmp_path):
    arguments = [
        "evolve", HEURISTIC, "--env", ENV_ID, "--env-arg", "turbulence=0.5",
        "--objective", "return", "--evaluations", 40, "--gym-episodes", 4, "--seed", 2,
        "--no-llm", "--no-cache", "--json",
    ]  # fmt: skip
    first = neurojit(*arguments)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["options"]["objective"] == "return"
    assert data["options"]["env_args"] == [["turbulence", 0.5]]
    validation = data["best"]["gym_validation"]
    assert validation["episodes"] == 4 and validation["env"] == f"{ENV_ID} turbulence=0.5"
    assert [f["scores"]["episodes"] for f in data["best"]["gym_selection"]] == [100]
    run = tmp_path / "run.json"
    run.write_text(first.stdout)
    replayed = neurojit("evolve", "--replay", run, "--no-cache", "--json")
    assert replayed.returncode == 0, replayed.stderr
    again = json.loads(replayed.stdout)
    assert again["best"]["source"] == data["best"]["source"]
    assert again["best"]["gym_validation"] == validation


def test_a_run_offers_its_winner_under_its_environments_key(tmp_path):
    """The registry's rivals are flown on the winner's Gymnasium validation episodes."""
    registry = Registry(tmp_path / "registry")
    options = small_options(generations=0, finalists=1)
    result = run_evolution(
        model.Environment(), options, seeds=[(str(HEURISTIC), HEURISTIC.read_text())],
        registry=registry,
    )  # fmt: skip
    verdict = result.best.registry
    spec = EnvSpec.of(ENV_ID, {"turbulence": 0.5})
    twin = model.Environment(turbulence=0.5)  # the native swarm trained in the env's twin
    assert result.environment == twin
    # keyed by the conditions the user gave and the environment, not by the twin
    assert verdict.key == cache_key(model.Environment(), NO_MODELS, spec.key())[0]
    assert verdict.validation["mean_score"] == result.best.gym_validation.mean_return
    assert set(verdict.rivals) == {"heuristic.mlir", "pid.mlir", "mlp.mlir", "pd.mlir"}
    assert all(rival["episodes"] == 6 for rival in verdict.rivals.values())


def test_a_recalibrated_twin_finds_the_entries_of_earlier_runs(tmp_path, monkeypatch):
    """The twin is derived from the environment and changes when its calibration does;
    the registry key and the seeds of a later run must not: its winner competes with
    the stored one (never-worse) and the stored one seeds it, before native entries."""
    from neurojit_tui.evolve import gym_judging
    from neurojit_tui.evolve.runner import default_seeds, registry_label

    registry = Registry(tmp_path / "registry")
    options = small_options(generations=0, finalists=1)
    gym_key = env_spec(options).key()
    program = Compiler().compile(PID.read_text(), "pid.mlir", require_control=True)
    stored = {}
    for name, key_of in (("gym", gym_key), ("native", None)):  # same conditions, both
        key, key_data = cache_key(model.Environment(), NO_MODELS, key_of)
        remember(registry, key, key_data, PID.read_text(), "pid.mlir", program)
        stored[name] = key
    assert registry.flush()
    recalibrated = model.Environment(turbulence=0.7)
    monkeypatch.setattr(gym_judging, "native_twin", lambda spec: recalibrated)
    seeds = [(str(HEURISTIC), HEURISTIC.read_text())]
    result = run_evolution(model.Environment(), options, seeds=seeds, registry=registry)
    assert result.environment == recalibrated
    assert result.best.registry.key == stored["gym"]
    assert f"the stored entry {stored['gym'][:12]}" in result.best.registry.rivals
    # a native entry for the same conditions does not crowd out the environment's own
    with_gym = default_seeds(model.Environment(), registry, nearby=1, gym=gym_key)
    assert with_gym[-1][0] == registry_label(stored["gym"])
    native = default_seeds(model.Environment(), registry, nearby=1)
    assert native[-1][0] == registry_label(stored["native"])


def test_rank_correlation_of_native_fitness_and_the_environments_return():
    from neurojit_tui.evolve.fidelity import perturbed_variants, rank_correlation

    programs = perturbed_variants([(str(HEURISTIC), HEURISTIC.read_text())], 3, seed=1)
    assert len(programs) == 4 and len({text for _, text in programs}) == 4
    spec = EnvSpec.of(ENV_ID, {"turbulence": 0.5})
    fidelity = rank_correlation(programs, model.Environment(turbulence=0.5), spec, 3, 16)
    assert fidelity.programs == 4 and len(fidelity.gym_mean_return) == 4
    assert -1 <= fidelity.spearman_landed <= 1 and -1 <= fidelity.spearman_return <= 1


def test_the_polish_tunes_the_winner_on_the_environments_own_episodes_and_replays(tmp_path):
    """--polish: CMA-ES on the winner's constants, each generation on fresh training
    episodes of the environment (its candidates, its centre and the unpolished winner on
    the same batch); replayed exactly."""
    from neurojit_tui.evolve.gym_judging import GYM_TRAINING_OFFSET

    seeds = [(str(HEURISTIC), HEURISTIC.read_text())]
    options = small_options(
        objective="return",
        budget_s=None,
        gym_polish_share=0.5,
        gym_polish_generations=2,
        gym_polish_episodes=3,
        gym_polish_popsize=3,
    )
    result = run_evolution(model.Environment(), options, seeds=seeds)
    polish = result.best.gym_polish
    assert polish.generations == 2 and polish.evaluations == 2 * (3 + 2)
    assert polish.episodes == polish.evaluations * 3
    first = GYM_TRAINING_OFFSET + options.seed
    assert polish.episode_seeds == (first, first + 2 * 3 - 1)  # two batches, none shared
    assert math.isfinite(polish.fitness) and math.isfinite(polish.start_fitness)
    # decided paired on both batches and the selection episodes
    assert polish.paired_episodes == 2 * 3 + options.gym_selection_episodes
    assert result.replay.polish_generations == 2
    if polish.kept and polish.fitness > polish.start_fitness:  # a child of the winner
        assert result.best.lineage[0].mutation == "gym-polish"
    if not polish.kept:  # no fitter than the winner: the winner stays
        assert result.best.lineage[0].mutation != "gym-polish"
    again = run_evolution(model.Environment(), options, seeds=seeds)
    assert again.best.source == result.best.source


def test_the_polish_leaves_room_for_a_generation_and_the_flights_after_it():
    from neurojit_tui.evolve.polish import seconds_to_finish

    options = small_options(
        gym_selection_episodes=100,
        gym_validation_episodes=1000,
        gym_polish_popsize=8,
        gym_polish_episodes=50,
    )
    assert seconds_to_finish(options, 0, 0.0) == 0.0  # nothing measured yet
    # a generation flies 8 candidates, the centre and the start: 500 episodes; then the
    # winner and the polished program on the selection episodes and the validation: 1200
    assert seconds_to_finish(options, 200, 2.0) == pytest.approx(17.0)
    assert seconds_to_finish(options, 200, 4.0) == pytest.approx(34.0)
    # a generation that took longer than the average rate says counts as the next one's
    assert seconds_to_finish(options, 200, 2.0, longest_generation=9.0) == pytest.approx(21.0)
    assert seconds_to_finish(options, 200, 2.0, longest_generation=1.0) == pytest.approx(17.0)


def test_the_generation_clock_keeps_the_longest_generation():
    import time as clock_time

    from neurojit_tui.evolve.polish import GenerationClock

    clock = GenerationClock()
    clock.tick()  # the first generation starts: nothing has taken any time yet
    assert clock.longest == 0.0
    clock_time.sleep(0.05)
    clock.tick()
    first = clock.longest
    assert first >= 0.05
    clock.tick()  # a quicker generation leaves the longest as it was
    assert clock.longest == first


def test_the_landed_polish_grades_equal_landings_by_their_mean_return():
    from neurojit_tui.evolve.polish import polish_fitness
    from neurojit_tui.sim.report import Outcomes

    def flight(landed: int, cvar: float, mean: float, failure=None) -> Outcomes:
        return Outcomes(64, landed, 64 - landed, 0, 0, landed / 64, mean, cvar, 300.0, failure)

    landed = polish_fitness("landed")
    assert landed(flight(63, -20.0, 255.0)) > landed(flight(63, 150.0, 250.0))
    # one more landing in 64 outweighs a mean return a hundred points better
    assert landed(flight(64, 150.0, 250.0)) > landed(flight(63, 250.0, 350.0))
    assert landed(flight(64, 250.0, 290.0, failure="assert")) == -math.inf
    by_return = polish_fitness("return")
    assert by_return(flight(60, 100.0, 280.0)) > by_return(flight(64, 250.0, 279.0))


def test_the_polish_is_kept_only_if_fitter_paired_on_selection_and_its_last_batches():
    from neurojit_tui.evolve.polish import (
        PAIRED_HISTORY_EPISODES,
        GenerationRecord,
        paired_comparison,
    )

    # early generations, where the centre still trailed, are outside the window
    history = [GenerationRecord(100.0, 90.0)] * 10 + [GenerationRecord(98.0, 96.0)] * 5
    batch = PAIRED_HISTORY_EPISODES // 5
    # a narrow win on the selection episodes does not outweigh five batches behind
    lucky = paired_comparison(history, batch, GenerationRecord(99.0, 100.0), 100)
    assert lucky.episodes == PAIRED_HISTORY_EPISODES + 100
    assert lucky.start_fitness == pytest.approx((5 * batch * 98.0 + 100 * 99.0) / lucky.episodes)
    assert lucky.polished_fitness == pytest.approx(
        (5 * batch * 96.0 + 100 * 100.0) / lucky.episodes
    )
    assert not lucky.keeps_polish
    ahead = [GenerationRecord(98.0, 99.0)] * 5
    assert paired_comparison(ahead, batch, GenerationRecord(99.0, 99.5), 100).keeps_polish
    # smaller batches: more generations make up the window
    assert paired_comparison(ahead * 4, batch // 2, GenerationRecord(99.0, 99.5), 100).episodes == (
        PAIRED_HISTORY_EPISODES + 100
    )
    # a polished program an assert ended on the selection episodes is never kept
    ended = paired_comparison(ahead, batch, GenerationRecord(99.0, -math.inf), 100)
    assert ended.polished_fitness == -math.inf and not ended.keeps_polish


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--polish", "0.5"], "--polish needs --env"),
        (
            ["--env", ENV_ID, "--evaluations", "40", "--polish-generations", "3"],
            "--polish-generations needs --polish",
        ),
    ],
)
def test_polish_needs_an_environment_and_its_count_needs_a_polish(arguments, message):
    from .test_cli_input import one_line_error

    line = one_line_error(neurojit("evolve", "--no-llm", *arguments), exit_code=2)
    assert line == f"neurojit: error: {message}"


def test_polish_generations_bound_a_run_without_a_budget():
    arguments = [
        "evolve", HEURISTIC, "--env", ENV_ID, "--env-arg", "turbulence=0.5",
        "--objective", "return", "--evaluations", 40, "--gym-episodes", 4, "--seed", 3,
        "--polish", 0.5, "--polish-generations", 2, "--polish-episodes", 3,
        "--no-llm", "--no-cache", "--json",
    ]  # fmt: skip
    result = neurojit(*arguments)
    assert result.returncode == 0, result.stderr
    polish = json.loads(result.stdout)["best"]["gym_polish"]
    assert polish["generations"] == 2
    assert polish["episodes"] == polish["evaluations"] * 3


def test_summed_scores_rank_as_their_flights_do():
    from neurojit_tui.evolve.gym_judging import scores_rank_key
    from neurojit_tui.evolve.results import GymScores

    steady = GymScores("env", 10, 250.0, 200.0, 1.0, 1.0, (0, 9))
    bolder = GymScores("env", 10, 260.0, 120.0, 0.9, 0.9, (0, 9))
    assert scores_rank_key(bolder, "return") > scores_rank_key(steady, "return")
    assert scores_rank_key(steady, "landed") > scores_rank_key(bolder, "landed")
    broken = GymScores("env", 10, 300.0, 300.0, 1.0, 1.0, (0, 9), failure="assert")
    assert scores_rank_key(broken, "return") < scores_rank_key(steady, "return")


def test_bench_gym_runs_each_setting_over_seeds_and_summarizes_them():
    """bench gym --seeds K: one run per seed, each judged with heuristic.mlir on its own
    validation episodes, and a summary with the spread and the runs that met each target."""
    from neurojit_tui.benches.gym import bench_gym, format_gym_table, format_row

    lines: list[str] = []
    result = bench_gym(
        ["stock"], budget=6.0, polish=0.5, episodes=8, seed=4, seeds=2, log=lines.append
    )
    rows = result["settings"]
    assert [row["seed"] for row in rows] == [4, 5] and result["seeds"] == 2
    assert all(row["evolved"]["episodes"] == row["heuristic"]["episodes"] == 8 for row in rows)
    (summary,) = result["summaries"]
    returns = [row["evolved"]["mean_return"] for row in rows]
    spread = summary["evolved"]["mean_return"]
    assert (spread["min"], spread["max"]) == (min(returns), max(returns))
    assert spread["mean"] == pytest.approx(sum(returns) / 2)
    assert summary["met_in"] == {
        name: sum(row["met"][name] for row in rows) for name in summary["targets"]
    }
    table = format_gym_table(result)
    assert "stock over 2 seeds (4, 5):" in table and "targets met: mean_return >= 290:" in table
    # each row says whether its polish replaced the winner; None: no polish generation ran
    for row in rows:
        assert row["polish_kept"] in ((None,) if row["polish_generations"] == 0 else (True, False))
    kept, not_kept = ({**rows[0], "polish_kept": kept} for kept in (True, False))
    assert not format_row(kept).endswith("not kept (no better than the winner)")
    assert format_row(not_kept).endswith("generations, not kept (no better than the winner)")
    json.dumps(result)


def test_a_bench_summary_counts_runs_without_a_program():
    from neurojit_tui.benches.gym import format_summary, summarize

    def row(seed, evolved, met):
        targets = {"landed": 0.99}
        return {"setting": "wind", "env": "X-v0", "seed": seed, "evolved": evolved,
                "targets": targets, "met": {"landed": met}}  # fmt: skip

    scores = {"mean_return": 250.0, "cvar10": None, "landed": 0.995, "solved": 0.98}
    summary = summarize([row(0, scores, True), row(1, None, False)])
    assert summary["without_program"] == 1 and summary["met_in"] == {"landed": 1}
    assert "cvar10" not in summary["evolved"]  # no run had one
    assert summary["evolved"]["landed"] == {"mean": 0.995, "min": 0.995, "max": 0.995}
    text = format_summary(summary)
    assert "cvar10 -" in text and "1 run(s) without a program" in text
    assert "landed >= 0.99: 1 of 2" in text


def test_with_an_environment_the_swarm_trains_on_the_mean_score_for_either_objective():
    # A hovering lander that always lands but burns fuel, and a quick one that crashes
    # one lander in a hundred: ranked by landings the first wins, by the mean score the
    # second, which is what the environment's selection then gets to choose from.
    hovering = Outcomes(100, 100, 0, 0, 0, 1.0, 230.0, 190.0, 300.0)
    quick = Outcomes(100, 99, 1, 0, 0, 0.99, 265.0, 200.0, 150.0)
    assert training_fitness("landed", env_judged=False) is fitness
    assert training_fitness("return", env_judged=False) is return_fitness
    for objective in ("landed", "return"):
        train = training_fitness(objective, env_judged=True)
        assert train(quick) > train(hovering)
    assert fitness(hovering) > fitness(quick)
    with pytest.raises(ValueError, match="objective"):
        training_fitness("fastest", env_judged=True)
