"""Runs that can be trusted again: evaluation-bounded and budget runs replay to the same
best, the seed programs' origins are recorded (the registry's among them), a warm start
answers from L2 in a fresh process, and bad replay input is one line."""

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurojit_tui.evolve import evolve, run_evolution
from neurojit_tui.evolve.replay import ReplayError, load_replay
from neurojit_tui.evolve.report import provenance_lines
from neurojit_tui.evolve.search import StopRule
from neurojit_tui.memory import Registry

from .test_cli_input import one_line_error
from .test_evolve import HARSH, sample, small_options


def neurojit(*args, timeout=600, **env):
    return subprocess.run(
        [sys.executable, "-m", "neurojit_tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )


# -- the stop rule -----------------------------------------------------------------------------


class _Cancel:
    def is_set(self):
        return False


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 3), st.floats(0.0, 2.0)), min_size=1, max_size=60
    ),  # (evaluations made, seconds passed) before each question
    budget=st.floats(0.0, 30.0),
)
def test_a_budget_stops_at_the_question_an_evaluation_bound_of_its_count_would(steps, budget):
    now = [0.0]
    count = [0]
    by_clock = StopRule(
        small_options(budget_s=budget), _Cancel(), lambda: count[0], clock=lambda: now[0]
    )
    asked = []
    for made, seconds in steps:
        count[0] += made
        now[0] += seconds
        asked.append(count[0])
        if by_clock():
            break
    if by_clock.reason is None:
        return  # the budget never ran out
    assert by_clock.stopped_at == count[0]
    count[0] = 0
    by_count = StopRule(
        small_options(budget_s=None, evaluations=by_clock.stopped_at), _Cancel(), lambda: count[0]
    )
    stopped_after = None
    for question, total in enumerate(asked):
        count[0] = total
        if by_count():
            stopped_after = question
            break
    assert stopped_after == len(asked) - 1, "the evaluation bound stopped at another question"
    assert by_count() and by_count.reason == "evaluations"


def test_an_evaluation_bound_gives_the_same_best_whatever_the_threads():
    options = small_options(generations=None, evaluations=400)
    seeds = [("heuristic.mlir", sample("heuristic")), ("pd.mlir", sample("pd"))]
    first = evolve(seeds, HARSH, options)
    second = evolve(seeds, HARSH, small_options(generations=None, evaluations=400, threads=1))
    assert first.best.source == second.best.source
    assert first.replay.stopped_by == "evaluations" and first.replay.evaluations >= 400
    assert first.replay.evaluations == second.replay.evaluations


# -- replaying a budget run --------------------------------------------------------------------


def _busy():
    """Another process burning a core while the replay runs."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def test_a_budget_run_replays_to_the_same_best_even_on_a_loaded_machine(tmp_path):
    run = neurojit(
        "evolve", "--budget", "6", "--no-llm", "--no-cache", "--seed", "5", "--json",
        NEUROJIT_HOME=str(tmp_path),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    recorded = json.loads(run.stdout)
    assert recorded["replay"]["stopped_by"] == "budget"
    assert recorded["replay"]["seed"] == 5 and recorded["replay"]["version"]
    assert {s["origin"] for s in recorded["replay"]["seeds"]} == {"sample"}
    path = tmp_path / "run.json"
    path.write_text(run.stdout)
    busy = _busy()
    try:
        again = neurojit(
            "evolve", "--replay", path, "--no-cache", "--json", NEUROJIT_HOME=str(tmp_path)
        )
    finally:
        busy.kill()
    assert again.returncode == 0, again.stderr
    replayed = json.loads(again.stdout)
    assert replayed["best"]["source"] == recorded["best"]["source"]
    assert replayed["replay"]["evaluations"] == recorded["replay"]["evaluations"]


def test_a_replay_refuses_a_seed_program_that_changed(tmp_path):
    seed = tmp_path / "mine.mlir"
    seed.write_text(sample("pd"))
    run = neurojit(
        "evolve", seed, "--evaluations", "50", "--no-llm", "--no-cache", "--json",
        NEUROJIT_HOME=str(tmp_path),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (origin,) = json.loads(run.stdout)["replay"]["seeds"]
    assert origin["origin"] == "file" and origin["path"] == str(seed)
    path = tmp_path / "run.json"
    path.write_text(run.stdout)
    seed.write_text(sample("pd").replace("0.5", "0.25", 1))
    line = one_line_error(neurojit("evolve", "--replay", path, "--no-cache"), exit_code=2)
    assert line.startswith(f"neurojit: error: {path}: seed {seed} changed since the run")


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot read it: No such file or directory"),
        ("{not json", "not a run's JSON (Expecting property name"),
        ('{"status": "ok"}', "not a run's JSON (no replay record"),
        ('{"replay": {"seed": 1}}', "its replay record is incomplete or corrupt"),
    ],
)
def test_a_replay_of_a_missing_or_corrupt_file_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    line = one_line_error(neurojit("evolve", "--replay", path, "--no-cache"), exit_code=2)
    assert line.startswith(f"neurojit: error: {path}: ") and message in line
    with pytest.raises(ReplayError):
        load_replay(str(path))


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_bad_evaluation_bound_is_one_line_and_exit_2(value):
    line = one_line_error(neurojit("evolve", f"--evaluations={value}", "--no-llm"), exit_code=2)
    assert "argument --evaluations:" in line


# -- the registry's part in a run --------------------------------------------------------------


def test_seeds_from_the_registry_are_named_with_their_key(tmp_path):
    registry = Registry(tmp_path / "registry")
    first = run_evolution(HARSH, small_options(), registry=registry)
    assert first.best.registry.stored, first.best.registry.reason
    registry.flush()
    second = run_evolution(HARSH, small_options(), registry=registry)
    (remembered,) = second.registry_seeds
    assert remembered.key == first.best.registry.key
    assert remembered.path == f"registry:{remembered.key[:12]}"
    assert "1 from the registry (earlier runs)" in provenance_lines(second)[0]
    stored = registry.best(first.best.registry.key)
    assert stored.provenance["replay"]["seed"] == first.options.seed
    assert stored.provenance["options"]["seed"] == first.options.seed


@pytest.mark.slow
def test_a_fresh_process_answers_known_conditions_from_l2_without_the_models(tmp_path):
    """Run 1 evolves and stores; run 2, a new process, gets the same program from L2
    through `neurojit synthesize` and never loads llama.cpp."""
    registry = tmp_path / "registry"
    conditions = ["--gravity", "3", "--turbulence", "0.8", "--registry", registry]
    run = neurojit(
        "evolve", *conditions, "--evaluations", "1500", "--no-llm", "--json",
        NEUROJIT_HOME=str(tmp_path),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    evolved = json.loads(run.stdout)["best"]
    assert evolved["registry"]["stored"], evolved["registry"]["reason"]
    answer = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from neurojit_tui.cli import main; code = main(sys.argv[1:]); "
            "print('llama_cpp loaded:', 'llama_cpp' in sys.modules, file=sys.stderr); "
            "sys.exit(code)",
            "synthesize",
            *map(str, conditions),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NEUROJIT_HOME": str(tmp_path)},
    )
    assert answer.returncode == 0, answer.stderr
    remembered = json.loads(answer.stdout)
    assert remembered["cache"] == "l2"
    assert remembered["best"]["source"] == evolved["source"]
    assert remembered["best"]["key"] == evolved["registry"]["key"]
    assert "llama_cpp loaded: False" in answer.stderr


def test_bench_cache_measures_a_warm_start_of_what_evolve_stored():
    from neurojit_tui.benches.cache import bench_cache

    result = bench_cache(None, evaluations=600, fresh_processes=1, log=lambda m: None)
    assert result["cold_status"] == "ok" and not result["cold_used_models"]
    assert result["l2_s"] > 0 and result["cold_over_l2"] > 1
    assert result["cold_over_l1"] > result["cold_over_l2"]


def test_bench_evolve_with_an_evaluation_bound_repeats_exactly():
    from neurojit_tui.benches.evolve import bench_evolve, format_evolve_table

    def run():
        return bench_evolve(
            [(3.0, 0.8)],
            evaluations=300,
            validation_agents=64,
            log=lambda m: None,
            throughput_seconds=0.1,
        )

    first, second = run(), run()
    scores = lambda r: [
        (a["arm"], a["evaluations"], a["success_rate"], a["cvar10_score"])
        for a in r["conditions"][0]["arms"]
    ]
    assert scores(first) == scores(second)
    searched = [a for a in first["conditions"][0]["arms"] if a["arm"] != "heuristic"]
    assert all(300 <= a["evaluations"] < 400 for a in searched), searched
    assert format_evolve_table(first).startswith("300 training evaluations per searching arm")
