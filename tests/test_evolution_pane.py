"""Evolution in the workstation: the pane's formatting, the engine's evolve request, and
F9 in the real app (real engine, real MLIR, no language model, a tiny search)."""

import json
import math
from dataclasses import replace

import pytest

from neurojit_tui.engine.protocol import (
    CancelRequest,
    EvolutionProgress,
    EvolveReply,
    EvolveRequest,
    from_wire,
    to_wire,
)
from neurojit_tui.evolve.results import (
    BestProgram,
    BestSoFar,
    EvolutionResult,
    EvolveOptions,
    FailedCandidate,
    GenerationEnded,
    GenerationSummary,
    GymFinalist,
    GymPolish,
    GymScores,
    LineageStep,
    RegistryVerdict,
    SearchLog,
    TrainingScores,
    ValidationScores,
)
from neurojit_tui.sim.model import Environment
from neurojit_tui.sim.report import Outcomes
from neurojit_tui.ui.evolution import (
    EvolutionPane,
    EvolutionRun,
    F9Search,
    diff_against_parent,
    fitness_series,
    format_gym_polish,
    format_gym_scores,
    format_gym_selection,
    format_lineage,
    format_outcome,
    format_progress,
    format_state,
    number,
    parent_name,
)

from .conftest import SAMPLES
from .test_ui import _options, _sample_copy, _wait_for

pytestmark = pytest.mark.usefixtures("private_home")  # a temporary ~/.neurojit

PARENT = """// a controller
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %k = arith.constant 0.5 : f64
  return %a, %mem : tensor<2xf64>, tensor<4xf64>
}"""
CHILD = PARENT.replace("0.5 : f64", "0.75 : f64")
LINEAGE = (
    LineageStep("c-7", ("c-2",), "perturb", "scale a gain by 1.5", 3, "k", (0.75,), "", 100.71),
    LineageStep(
        "c-2", (), "seed", "seed /x/samples/pid.mlir", 0, "k", (0.5,), "/x/samples/pid.mlir", 100.68
    ),
)
TRAIN = Outcomes(128, 128, 0, 0, 0, 1.0, 247.18, 229.49, 300.0)


def _best_so_far(fitness=100.71):
    return BestSoFar("c-7", fitness, CHILD, TRAIN, LINEAGE, PARENT, "scale a gain by 1.5", 3)


def _generation(generation, best, median, evaluations_per_s=0.0):
    return GenerationEnded(
        GenerationSummary(generation, best, median, 1.0, 100), evaluations_per_s, None
    )


def _result(status="ok", best=None, history=(), failures=(), seconds=0.0, generations=0):
    return EvolutionResult(status, seconds, generations, 300, 75.0, best, history, failures)


# -- pure formatting --------------------------------------------------------------------------


def test_numbers_and_status_lines():
    assert number(100.678) == "100.68" and number(None) == "-" and number(-math.inf) == "-"
    assert format_progress(None) == "tuning the seeds"
    assert format_progress(None, _best_so_far(fitness=99.891)) == "tuning the seeds  best 99.89"
    line = format_progress(_generation(3, 100.678, -math.inf, evaluations_per_s=412.4))
    assert line == "generation 3  best 100.68  median -  412 evaluations/s"
    assert "F9" in format_state("idle")
    assert (
        format_state("running", 12.4, failures=2)
        == "evolving, 12 s (F4 stops)  2 candidate(s) failed"
    )
    done = format_state("done", result=_result("cancelled", seconds=4.25, generations=1))
    assert done == "stopped in 4.2 s: 1 generation(s), 300 evaluations"


def test_fitness_series_leaves_out_generations_where_nothing_flew():
    history = [
        GenerationSummary(0, -math.inf, -math.inf, 1.0, 100),
        GenerationSummary(1, 90.5, 80.0, 2.0, 200),
        GenerationSummary(2, 95.0, -math.inf, 3.0, 300),
    ]
    assert fitness_series(history) == ([1], [90.5], [80.0])


def test_lineage_reads_newest_first_with_how_each_program_was_made():
    lines = format_lineage(LINEAGE)
    assert lines[0].split() == [
        "c-7",
        "g3",
        "100.71",
        "perturb:",
        "scale",
        "a",
        "gain",
        "by",
        "1.5",
    ]
    assert lines[1].endswith("seed pid.mlir") and "100.68" in lines[1]
    assert parent_name(LINEAGE) == "c-2"
    assert parent_name(LINEAGE[1:]) == "pid.mlir as written"


def test_diff_against_the_parent_shows_the_changed_line():
    diff = diff_against_parent(PARENT, CHILD, "c-2", "c-7").splitlines()
    assert diff[:2] == ["--- c-2", "+++ c-7"]
    assert (
        "-  %k = arith.constant 0.5 : f64" in diff and "+  %k = arith.constant 0.75 : f64" in diff
    )
    assert not any("a controller" in line for line in diff)  # one line of context only
    assert diff_against_parent(PARENT, PARENT, "c-2", "c-7") == "(the same program as c-2)"
    assert diff_against_parent("", CHILD, "c-2", "c-7") == "(no parent to compare with)"


def test_outcome_compares_training_with_validation_and_says_what_the_registry_did():
    train = TrainingScores(1.0, 247.18, 229.49, 128, 3)
    validation = ValidationScores(0.998, 246.6, 226.3, 1000, (9,), 998, 2, 0, 0, None)
    refused = RegistryVerdict(
        False, "ab" * 32, "not better than heuristic.mlir on the validation landers", {}, {}
    )
    best = BestProgram("c-7", None, CHILD, 100.71, train, validation, None, LINEAGE, refused)
    lines = format_outcome(_result(best=best))
    assert lines[0] == "best c-7, fitness 100.71"
    assert lines[1] == "training: 100.0% landed, CVaR-10 229.5, mean 247.2 (128 landers)"
    assert lines[2] == "validation: 99.8% landed, CVaR-10 226.3, mean 246.6 (1000 landers)"
    assert (
        lines[3] == "registry: not stored, not better than heuristic.mlir on the validation landers"
    )
    stored = RegistryVerdict(True, "ab" * 32, "better than pd.mlir", {}, {})
    assert (
        format_outcome(_result(best=replace(best, registry=stored)))[3]
        == "registry: stored under abababababab (better than pd.mlir)"
    )
    assert (
        format_outcome(_result("cancelled", best=replace(best, registry=None)))[3]
        == "registry: not offered (the run was stopped)"
    )
    failed = FailedCandidate(0, "seed", "seed bad.mlir", (), "does not compile")
    assert format_outcome(_result("failed", failures=(failed, failed))) == [
        "no controller flew (2 failed)"
    ]


WINDY = "LunarLanderContinuous-v3 enable_wind=True wind_power=15"


def _gym(mean_return, landed=1.0, episodes=100, cvar10=250.0, failure=None):
    return GymScores(
        WINDY, episodes, mean_return, cvar10, landed, landed, (7, 6 + episodes), failure
    )


def test_outcome_shows_both_fidelities_the_polish_and_the_gymnasium_selection():
    """A run judged in a Gymnasium environment: the native validation line, then the
    environment's validation, the polish, and the finalists as its selection ranked
    them; the result carrying them survives the pipe."""
    train = TrainingScores(1.0, 247.18, 229.49, 128, 3)
    validation = ValidationScores(0.998, 246.6, 226.3, 1000, (9,), 998, 2, 0, 0, None)
    best = BestProgram(
        "c-9",
        None,
        CHILD,
        100.71,
        train,
        validation,
        None,
        LINEAGE,
        RegistryVerdict(True, "cd" * 32, "better than heuristic.mlir", {}, {}),
        gym_validation=_gym(285.66, landed=0.995, episodes=1000, cvar10=252.44),
        gym_selection=(
            GymFinalist("c-9", _gym(288.04)),
            GymFinalist("c-7", _gym(280.0, landed=0.97)),
            GymFinalist("c-2", _gym(-120.5, landed=0.0, cvar10=None, failure="assert y > 0")),
        ),
        gym_polish=GymPolish(12, 96, 3072, (11, 42), 101.2, 101.87, paired_episodes=420),
    )
    options = EvolveOptions(env_id="LunarLanderContinuous-v3", objective="return")
    twin = Environment(gravity=10.0, turbulence=0.0, rest_seconds=0.5)
    result = replace(_result(best=best), options=options, environment=twin)
    lines = format_outcome(result)
    assert lines[:8] == [
        "best c-9, fitness 100.71",
        "training: 100.0% landed, CVaR-10 229.5, mean 247.2 (128 landers)",
        "native validation: 99.8% landed, CVaR-10 226.3, mean 246.6 (1000 landers)",
        "native swarm trained in: gravity 10, turbulence 0, main_engine_accel 5, "
        "side_engine_accel 1, side_engine_angular 3, crash_speed 1.5, fuel_seconds 15, "
        "initial_speed 1.5, rest_seconds 0.5",
        "Gymnasium validation: mean return 285.7, CVaR-10 252.4, 99.5% landed, 99.5% solved "
        f"(1000 episodes of {WINDY})",
        "Gymnasium polish: fitness 101.20 -> 101.87 paired on 420 episodes "
        "(12 generation(s), 96 evaluations, 3072 episodes)",
        "Gymnasium selection by return (100 episodes; return/landed): c-9 288.0/100%, "
        "c-7 280.0/97%, c-2 -120.5/0% failed",
        "registry: stored under cdcdcdcdcdcd (better than heuristic.mlir)",
    ]
    failed = _gym(-50.0, landed=0.0, cvar10=None, failure="assert y > 0 at pd.mlir:5:3")
    assert format_gym_scores("Gymnasium validation", failed) == (
        "Gymnasium validation: mean return -50.0, CVaR-10 -, 0.0% landed, 0.0% solved "
        f"(100 episodes of {WINDY}); failed: assert y > 0 at pd.mlir:5:3"
    )
    assert format_gym_polish(replace(best.gym_polish, fitness=-math.inf)).startswith(
        "Gymnasium polish: fitness 101.20 -> - paired on"
    )
    assert format_gym_selection(best.gym_selection[:1], "landed") == (
        "Gymnasium selection by landed (100 episodes; return/landed): c-9 288.0/100%"
    )
    # without a polish or a selection, their lines are not there
    plain = replace(best, gym_polish=None, gym_selection=())
    assert [line.split(":")[0] for line in format_outcome(replace(result, best=plain))[:6]] == [
        "best c-9, fitness 100.71",
        "training",
        "native validation",
        "native swarm trained in",
        "Gymnasium validation",
        "registry",
    ]
    reply = EvolveReply(result)
    assert from_wire(EvolveReply, json.loads(json.dumps(to_wire(reply)))) == reply


def test_a_run_is_built_from_its_events_and_the_result_wins_at_the_end():
    run = EvolutionRun()
    assert run.best_text is None and "lineage" in run.detail()
    run.record(EvolutionProgress.of(_generation(0, 90.0, 80.0)))
    run.record(EvolutionProgress.of(FailedCandidate(0, "seed", "x", (), "does not compile")))
    run.record(EvolutionProgress.of(_best_so_far()))
    run.record(EvolutionProgress.of(SearchLog("seed pd.mlir: ...")))
    assert len(run.history) == 1 and run.failures == 1 and run.best_text == CHILD
    detail = run.detail()
    assert "lineage (newest first):" in detail and "+++ c-7" in detail and "a / Enter" in detail
    winner = BestProgram(
        "c-9",
        None,
        PARENT,
        100.71,
        TrainingScores(1.0, 247.18, 229.49, 128, 3),
        ValidationScores(0.998, 246.6, 226.3, 1000, (9,), 998, 2, 0, 0, None),
        None,
        LINEAGE,
    )
    history = (GenerationSummary(0, 90.0, 80.0, 1.0, 100), GenerationSummary(1, 91.0, 85.0, 2, 200))
    run.finish(_result(best=winner, history=history))
    assert run.best_text == PARENT and run.best_id == "c-9" and len(run.history) == 2
    # the winner was not announced as a best: its lineage, and no parent's text to diff
    assert "(no parent to compare with)" in run.detail() and "best c-9" in run.detail()


# -- the engine's evolve request --------------------------------------------------------------


def _plain_data(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_data(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_data(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def test_engine_evolve_seeds_with_the_editor_then_the_samples_and_streams_plain_events():
    from neurojit_tui.engine import server

    events = []
    text = "// edited in the editor\n" + (SAMPLES / "pd.mlir").read_text()
    result = (
        server.Handlers()
        .answer(
            EvolveRequest(
                text=text,
                path="mine.mlir",
                options=EvolveOptions(
                    budget_s=3.0, generations=1, population=2, islands=1, use_llm=False
                ),
            ),
            events.append,
        )
        .result
    )
    assert result.seeds[0] == "mine.mlir"  # the editor's program first
    assert {"heuristic.mlir", "pid.mlir"} <= {s.rsplit("/", 1)[-1] for s in result.seeds}
    assert {type(event) for event in events} == {EvolutionProgress}
    assert any(event.generation for event in events) and any(event.log for event in events)
    # what crosses the pipe is plain data
    assert all(_plain_data(to_wire(event)) for event in events) and _plain_data(to_wire(result))
    first_best = next(event.best for event in events if event.best is not None)
    # a tuned seed's diff is against the seed as it was written
    assert first_best.lineage[0].source == "mine.mlir" and first_best.parent_text == text
    json.dumps(to_wire(result))
    assert result.best.validation.agents == 1000 and result.best.registry is not None


def test_engine_refuses_an_environment_it_cannot_make_in_one_line_before_any_search():
    from neurojit_tui.engine import server

    handlers, events = server.Handlers(), []
    for fields, said in [
        ({"env_id": "NoSuchLander-v0"}, "cannot make Gymnasium environment 'NoSuchLander-v0'"),
        (
            {"env_id": "LunarLanderContinuous-v3", "env_args": (("no_such_argument", 1),)},
            "cannot make Gymnasium environment 'LunarLanderContinuous-v3 no_such_argument=1'",
        ),
        ({"env_id": "CartPole-v1"}, "CartPole-v1: its observation space is Box(4,)"),
        ({"objective": "most"}, "objective 'most': give landed or return"),
    ]:
        request = EvolveRequest(options=EvolveOptions(use_llm=False, **fields))
        reply = handlers.answer(request, events.append)
        assert reply.result is None and reply.refused.startswith(said), reply.refused
        assert "\n" not in reply.refused
    assert not events  # nothing was searched


def test_engine_evolve_stops_on_cancel_with_the_best_so_far_and_offers_it_to_no_one():
    import threading

    from neurojit_tui.engine import server

    best_seen = threading.Event()
    handlers = server.Handlers()
    answer = {}

    def run():
        request = EvolveRequest(
            text=(SAMPLES / "pd.mlir").read_text(),
            path="pd.mlir",
            options=EvolveOptions(budget_s=120.0, population=2, islands=1, use_llm=False),
        )
        answer["result"] = handlers.answer(
            request, lambda event: event.best is not None and best_seen.set()
        ).result

    worker = threading.Thread(target=run)
    worker.start()
    assert best_seen.wait(120)
    assert handlers.cancel(CancelRequest(), lambda event: None).cancelled == 1
    worker.join(120)
    result = answer["result"]
    assert result.status == "cancelled" and result.best is not None
    assert result.best.registry is None  # a stopped run stores nothing


# -- F9 in the app ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_f9_evolves_hot_swaps_the_lander_and_accept_is_one_undoable_edit(tmp_path):
    """F9 with a tiny search (no language model, the editor's program the only seed):
    the Evolution pane shows the generations, a plot, the best's lineage and diff and
    the final scores; every new best flies the live lander (hot-swapped into the
    flight F7 started); the editor is untouched until ``a`` in the pane, which is one
    undoable edit."""
    from neurojit_tui.ui.app import NeuroJITApp
    from neurojit_tui.ui.lander import LanderView

    path = _sample_copy(tmp_path)

    app = NeuroJITApp(str(path), remember_layout=False)
    app.f9_search = F9Search(
        EvolveOptions(budget_s=60.0, generations=2, population=2, islands=1, use_llm=False),
        with_default_seeds=False,
    )
    async with app.run_test(size=(200, 60)) as pilot:
        editor = app.editor
        original = editor.text
        await _wait_for(pilot, lambda: any("verifies" in o for o in _options(app)))
        view = app.query_one(LanderView)
        await pilot.press("f7")
        await _wait_for(pilot, lambda: view.frame is not None)
        await pilot.press("f9")
        pane = app.query_one(EvolutionPane)
        assert pane.state == "running" and pane.border_title == "Evolution"
        await _wait_for(pilot, lambda: pane.state == "done", 240)
        result = pane.run.result
        assert result.status == "ok" and result.generations == 2
        status = str(pane.query_one("#evolution-status").render())
        assert status.startswith("generation 2 ") and "evaluations/s" in status
        assert "done in" in status
        assert len(fitness_series(pane.run.history)[0]) == 3  # generations 0, 1, 2
        detail = str(pane.query_one("#evolution-text").render())
        assert "lineage (newest first):" in detail and "seed pd.mlir" in detail
        assert "training:" in detail and "validation:" in detail and "registry:" in detail
        assert f"+++ {pane.run.best_id}" in detail  # the diff against its parent
        # each best flew: hot-swapped into the flight F7 started
        best_id = result.best.id
        await _wait_for(
            pilot, lambda: view.frame.controller.startswith(f"evolved-{best_id}.mlir#"), 30
        )
        assert view.controllers[0] == f"{path}#1" and len(view.controllers) >= 2
        assert "hot-swaps:" in str(view.render())
        assert editor.text == original  # nothing changes the buffer but accepting
        await pilot.press("ctrl+g", "a")
        assert editor.text == result.best.source != original
        await pilot.press("f1", "ctrl+z")
        assert editor.text == original  # one undo brings the buffer back
        # F4 stops a run with the best so far, which is not offered to the registry
        app.f9_search.options = replace(app.f9_search.options, generations=None)
        await pilot.press("f9")
        await _wait_for(pilot, lambda: pane.run.best is not None, 120)
        await pilot.press("f4")
        await _wait_for(pilot, lambda: pane.state == "done", 120)
        assert pane.run.result.status == "cancelled"
        assert "stopped in" in str(pane.query_one("#evolution-status").render())
        assert "not offered (the run was stopped)" in str(
            pane.query_one("#evolution-text").render()
        )


@pytest.mark.anyio
async def test_f9_in_an_environment_the_engine_cannot_make_says_why_in_the_pane():
    """The engine's refusal is the pane's message (and a notification), not a crash or
    an engine failure; F9 works again after it."""
    from neurojit_tui.gym.environments import EnvSpec
    from neurojit_tui.ui.app import NeuroJITApp
    from neurojit_tui.ui.conditions import EvolutionTarget

    refusal = "cannot make Gymnasium environment 'NoSuchLander-v0': Environment doesn't exist."
    app = NeuroJITApp(
        None, remember_layout=False, target=EvolutionTarget(EnvSpec("NoSuchLander-v0"))
    )
    asked = []

    def engine(request, timeout=None):
        asked.append(request)
        return EvolveReply(None, refused=refusal) if isinstance(request, EvolveRequest) else None

    app.jobs.call = engine
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("f9")
        pane = app.query_one(EvolutionPane)
        await _wait_for(pilot, lambda: pane.state == "refused", 30)
        status = str(pane.query_one("#evolution-status").render())
        assert status.endswith("not evolved: the engine refused (the reason is below)")
        assert str(pane.query_one("#evolution-text").render()) == f"not evolved: {refusal}"
        assert refusal in [n.message for n in app._notifications if n.severity == "error"]
        await pilot.press("f9")
        await _wait_for(
            pilot, lambda: len([r for r in asked if isinstance(r, EvolveRequest)]) == 2, 30
        )
    evolved = [r.options.env_id for r in asked if isinstance(r, EvolveRequest)]
    assert evolved == ["NoSuchLander-v0"] * 2
