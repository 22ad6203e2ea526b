"""The flight conditions (gravity, turbulence) the workstation's landers fly in, what an
evolution is judged in besides them, and the dialog that changes both (Ctrl+O).

The app holds them (``NeuroJITApp.conditions``, a ``sim.model.Environment``, kept by
``WorkstationConditions``), starts with the Moon's or those of ``neurojit ui --gravity G
--turbulence T``, and every swarm, flight, synthesis and evolution it asks the engine
for takes them. The fields are held to the same ranges as the commands' flags, with the
same messages.

An evolution (F9) can also be judged in a Gymnasium environment (``NeuroJITApp.target``,
an ``EvolutionTarget``; ``neurojit ui --env ID --env-arg K=V --objective O``), as
``neurojit evolve --env`` is. The dialog reads its words only (``gym.environments``'s
argument parsing, no environment made here): the engine makes the environment when F9
asks, and one it cannot make comes back as its refusal.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ..bounded import bounded_float
from ..evolve.results import ENV_POLISH_SHARE
from ..gym.environments import EnvArgValue, EnvSpec, FlightError, parse_env_args
from ..sim.model import GRAVITY_RANGE, TURBULENCE_RANGE, Environment
from .lander import LanderView

# what a Gymnasium environment ranks by (evolve.evaluation.OBJECTIVES: that module loads
# the compiler, which the UI process never does); the first is the default
OBJECTIVES = ("landed", "return")
ENV_EXAMPLE = "LunarLanderContinuous-v3 enable_wind=true wind_power=15"


def describe(conditions: Environment) -> str:
    """For people: "g 1.62 m/s² · turbulence 1"."""
    return f"g {conditions.gravity:g} m/s² · turbulence {conditions.turbulence:g}"


class BadCondition(ValueError):
    """A field that cannot be read (a number out of its range, words that are not an
    environment and its arguments); the message names the field."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field


def read_conditions(gravity: str, turbulence: str) -> Environment:
    """The conditions two fields ask for; ``BadCondition`` for the first wrong one."""
    values = {}
    for field, text, (low, high) in (
        ("gravity", gravity, GRAVITY_RANGE),
        ("turbulence", turbulence, TURBULENCE_RANGE),
    ):
        try:
            values[field] = bounded_float(text.strip(), low, high)
        except ValueError as error:
            raise BadCondition(field, str(error)) from None
    return Environment(**values)


@dataclass(frozen=True)
class EvolutionTarget:
    """What an evolution (F9) is judged in besides the native swarm: a Gymnasium
    environment that chooses among the finalists and validates the winner (None: the
    native lander alone), and the objective it ranks by."""

    env: EnvSpec | None = None
    objective: str = OBJECTIVES[0]

    def request_fields(self) -> dict[str, Any]:
        """``EvolveOptions``'s ``env_id``, ``env_args`` and ``objective``, and the
        polish in the environment that a time-budgeted run has by default."""
        return {
            "env_id": self.env.id if self.env is not None else None,
            "env_args": self.env.args if self.env is not None else (),
            "objective": self.objective,
            "gym_polish_share": ENV_POLISH_SHARE if self.env is not None else 0.0,
        }


def env_value_text(value: EnvArgValue) -> str:
    """A ``gymnasium.make`` argument's value as typed: read back as the same value and
    kind (``true``, not Python's ``True``, which would be read as text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return shlex.quote(value)


def env_text(env: EnvSpec | None) -> str:
    """The environment field's text: ``ID KEY=VALUE ...`` ("" for none), which
    ``read_env`` reads back as ``env``."""
    if env is None:
        return ""
    return " ".join([env.id, *(f"{name}={env_value_text(value)}" for name, value in env.args)])


def read_env(text: str) -> EnvSpec | None:
    """The environment field: an id, then ``KEY=VALUE`` arguments (as ``--env-arg``
    reads them; quotes keep spaces in a value); empty: None. ``BadCondition`` naming
    the field for words that are not that; whether the environment exists is the
    engine's to say."""
    try:
        words = shlex.split(text)
    except ValueError as error:  # an unclosed quote
        raise BadCondition("environment", str(error).lower()) from None
    if not words:
        return None
    env_id, *items = words
    if "=" in env_id:
        raise BadCondition(
            "environment",
            f"{env_id!r} is an argument: the environment's id comes first",
        )
    try:
        args = parse_env_args(items)
    except FlightError as error:
        # its messages name the command-line flag, which this field stands in for
        raise BadCondition("environment", str(error).removeprefix("--env-arg ")) from None
    return EnvSpec.of(env_id, args)


def read_target(env: str, objective: str) -> EvolutionTarget:
    """What the environment and objective fields ask for; ``BadCondition`` for the first
    wrong one."""
    spec = read_env(env)
    chosen = objective.strip()
    if chosen not in OBJECTIVES:
        raise BadCondition("objective", f"{chosen!r} is not one of {' or '.join(OBJECTIVES)}")
    return EvolutionTarget(spec, chosen)


def describe_target(target: EvolutionTarget) -> str:
    """For people, "" for the default (the native lander alone, ranked by landings):
    "gym LunarLanderContinuous-v3 enable_wind=true · objective return"."""
    if target == EvolutionTarget():
        return ""
    said = [f"gym {env_text(target.env)}"] if target.env is not None else []
    return " · ".join([*said, f"objective {target.objective}"])


@dataclass(frozen=True)
class ChosenConditions:
    """What the dialog's Enter applies."""

    conditions: Environment
    target: EvolutionTarget


class ConditionsDialog(ModalScreen[ChosenConditions | None]):
    """Gravity and turbulence, and for evolutions a Gymnasium environment and the
    objective, filled with the current ones. Enter applies them (a wrong field is said
    below them, and the dialog stays); Escape closes it with nothing changed."""

    DEFAULT_CSS = """
    ConditionsDialog {
        align: center middle;
    }
    #conditions-dialog {
        width: 72;
        max-width: 100%;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    #conditions-dialog Input {
        width: 100%;
    }
    #conditions-error {
        color: $error;
        text-style: bold;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="conditions-cancel")]

    def __init__(self, current: Environment, target: EvolutionTarget | None = None, **kwargs):
        super().__init__(**kwargs)
        self.current = current
        self.target = target or EvolutionTarget()

    def compose(self) -> ComposeResult:
        low, high = GRAVITY_RANGE
        calm, wild = TURBULENCE_RANGE
        moon = Environment()
        with Vertical(id="conditions-dialog") as dialog:
            dialog.border_title = "Flight conditions"
            yield Static("F6, F7, F9 and Shift+F9 fly in these.")
            yield Label(f"gravity, m/s² ({low:g} to {high:g}; the Moon: {moon.gravity:g})")
            yield Input(str(self.current.gravity), id="conditions-gravity")
            yield Label(
                f"turbulence ({calm:g}: calm, to {wild:g}; the default: {moon.turbulence:g})"
            )
            yield Input(str(self.current.turbulence), id="conditions-turbulence")
            yield Label(
                "F9 judged in a Gymnasium environment: ID KEY=VALUE ... (empty: none); the"
                " swarm then trains in its twin where there is one, not in the above"
            )
            yield Input(
                env_text(self.target.env), placeholder=ENV_EXAMPLE, id="conditions-environment"
            )
            yield Label("objective: landed (landings, then return) or return (mean return)")
            yield Input(self.target.objective, id="conditions-objective")
            yield Static("", id="conditions-error")
            yield Static("Enter applies, Escape cancels")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()

        def field(name: str) -> str:
            return self.query_one(f"#conditions-{name}", Input).value

        try:
            conditions = read_conditions(field("gravity"), field("turbulence"))
            target = read_target(field("environment"), field("objective"))
        except BadCondition as error:
            self.query_one("#conditions-error", Static).update(str(error))
            self.query_one(f"#conditions-{error.field}", Input).focus()
            return
        self.dismiss(ChosenConditions(conditions, target))

    def action_cancel(self) -> None:
        self.dismiss(None)


class WorkstationConditions:
    """What the workstation flies in and judges evolutions in (the app's ``conditions``
    and ``target``), shown on the editor's bottom border (always on screen) and changed
    with the dialog (Ctrl+O). New conditions fly at once: the flight in the air starts
    again in them; an evolution that is running keeps its own."""

    def __init__(self, app, conditions: Environment, target: EvolutionTarget):
        self.app = app
        self.conditions = conditions
        self.target = target

    def show(self, warn: bool = True) -> None:
        """On the editor's border, with the Gymnasium environment evolutions are judged
        in when there is one, and a warning if no controller can land in the conditions
        (they still fly: the scores say so too)."""
        shown = [describe(self.conditions)]
        if judged_in := describe_target(self.target):
            shown.append(judged_in)
        self.app.editor.border_subtitle = " · ".join(shown)
        if warn and (reason := self.conditions.impossible()) is not None:
            self.app.notify(reason, title="No controller can land", severity="warning", timeout=10)

    def choose(self) -> None:
        self.app.push_screen(ConditionsDialog(self.conditions, self.target), self.take)

    def take(self, chosen: ChosenConditions | None) -> None:
        if chosen is not None:  # None: cancelled
            self.set_conditions(chosen.conditions)
            self.set_target(chosen.target)

    def set_conditions(self, conditions: Environment) -> None:
        """Fly in ``conditions`` from now on: the next swarm, synthesis and evolution,
        and the flight in the air at once."""
        if conditions == self.conditions:
            return
        self.conditions = conditions
        said = [f"conditions: {describe(conditions)}"]
        if self.app.query_one(LanderView).fly_in(conditions):
            said.append("the lander flies again in them")
        if self._evolution_running():
            said.append("the evolution running keeps its own")
        self.app.notify("; ".join(said))
        self.show()

    def set_target(self, target: EvolutionTarget) -> None:
        """Judge the next evolution (F9) in ``target``; one running keeps its own."""
        if target == self.target:
            return
        self.target = target
        said = f"evolutions are judged in: {describe_target(target) or 'the native lander alone'}"
        if self._evolution_running():
            said += "; the evolution running keeps its own"
        self.app.notify(said)
        self.show(warn=False)

    def _evolution_running(self) -> bool:
        # by id: evolution.py imports this module
        return self.app.query_one("#evolution").running
