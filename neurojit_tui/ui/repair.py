"""The repair stepper pane: the attempts of a repair session, one decision at a time.

The session lives in the engine (it needs the compiler and the models); this pane shows
its state and sends the user's decisions: n = next attempt, a = accept, x = reject,
e = edit-and-retry (the editor's text becomes the next attempt), g = run to completion.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ..engine.protocol import RepairState


class RepairPane(Vertical):
    BINDINGS = [
        Binding("n", "step('propose')", "Next attempt", id="repair-next"),
        Binding("a", "step('accept')", "Accept", id="repair-accept"),
        Binding("x", "step('reject')", "Reject", id="repair-reject"),
        Binding("e", "step('edit')", "Edit & retry", id="repair-edit"),
        Binding("g", "step('auto')", "Run to end", id="repair-auto"),
    ]

    @dataclass
    class Step(Message):
        """The user asked the session for ``action``."""

        action: str

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state: RepairState | None = None

    def compose(self) -> ComposeResult:
        table = DataTable(id="attempts", cursor_type="row")
        table.add_columns("#", "tier", "agent", "s", "errors", "decision")
        yield table
        yield Static("Ctrl+R starts a repair session on the editor's program.", id="attempt-detail")

    def action_step(self, action: str) -> None:
        self.post_message(self.Step(action))

    def show(self, state: RepairState) -> None:
        self.state = state
        table = self.query_one(DataTable)
        table.clear()
        for a in state.attempts:
            table.add_row(str(a.number), a.tier, a.agent[:24], f"{a.seconds:.2f}",
                          str(a.errors), a.decision, key=str(a.number))
        if state.attempts:
            table.move_cursor(row=len(state.attempts) - 1)
        self.show_attempt(len(state.attempts) - 1)
        self.border_subtitle = state.status

    def show_attempt(self, index: int) -> None:
        detail = self.query_one("#attempt-detail", Static)
        if self.state is None:
            return
        if index < 0:
            errors = "\n".join(f"{d.line}:{d.col} {d.message}" for d in self.state.diagnostics)
            detail.update(f"status: {self.state.status}\n{errors}\nn: make the first attempt")
            return
        a = self.state.attempts[index]
        errors = "\n".join(f"{d.line}:{d.col} {d.severity} {d.message}"
                           for d in a.diagnostics) or "verifies"
        detail.update(f"attempt {a.number} ({a.tier}): {a.explanation}\n{errors}\n"
                      f"{a.diff or '(no change)'}")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.show_attempt(int(event.row_key.value) - 1)
