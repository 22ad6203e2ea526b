"""Flight conditions in the workstation: `neurojit ui --gravity G --turbulence T`, the
dialog that changes them (Ctrl+O), and every engine request flying in them."""

import argparse

import pytest
from textual.widgets import Input

from neurojit_tui import cli
from neurojit_tui.engine.protocol import (
    EvolveRequest,
    FlyRequest,
    SwarmRequest,
    SynthesizeRequest,
)
from neurojit_tui.evolve.results import ENV_POLISH_SHARE
from neurojit_tui.gym.environments import EnvSpec
from neurojit_tui.sim.model import Environment
from neurojit_tui.ui.app import NeuroJITApp
from neurojit_tui.ui.conditions import (
    OBJECTIVES,
    BadCondition,
    ConditionsDialog,
    EvolutionTarget,
    describe,
    describe_target,
    env_text,
    read_conditions,
    read_target,
)
from neurojit_tui.ui.lander import LanderView
from neurojit_tui.ui.results import SwarmPane

from .conftest import SAMPLES
from .test_ui import _sample_copy, _wait_for

pytestmark = pytest.mark.usefixtures("private_home")  # a temporary ~/.neurojit

IMPOSSIBLE = "no controller can stop the fall"


def _messages(app, severity=None) -> list[str]:
    return [n.message for n in app._notifications if severity in (None, n.severity)]


# -- reading and saying them -------------------------------------------------------------------


def test_fields_are_read_with_the_flags_ranges_and_a_wrong_one_is_named():
    assert read_conditions(" 3 ", "0.8") == Environment(gravity=3.0, turbulence=0.8)
    assert describe(Environment(gravity=3.0, turbulence=0.8)) == "g 3 m/s² · turbulence 0.8"
    for gravity, turbulence, field, message in [
        ("abc", "1", "gravity", "gravity: 'abc' is not a number"),
        ("", "1", "gravity", "gravity: '' is not a number"),
        ("nan", "1", "gravity", "gravity: nan is not a finite number: give one from 0 to 100"),
        ("1", "101", "turbulence", "turbulence: 101 is out of range: give a number from 0 to 100"),
        ("1", "-inf", "turbulence", "turbulence: -inf is not a finite number"),
    ]:
        with pytest.raises(BadCondition) as error:
            read_conditions(gravity, turbulence)
        assert error.value.field == field and str(error.value).startswith(message)


WINDY = EnvSpec.of("LunarLanderContinuous-v3", {"enable_wind": True, "wind_power": 15})


def test_the_environment_field_reads_an_id_and_its_arguments_as_env_arg_does():
    target = read_target(" LunarLanderContinuous-v3 wind_power=15 enable_wind=true ", "return")
    assert target == EvolutionTarget(WINDY, "return")
    assert target.request_fields() == {
        "env_id": "LunarLanderContinuous-v3",
        "env_args": (("enable_wind", True), ("wind_power", 15)),
        "objective": "return",
        "gym_polish_share": ENV_POLISH_SHARE,  # F9 runs on the clock: it polishes
    }
    assert read_target("", "landed") == EvolutionTarget()  # the native lander alone
    assert EvolutionTarget().request_fields() == {
        "env_id": None,
        "env_args": (),
        "objective": "landed",
        "gym_polish_share": 0.0,
    }
    # the field's text reads back as the same arguments, of the same kinds
    quoted = EnvSpec.of("X-v0", {"name": "a b", "ratio": 0.5, "on": False, "mode": "rgb"})
    for spec in (WINDY, quoted):
        assert read_target(env_text(spec), "landed").env == spec
    assert env_text(WINDY) == "LunarLanderContinuous-v3 enable_wind=true wind_power=15"
    assert env_text(None) == ""
    assert describe_target(EvolutionTarget()) == ""
    assert describe_target(EvolutionTarget(WINDY)) == (
        "gym LunarLanderContinuous-v3 enable_wind=true wind_power=15 · objective landed"
    )
    assert describe_target(EvolutionTarget(None, "return")) == "objective return"


def test_a_malformed_environment_or_objective_is_one_line_naming_the_field():
    for env, objective, field, message in [
        ("LunarLander-v3 wind", "landed", "environment", "environment: 'wind': expected KEY=VALUE"),
        ("LunarLander-v3 =3", "landed", "environment", "environment: '=3': the key before '='"),
        ("X-v0 a-b=1", "landed", "environment", "environment: 'a-b=1': 'a-b' is not a keyword"),
        ("X-v0 a=1 a=2", "landed", "environment", "environment: a is given twice"),
        ("X-v0 name='a b", "landed", "environment", "environment: no closing quotation"),
        ("wind_power=15", "landed", "environment", "environment: 'wind_power=15' is an argument"),
        ("X-v0", "fast", "objective", "objective: 'fast' is not one of landed or return"),
    ]:
        with pytest.raises(BadCondition) as error:
            read_target(env, objective)
        assert error.value.field == field and str(error.value).startswith(message), error.value
        assert "\n" not in str(error.value)


def test_the_objectives_are_the_searchs():
    from neurojit_tui.evolve.evaluation import OBJECTIVES as SEARCH_OBJECTIVES

    assert OBJECTIVES == SEARCH_OBJECTIVES


def test_the_flying_commands_share_one_declaration_of_the_condition_flags():
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name in ("swarm", "synthesize", "evolve", "ui"):
        flags = {a.dest: a for a in commands[name]._actions}
        assert flags["gravity"].type is cli.GRAVITY and flags["turbulence"].type is cli.TURBULENCE
        # not given: None, so evolve --env can tell; the conditions are then the Moon's
        assert (flags["gravity"].default, flags["turbulence"].default) == (None, None)
        args = argparse.Namespace(gravity=None, turbulence=None)
        assert cli.environment_from(args, warn=False) == Environment()


def test_ui_and_the_bare_form_start_the_workstation_in_the_flags_conditions(monkeypatch):
    started = []
    monkeypatch.setattr(cli, "_check_workstation_start", lambda path: None)  # no terminal here
    monkeypatch.setattr(
        "neurojit_tui.ui.app.run_app", lambda path, **options: started.append(options) or 0
    )
    assert cli.main(["ui", "--gravity", "3", "--turbulence", "0.8"]) == 0
    assert cli.main(["new.mlir", "--gravity", "2.5"]) == 0  # `neurojit FILE --gravity G`
    assert cli.main(["new.mlir"]) == 0
    assert cli.main(["--turbulence", "2", "new.mlir"]) == 0  # `neurojit --turbulence T FILE`
    assert [o["conditions"] for o in started] == [
        Environment(gravity=3.0, turbulence=0.8),
        Environment(gravity=2.5, turbulence=1.0),
        Environment(),
        Environment(turbulence=2.0),
    ]
    assert all(o["target"] == EvolutionTarget() for o in started)


def test_ui_starts_with_evolve_s_environment_flags_and_refuses_bad_ones(monkeypatch, capsys):
    started = []
    monkeypatch.setattr(cli, "_check_workstation_start", lambda path: None)  # no terminal here
    monkeypatch.setattr(
        "neurojit_tui.ui.app.run_app", lambda path, **options: started.append(options) or 0
    )
    argv = ["ui", "--env", "LunarLanderContinuous-v3", "--env-arg", "enable_wind=true"]
    assert cli.main([*argv, "--env-arg", "wind_power=15", "--objective", "return"]) == 0
    assert started[-1]["target"] == EvolutionTarget(WINDY, "return")
    assert cli.main(["--env", "X-v0", "new.mlir"]) == 0  # `neurojit --env ID FILE`
    assert started[-1]["target"] == EvolutionTarget(EnvSpec("X-v0"))
    capsys.readouterr()
    assert cli.main([*argv, "--env-arg", "wind"]) == 2
    assert capsys.readouterr().err == "neurojit: error: --env-arg 'wind': expected KEY=VALUE\n"
    assert cli.main(["ui", "--env-arg", "wind_power=15"]) == 2
    assert capsys.readouterr().err == "neurojit: error: --env-arg needs --env\n"
    assert len(started) == 2


# -- in the app --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_every_request_the_panes_send_flies_in_the_apps_conditions():
    """F6, F7, F9 and Shift+F9 with a stand-in for the engine that records each request
    (and answers none, as a failed engine would: no models, no search)."""
    app = NeuroJITApp(None, conditions=Environment(gravity=2.0, turbulence=0.5))
    asked = []
    app.jobs.call = lambda request, timeout=None: asked.append(request)
    kinds = (SwarmRequest, FlyRequest, EvolveRequest, SynthesizeRequest)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f6", "f7", "f9", "shift+f9")
        await _wait_for(pilot, lambda: {type(r) for r in asked} >= set(kinds), 10)
    flown = [r for r in asked if isinstance(r, kinds)]
    assert len(flown) == 4
    assert all(r.environment == Environment(gravity=2.0, turbulence=0.5) for r in flown), flown


@pytest.mark.anyio
async def test_the_dialog_has_the_keys_and_the_palette_opens_it():
    """While the dialog is open the workstation's keys wait (F6 flies nothing) and Tab
    still moves between its fields; the palette's Conditions command opens it too."""
    from textual.widgets import Input

    from neurojit_tui.ui.conditions import ConditionsDialog

    app = NeuroJITApp(None)
    asked = []
    app.jobs.call = lambda request, timeout=None: asked.append(request)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await _wait_for(pilot, lambda: isinstance(app.screen, ConditionsDialog), 10)
        first = app.screen.focused
        await pilot.press("f6", "ctrl+o", "tab")
        await pilot.pause(0.3)
        assert not [r for r in asked if isinstance(r, SwarmRequest)]
        assert isinstance(app.screen, ConditionsDialog) and len(app.screen_stack) == 2
        assert isinstance(app.screen.focused, Input) and app.screen.focused is not first
        await pilot.press("escape")
        await _wait_for(pilot, lambda: not isinstance(app.screen, ConditionsDialog), 10)
        await pilot.press("f6")
        await _wait_for(pilot, lambda: any(isinstance(r, SwarmRequest) for r in asked), 10)
        await pilot.press("ctrl+p", *"conditions")
        await _wait_for(
            pilot,
            lambda: (
                bool(app.screen.query("CommandList"))
                and app.screen.query_one("CommandList").option_count > 0
            ),
            10,
        )
        await pilot.press("enter")
        await _wait_for(pilot, lambda: isinstance(app.screen, ConditionsDialog), 10)


@pytest.mark.anyio
async def test_the_flag_conditions_are_shown_and_a_swarm_flies_in_them(tmp_path):
    path = _sample_copy(tmp_path)
    app = NeuroJITApp(str(path), conditions=Environment(gravity=3.0, turbulence=0.8))
    async with app.run_test(size=(200, 60)) as pilot:
        assert app.editor.border_subtitle == "g 3 m/s² · turbulence 0.8"
        await pilot.press("f6")
        pane = app.query_one(SwarmPane)
        await _wait_for(pilot, lambda: len(pane.runs) == 1)
        flown = pane.runs[0].report.environment  # what the engine flew
        assert (flown["gravity"], flown["turbulence"]) == (3.0, 0.8)
        detail = str(pane.query_one("#swarm-histogram").render())
        assert detail.startswith("pd.mlir in g 3 m/s² · turbulence 0.8: success")


@pytest.mark.anyio
async def test_the_dialog_refuses_bad_fields_cancels_and_the_flight_changes_conditions(
    tmp_path,
):
    """Ctrl+O: a wrong field is one line naming it, and the dialog stays; Escape changes
    nothing; good values are shown, and the lander in the air flies again in them (with
    no turbulence, no wind) with the program swapped into it last (as an evolution's
    best is)."""
    from neurojit_tui.ui.commands import workstation_commands

    path = _sample_copy(tmp_path)
    app = NeuroJITApp(str(path))
    assert ("Conditions", "ctrl+o") in {(t, h) for t, h, _ in workstation_commands(app)}
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(LanderView)
        await pilot.press("f7")
        await _wait_for(pilot, lambda: view.frame is not None and view.frame.wind != 0.0)
        view.fly_or_swap((SAMPLES / "heuristic.mlir").read_text(), "evolved-best.mlir")
        await _wait_for(pilot, lambda: view.frame.controller.startswith("evolved-best.mlir#"))

        await pilot.press("ctrl+o")
        await _wait_for(pilot, lambda: isinstance(app.screen, ConditionsDialog), 10)
        dialog = app.screen
        gravity = dialog.query_one("#conditions-gravity", Input)
        turbulence = dialog.query_one("#conditions-turbulence", Input)
        error = dialog.query_one("#conditions-error")
        assert (gravity.value, turbulence.value) == ("1.62", "1.0")
        await pilot.press(*"abc", "enter")  # typed over the selected value
        assert str(error.render()) == "gravity: 'abc' is not a number"
        assert app.screen is dialog and app.focused is gravity
        gravity.value, turbulence.value = "2", "101"
        await pilot.press("enter")
        assert str(error.render()) == (
            "turbulence: 101 is out of range: give a number from 0 to 100"
        )
        assert app.screen is dialog and app.focused is turbulence
        await pilot.press("escape")
        assert not isinstance(app.screen, ConditionsDialog)
        assert app.conditions == Environment()
        assert app.editor.border_subtitle == "g 1.62 m/s² · turbulence 1"

        await pilot.press("ctrl+o")
        await _wait_for(pilot, lambda: isinstance(app.screen, ConditionsDialog), 10)
        app.screen.query_one("#conditions-gravity", Input).value = "2.5"
        app.screen.query_one("#conditions-turbulence", Input).value = "0"
        await pilot.press("enter")
        assert not isinstance(app.screen, ConditionsDialog)
        assert app.conditions == Environment(gravity=2.5, turbulence=0.0)
        assert app.editor.border_subtitle == "g 2.5 m/s² · turbulence 0"
        assert "conditions: g 2.5 m/s² · turbulence 0; the lander flies again in them" in _messages(
            app
        )
        # no wind: a new flight (a flight's conditions are set when it starts)
        await _wait_for(pilot, lambda: view.frame.wind == 0.0 and view.frame.step > 5)
        assert view.frame.controller.startswith("evolved-best.mlir#")
        assert not _messages(app, "warning")


@pytest.mark.anyio
async def test_conditions_no_controller_can_land_in_are_a_warning_and_still_taken():
    app = NeuroJITApp(None, conditions=Environment(gravity=6.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        (warning,) = _messages(app, "warning")
        assert warning.startswith("gravity 6 m/s^2 is not below") and IMPOSSIBLE in warning
        app.clear_notifications()
        await pilot.press("ctrl+o")
        await _wait_for(pilot, lambda: isinstance(app.screen, ConditionsDialog), 10)
        app.screen.query_one("#conditions-gravity", Input).value = "5"
        await pilot.press("enter")
        assert app.conditions.gravity == 5.0  # taken: the scores will say the rest
        (warning,) = _messages(app, "warning")
        assert warning.startswith("gravity 5 m/s^2 is not below") and IMPOSSIBLE in warning


@pytest.mark.anyio
async def test_the_dialog_names_a_gymnasium_environment_and_f9_evolves_judged_in_it():
    """Ctrl+O: a malformed environment is one line naming the field, and the dialog
    stays; Escape changes nothing; an environment with arguments and an objective are
    taken, shown on the editor's border, and F9's request carries them (a stand-in for
    the engine records the requests and answers none)."""
    app = NeuroJITApp(None, conditions=Environment(gravity=2.0, turbulence=0.5))
    asked = []
    app.jobs.call = lambda request, timeout=None: asked.append(request)
    async with app.run_test(size=(120, 40)) as pilot:
        native = "g 2 m/s² · turbulence 0.5"
        assert app.editor.border_subtitle == native
        await pilot.press("ctrl+o")
        await _wait_for(pilot, lambda: isinstance(app.screen, ConditionsDialog), 10)
        dialog = app.screen
        env = dialog.query_one("#conditions-environment", Input)
        objective = dialog.query_one("#conditions-objective", Input)
        error = dialog.query_one("#conditions-error")
        assert (env.value, objective.value) == ("", "landed")
        env.value = "LunarLanderContinuous-v3 enable_wind"
        await pilot.press("enter")
        assert str(error.render()) == "environment: 'enable_wind': expected KEY=VALUE"
        assert app.screen is dialog and app.focused is env
        env.value, objective.value = "LunarLanderContinuous-v3", "most"
        await pilot.press("enter")
        assert str(error.render()) == "objective: 'most' is not one of landed or return"
        assert app.screen is dialog and app.focused is objective
        await pilot.press("escape")
        assert not isinstance(app.screen, ConditionsDialog)
        assert app.target == EvolutionTarget() and app.editor.border_subtitle == native

        await pilot.press("ctrl+o")
        await _wait_for(pilot, lambda: isinstance(app.screen, ConditionsDialog), 10)
        app.screen.query_one(
            "#conditions-environment", Input
        ).value = "LunarLanderContinuous-v3 enable_wind=true wind_power=15"
        app.screen.query_one("#conditions-objective", Input).value = "return"
        await pilot.press("enter")
        assert not isinstance(app.screen, ConditionsDialog)
        assert app.target == EvolutionTarget(WINDY, "return")
        assert app.conditions == Environment(gravity=2.0, turbulence=0.5)  # unchanged
        assert app.editor.border_subtitle == (
            f"{native} · gym LunarLanderContinuous-v3 enable_wind=true wind_power=15 · "
            "objective return"
        )
        said = "evolutions are judged in: gym LunarLanderContinuous-v3 enable_wind=true"
        assert any(m.startswith(said) for m in _messages(app))
        # the dialog opens on what is set
        await pilot.press("ctrl+o")
        await _wait_for(pilot, lambda: isinstance(app.screen, ConditionsDialog), 10)
        assert app.screen.query_one("#conditions-environment", Input).value == env_text(WINDY)
        await pilot.press("escape")

        await pilot.press("f9")
        await _wait_for(pilot, lambda: any(isinstance(r, EvolveRequest) for r in asked), 10)
    (request,) = [r for r in asked if isinstance(r, EvolveRequest)]
    options = request.options
    assert (options.env_id, options.env_args, options.objective) == (
        "LunarLanderContinuous-v3",
        (("enable_wind", True), ("wind_power", 15)),
        "return",
    )
    assert request.environment == Environment(gravity=2.0, turbulence=0.5)
