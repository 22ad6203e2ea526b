"""The NeuroJIT workstation (Textual): composition, keys and routing.

The UI process never loads MLIR, the JIT or llama.cpp: every compiler, simulation or
agent job goes to the engine process (``engine.EngineClient``) from a worker thread
(``engine_jobs.py``) and comes back as a typed message. A crashed or hung engine is
reported in the Diagnostics pane and replaced; the editor's buffer lives here and is
never touched by it.

Where things are: key bindings in ``keymap.py``, the command palette in ``commands.py``,
themes in ``themes/*.tcss`` (``themes.py``), the layout on screen and remembered in
``session.py``; each pane's behaviour beside its widget (``diagnostics.py``: live
checking, ``lander.py``: flights and hot-swaps, ``results.py``: swarms and the registry,
``reasoning.py``: synthesis and the token stream, ``repair.py``: repair stepping,
``evolution.py``: evolution); the flight conditions, their dialog and their changes in
``conditions.py``; the edited file in ``buffer.py``, the engine's client, jobs and
events in ``engine_jobs.py``, a dropped terminal in ``hangup.py``, heavy updates
between keystrokes in ``keystrokes.py``. This module composes them, turns keys into
pane calls, and routes messages from pane to pane.
"""

from __future__ import annotations

import gc
import os
from functools import partial

from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from ..engine import EngineClient
from ..engine.protocol import AgentToken, EvolutionProgress, LanderFrame, LogLine
from ..sim.model import Environment
from .buffer import EditedFile, NothingToSaveTo, editor_title
from .commands import WorkstationCommands
from .conditions import EvolutionTarget, WorkstationConditions
from .cores import CoresPane
from .diagnostics import DiagnosticsPane
from .editor import TensorLangEditor
from .engine_jobs import EngineJobs, EngineTrouble
from .evolution import EvolutionPane, F9Search
from .hangup import HangupGuard
from .keymap import APP_BINDINGS, allowed_over_a_dialog
from .keystrokes import KeystrokeGaps
from .lander import LanderView
from .reasoning import ReasoningPane
from .repair import START, RepairPane
from .results import OpenProgram, RegistryPane, RegistryUpdated, SwarmPane
from .session import SIDE_PANES, ScreenLayout, SessionLayout, starting_layout
from .themes import LAYOUT_CSS, discover

THEMES = discover()


def over_ssh() -> bool:
    return bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))


def titled(widget, title: str, pane: bool = False):
    """Panes carry their names as border titles (users and scripts find them by it)."""
    widget.border_title = title
    if pane:
        widget.add_class("pane")
    return widget


class NeuroJITApp(App):
    TITLE = "NeuroJIT Workstation"
    CSS_PATH = [str(LAYOUT_CSS)] + [str(t.path) for t in THEMES.values()]
    BINDINGS = APP_BINDINGS
    COMMANDS = App.COMMANDS | {WorkstationCommands}

    def __init__(
        self,
        path: str | None = None,
        engine: EngineClient | None = None,
        fps: float | None = None,
        layout: SessionLayout | None = None,
        remember_layout: bool = True,
        conditions: Environment | None = None,
        target: EvolutionTarget | None = None,
    ):
        super().__init__()
        self.file = EditedFile.open(path)
        # what every swarm, flight, synthesis and evolution flies in, and what an evolution
        # is judged in besides them: a Gymnasium environment (Ctrl+O changes both)
        self.flight = WorkstationConditions(
            self, conditions or Environment(), target or EvolutionTarget()
        )
        self.jobs = EngineJobs(self, engine)
        self.engine = self.jobs.client
        self.remote = over_ssh()
        # over SSH every frame is bytes on the wire: fly slower, sample the cores less often
        self.fps = fps or (10.0 if self.remote else 25.0)
        choice, self.layout_warning = starting_layout(layout, remember_layout)
        self.screen_layout = ScreenLayout(self, choice, remember_layout, THEMES)
        self.synthesis_candidates = 2  # programs the models write per synthesis
        self.f9_search = F9Search()  # its conditions: ``conditions``; Gymnasium: ``target``
        self.keystrokes = KeystrokeGaps(self)
        self.hangup = HangupGuard(self)
        self.terminal_gone = False
        self.hard_exit_on_hangup = False  # run_app sets it: never in tests that share a process

    # -- composition -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        jobs = self.jobs
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield titled(TensorLangEditor(self.file.saved_text, id="editor"), "Editor")
                yield titled(DiagnosticsPane(jobs, id="diagnostics"), "Diagnostics")
            # the side panes, in session.SIDE_PANES order (the wide grid fills row by row)
            with Vertical(id="right"):
                lander = LanderView(jobs, self.fps, self.conditions, id="lander")
                cores = CoresPane(2.0 if self.remote else 1.0, jobs.processes, id="cores")
                yield titled(lander, "Lander", pane=True)
                yield titled(cores, "Cores", pane=True)
                yield titled(RepairPane(jobs, id="repair"), "Repair", pane=True)
                yield titled(ReasoningPane(jobs, id="reasoning"), "Reasoning", pane=True)
                yield titled(SwarmPane(jobs, id="swarm"), "Swarm", pane=True)
                yield titled(RegistryPane(jobs, id="registry"), "Registry", pane=True)
                yield titled(EvolutionPane(jobs, id="evolution"), "Evolution", pane=True)
        yield Footer()

    def on_mount(self) -> None:
        self.show_file_title()
        self.screen_layout.show()
        self.flight.show()
        reasoning = self.query_one(ReasoningPane)
        self.jobs.routes = {
            LanderFrame: self.query_one(LanderView).receive,
            AgentToken: reasoning.receive,
            LogLine: reasoning.receive,
            EvolutionProgress: self.query_one(EvolutionPane).receive,
        }
        self.editor.focus()
        self.query_one(DiagnosticsPane).check_soon()
        if self.layout_warning:
            self.notify(self.layout_warning, severity="warning")
        if self.file.open_error:
            self.notify(self.file.open_error, severity="error", timeout=10)
        self.hangup.install()
        # Python's full garbage collection walks every object, Textual's many widgets,
        # styles and caches included, and paused the UI under load. What exists once
        # the first screen is up lives as long as the app: move it out of the way.
        self.call_after_refresh(gc.freeze)

    def on_resize(self) -> None:
        self.screen_layout.apply()

    @property
    def conditions(self) -> Environment:
        return self.flight.conditions

    @property
    def target(self) -> EvolutionTarget:
        return self.flight.target

    @property
    def editor(self) -> TensorLangEditor:
        return self.query_one(TensorLangEditor)

    @property
    def diagnostics(self):
        """What the Diagnostics pane shows (None: a problem with the engine instead)."""
        return self.query_one(DiagnosticsPane).diagnostics

    def show_file_title(self) -> None:
        self.editor.show_title(editor_title(self.file, self.editor.text, self.remote))

    # -- keys (keymap.py) ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not isinstance(self.screen, ModalScreen) or allowed_over_a_dialog(action)

    def action_save(self) -> None:
        try:
            self.notify(self.file.save(self.editor.text))
        except NothingToSaveTo as reason:
            self.notify(str(reason), severity="warning")
        self.show_file_title()

    async def action_quit(self) -> None:
        self.screen_layout.save()
        self.exit()

    def action_check(self) -> None:
        self.query_one(DiagnosticsPane).check(self.editor.text, self.file.name)

    def action_swarm(self) -> None:
        self.screen_layout.show_side_pane("swarm")
        self.query_one(SwarmPane).fly_swarm(self.editor.text, self.file.name, self.conditions)

    def action_fly(self) -> None:
        self.screen_layout.show_side_pane("lander")
        self.query_one(LanderView).fly(self.editor.text, self.file.name)

    def action_hot_swap(self) -> None:
        self.query_one(LanderView).hot_swap(self.editor.text, self.file.name)

    def action_evolve(self) -> None:
        evolution, text = self.query_one(EvolutionPane), self.editor.text
        if evolution.evolve(text, self.file.name, self.conditions, self.target, self.f9_search):
            self.screen_layout.show_side_pane("evolution")

    def action_synthesize(self) -> None:
        self.screen_layout.show_side_pane("reasoning")
        self.query_one(ReasoningPane).synthesize(self.synthesis_candidates, self.conditions)

    def action_cancel_agents(self) -> None:
        self.query_one(ReasoningPane).stop_agents()

    def action_repair(self) -> None:
        self.query_one(RepairPane).start(self.editor.text, self.file.name)
        self.action_focus_pane("repair")

    def action_conditions(self) -> None:
        self.flight.choose()

    def action_focus_pane(self, name: str) -> None:
        """Focus the editor, Diagnostics or a side pane (brought forward; Registry: listed)."""
        if name in SIDE_PANES:
            self.screen_layout.show_side_pane(name, focus=True)
        else:
            self.query_one(f"#{name}").focus()
        if name == "registry":
            self.query_one(RegistryPane).list_entries()

    def action_next_side_pane(self) -> None:
        self.screen_layout.next_side_pane()

    def action_next_theme(self) -> None:
        self.screen_layout.next_theme()

    def action_editor_width(self, step: int) -> None:
        self.screen_layout.widen_editor(step)

    def action_toggle_maximize(self) -> None:
        self.screen_layout.toggle_maximize()

    # -- routing ---------------------------------------------------------------------------------

    def between_keystrokes(self, update, once: bool = False) -> None:
        """Run a heavy screen update where it cannot delay a keystroke (keystrokes.py)."""
        self.keystrokes.run(update, once)

    @on(OpenProgram)
    def open_program(self, message: OpenProgram) -> None:
        self.editor.open_program(message.text, message.origin)

    @on(TensorLangEditor.Changed)
    def check_after_typing(self) -> None:
        self.keystrokes.typed()
        self.show_file_title()
        self.query_one(DiagnosticsPane).edited()

    @on(DiagnosticsPane.CheckDue)
    def check_the_buffer(self) -> None:
        # the pane's debounce timer can fire while the app closes, with the editor gone
        if self.query(TensorLangEditor):
            self.action_check()

    @on(DiagnosticsPane.Shown)
    def mark_diagnostics_in_the_editor(self, message: DiagnosticsPane.Shown) -> None:
        self.editor.mark_diagnostics(message.diagnostics)

    @on(DiagnosticsPane.Chosen)
    def go_to_diagnostic(self, message: DiagnosticsPane.Chosen) -> None:
        self.editor.go_to(message.diagnostic)

    @on(EngineTrouble)
    def show_engine_trouble(self, message: EngineTrouble) -> None:
        self.query_one(DiagnosticsPane).show_trouble(message.text, self.jobs.log)
        self.notify(message.text, title="Engine", severity="error")

    @on(RepairPane.Step)
    def step_repair(self, message: RepairPane.Step) -> None:
        self.query_one(RepairPane).step(message.action, self.editor.text)

    @on(RepairPane.Stepped)
    def take_accepted_repair(self, message: RepairPane.Stepped) -> None:
        state = message.state
        if message.action in ("accept", "auto") and state.text != self.editor.text:
            self.editor.open_program(state.text, "the accepted repair")
        if state.status == "repaired" and message.action != START:
            self.notify("repaired: the program verifies and compiles")

    @on(ReasoningPane.Synthesized)
    def list_synthesized_candidates(self, message: ReasoningPane.Synthesized) -> None:
        self.between_keystrokes(partial(self.query_one(SwarmPane).add_runs, message.runs))

    @on(EvolutionPane.NewBest)
    def fly_new_best(self, message: EvolutionPane.NewBest) -> None:
        self.query_one(LanderView).fly_or_swap(message.text, f"evolved-{message.name}.mlir")

    @on(EvolutionPane.Narrated)
    def narrate_evolution(self, message: EvolutionPane.Narrated) -> None:
        self.query_one(ReasoningPane).narrate("evolution", message.lines, message.ended)

    @on(RegistryUpdated)
    def list_the_registry(self) -> None:
        self.query_one(RegistryPane).list_entries()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every job reports here. The engine's failures are EngineTrouble already; a job
        that failed in this process (a bug) is said, not lost."""
        if event.state == WorkerState.ERROR:
            self.notify(
                f"{event.worker.name}: {event.worker.error!r}", title="Job failed", severity="error"
            )

    def on_unmount(self) -> None:
        self.jobs.close()


def run_app(
    path: str | None = None,
    fps: float | None = None,
    theme: str | None = None,
    layout: str | None = None,
    conditions: Environment | None = None,
    target: EvolutionTarget | None = None,
) -> int:
    app = NeuroJITApp(path, fps=fps, conditions=conditions, target=target)
    app.hard_exit_on_hangup = True
    if theme:
        app.screen_layout.choice.theme = theme
    if layout:
        app.screen_layout.choice.layout = layout
    app.run()
    if app.hangup.recovery_file is not None:
        import sys

        print(
            "neurojit: the terminal went away; the unsaved buffer is in "
            f"{app.hangup.recovery_file}",
            file=sys.stderr,
        )
    return app.return_code or 0
