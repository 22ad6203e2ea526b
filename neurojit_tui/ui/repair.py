"""The repair stepper pane: the attempts of a repair session, one decision at a time.

The session lives in the engine (it needs the compiler and the models); this pane shows
its state and sends the user's decisions: n = next attempt, a = accept, x = reject,
e = edit-and-retry (the editor's text becomes the next attempt), g = run to completion.
A key asks the app for a step (``Step``: it needs the editor's text); each answer
(``Stepped``) updates the pane, and the app puts an accepted repair in the editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ..engine.protocol import RepairStartRequest, RepairState, RepairStepRequest
from .engine_jobs import EngineJobs

START = "start"


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

    @dataclass
    class Stepped(Message):
        """The session's state after ``action`` (START: a new session)."""

        state: RepairState
        action: str

    def __init__(self, jobs: EngineJobs, **kwargs):
        super().__init__(**kwargs)
        self.jobs = jobs
        self.state: RepairState | None = None  # None: no session yet

    def compose(self) -> ComposeResult:
        table = DataTable(id="attempts", cursor_type="row")
        table.add_columns("#", "tier", "agent", "s", "errors", "decision")
        yield table
        yield Static("Ctrl+R starts a repair session on the editor's program.", id="attempt-detail")

    def action_step(self, action: str) -> None:
        if self.state is None:
            self.notify("Ctrl+R starts a repair session first", severity="warning")
            return
        self.post_message(self.Step(action))

    def start(self, text: str, path: str) -> None:
        """A new session on ``text`` (the one before is left)."""
        self.state = None
        self.jobs.start(partial(self._step, START, RepairStartRequest(text, path)), "repair")

    def step(self, action: str, text: str) -> None:
        """``action`` on the session; ``text`` is the editor's (edit-and-retry takes it)."""
        request = RepairStepRequest(self.state.session, action, text)
        self.jobs.start(partial(self._step, action, request), "repair")

    def _step(
        self, action: str, request: RepairStartRequest | RepairStepRequest
    ) -> None:  # a worker thread
        state = self.jobs.call(request)
        if state is not None:
            self.post_message(self.Stepped(state, action))

    @on(Stepped)
    def show_stepped(self, message: Stepped) -> None:
        self.show(message.state)

    def show(self, state: RepairState) -> None:
        self.state = state
        table = self.query_one(DataTable)
        table.clear()
        for a in state.attempts:
            table.add_row(
                str(a.number),
                a.tier,
                a.agent[:24],
                f"{a.seconds:.2f}",
                str(a.errors),
                a.decision,
                key=str(a.number),
            )
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
        errors = (
            "\n".join(f"{d.line}:{d.col} {d.severity} {d.message}" for d in a.diagnostics)
            or "verifies"
        )
        detail.update(
            f"attempt {a.number} ({a.tier}): {a.explanation}\n{errors}\n{a.diff or '(no change)'}"
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.show_attempt(int(event.row_key.value) - 1)
