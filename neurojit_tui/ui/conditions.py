"""The flight conditions (gravity, turbulence) the workstation's landers fly in, and the
dialog that changes them (Ctrl+O).

The app holds them (``NeuroJITApp.conditions``, a ``sim.model.Environment``), starts
with the Moon's or those of ``neurojit ui --gravity G --turbulence T``, and every
swarm, flight, synthesis and evolution it asks the engine for takes them. The fields
are held to the same ranges as the commands' flags, with the same messages.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ..bounded import bounded_float
from ..sim.model import GRAVITY_RANGE, TURBULENCE_RANGE, Environment


def describe(conditions: Environment) -> str:
    """For people: "g 1.62 m/s² · turbulence 1"."""
    return f"g {conditions.gravity:g} m/s² · turbulence {conditions.turbulence:g}"


class BadCondition(ValueError):
    """A field that is not a number in its range; the message names the field."""

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


class ConditionsDialog(ModalScreen[Environment | None]):
    """Two fields, gravity and turbulence, filled with the current conditions. Enter
    applies them (a wrong field is said below them, and the dialog stays); Escape
    closes it with nothing changed."""

    DEFAULT_CSS = """
    ConditionsDialog {
        align: center middle;
    }
    #conditions-dialog {
        width: 60;
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

    def __init__(self, current: Environment, **kwargs):
        super().__init__(**kwargs)
        self.current = current

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
            yield Static("", id="conditions-error")
            yield Static("Enter applies, Escape cancels")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        gravity = self.query_one("#conditions-gravity", Input)
        turbulence = self.query_one("#conditions-turbulence", Input)
        try:
            conditions = read_conditions(gravity.value, turbulence.value)
        except BadCondition as error:
            self.query_one("#conditions-error", Static).update(str(error))
            self.query_one(f"#conditions-{error.field}", Input).focus()
            return
        self.dismiss(conditions)

    def action_cancel(self) -> None:
        self.dismiss(None)
