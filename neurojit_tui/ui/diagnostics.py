"""The Diagnostics pane: the editor's program checked in the engine as the user types.

Every edit restarts a short timer; when typing pauses, the pane asks the app for a
check (``CheckDue``), the engine checks the text off the UI thread, and an answer for
text that has changed since is dropped. Enter on a diagnostic moves the editor's cursor
there (``Chosen``). An engine that crashed, hung or failed says so here instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..compiler.diagnostics import Diagnostic
from ..engine.protocol import CheckRequest
from .engine_jobs import EngineJobs

CHECK_DELAY_S = 0.3  # debounce: check once typing pauses
CHECK_TIMEOUT_S = 60.0


class DiagnosticsPane(OptionList):
    @dataclass
    class CheckDue(Message):
        """Typing paused: the editor's text wants checking."""

    @dataclass
    class Checked(Message, bubble=False):
        version: int  # the edits the text had seen
        diagnostics: tuple[Diagnostic, ...]

    @dataclass
    class Shown(Message):
        """The pane shows new diagnostics: the editor marks their lines."""

        diagnostics: tuple[Diagnostic, ...]

    @dataclass
    class Chosen(Message):
        """Enter on a diagnostic."""

        diagnostic: Diagnostic

    def __init__(self, jobs: EngineJobs, **kwargs):
        super().__init__(**kwargs)
        self.jobs = jobs
        self.version = 0  # edits so far: a check of older text is dropped
        self.diagnostics: tuple[Diagnostic, ...] | None = None  # None: showing a problem
        self._timer = None

    def edited(self) -> None:
        self.version += 1
        self.check_soon()

    def check_soon(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(CHECK_DELAY_S, lambda: self.post_message(self.CheckDue()))

    def check(self, text: str, path: str) -> None:
        self.jobs.start(partial(self._check, text, path, self.version), "check")

    def _check(self, text: str, path: str, version: int) -> None:  # a worker thread
        reply = self.jobs.call(CheckRequest(text, path), timeout=CHECK_TIMEOUT_S)
        if reply is not None:
            self.post_message(self.Checked(version, reply.diagnostics))

    @on(Checked)
    def show_diagnostics(self, message: Checked) -> None:
        if message.version != self.version:
            return  # the buffer changed since; a newer check is coming
        if message.diagnostics == self.diagnostics:
            return  # what the pane shows already: rebuilding it costs a layout pass
        self.diagnostics = found = message.diagnostics
        self.clear_options()
        for i, d in enumerate(found):
            self.add_option(Option(f"{d.line}:{d.col} {d.severity} {d.message}", id=str(i)))
        if not found:
            self.add_option(Option("no problems: the controller verifies", id="ok", disabled=True))
        self.border_subtitle = (
            f"{sum(d.severity == 'error' for d in found)} error(s)" if found else "ok"
        )
        self.post_message(self.Shown(found))

    @on(OptionList.OptionSelected)
    def choose_diagnostic(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.diagnostics and event.option.id is not None and event.option.id.isdigit():
            self.post_message(self.Chosen(self.diagnostics[int(event.option.id)]))

    def show_trouble(self, text: str, log: Path) -> None:
        """The engine failed a request: that, in place of the diagnostics."""
        self.diagnostics = None
        self.clear_options()
        self.add_option(Option(f"engine: {text} (its log: {log})", id="engine", disabled=True))
