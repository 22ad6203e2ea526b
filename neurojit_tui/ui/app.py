"""The NeuroJIT workstation (Textual): composition, keys and routing.

The UI process never loads MLIR, the JIT or llama.cpp: every compiler, simulation or
agent job goes to the engine process (``engine.EngineClient``) from a worker thread
(``engine_jobs.py``) and comes back as a typed message. A crashed or hung engine is
reported in the Diagnostics pane and replaced; the editor's buffer lives here and is
never touched by it.

Where things are: key bindings in ``keymap.py``, the command palette in ``commands.py``,
themes in ``themes/*.tcss`` (``themes.py``), the remembered layout in ``session.py``;
each pane's behaviour beside its widget (``diagnostics.py``: live checking,
``lander.py``: flights and hot-swaps, ``results.py``: swarms and the registry,
``reasoning.py``: synthesis and the token stream, ``repair.py``: repair stepping,
``evolution.py``: evolution); the flight conditions and their dialog in
``conditions.py``; the edited file in ``buffer.py``, a dropped terminal in
``hangup.py``, heavy updates between keystrokes in ``keystrokes.py``. This module
composes them, turns keys into pane calls, and routes messages from pane to pane.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from ..engine import EngineClient
from ..engine.protocol import AgentToken, EvolutionProgress, LanderFrame, LogLine, StopFlightRequest
from ..evolve.results import EvolveOptions
from ..paths import neurojit_home
from ..sim.model import Environment
from . import session
from .buffer import EditedFile, NothingToSaveTo
from .commands import WorkstationCommands
from .conditions import (
    ChosenConditions,
    ConditionsDialog,
    EvolutionTarget,
    describe,
    describe_target,
)
from .cores import CoresPane
from .diagnostics import DiagnosticsPane
from .editor import TensorLangEditor
from .engine_jobs import EngineJobs, EngineTrouble
from .evolution import EvolutionPane
from .hangup import HangupGuard
from .keymap import APP_BINDINGS, WORKSTATION_ACTIONS
from .keystrokes import KeystrokeGaps
from .lander import LanderView
from .reasoning import ReasoningPane, synthesis_source
from .repair import START, RepairPane
from .results import OpenProgram, RegistryPane, RegistryUpdated, SwarmPane
from .themes import DEFAULT_THEME, LAYOUT_CSS, PALETTES, discover

# The engine computes on CPU time the UI does not want: SCHED_IDLE, so a keystroke takes
# a core the moment it arrives, even with inference and a swarm on every core; on a
# machine busy with other work, the engine waits for it (it never competes).
ENGINE_NICENESS = 10
ENGINE_IDLE_PRIORITY = True
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
        layout: session.SessionLayout | None = None,
        remember_layout: bool = True,
        conditions: Environment | None = None,
        target: EvolutionTarget | None = None,
    ):
        super().__init__()
        self.file = EditedFile.open(path)
        # what every swarm, flight, synthesis and evolution flies in (Ctrl+O changes it)
        self.conditions = conditions or Environment()
        # what an evolution is judged in besides them: a Gymnasium environment (Ctrl+O too)
        self.target = target or EvolutionTarget()
        # the engine's native libraries log to a file, not over the screen; and it runs
        # at a lower CPU priority, so keystrokes are drawn at once while it computes
        self.engine_log = neurojit_home() / "engine.log"
        self.engine = engine or EngineClient(
            on_event=self.route_engine_event,
            stderr_path=str(self.engine_log),
            niceness=ENGINE_NICENESS,
            idle_priority=ENGINE_IDLE_PRIORITY,
        )
        self.jobs = EngineJobs(self, self.engine)
        self.remote = over_ssh()
        # over SSH every frame is bytes on the wire: fly slower, sample the cores less often
        self.fps = fps or (10.0 if self.remote else 25.0)
        self.remember_layout = remember_layout
        if layout is None:
            layout, self.layout_warning = (
                session.load() if remember_layout else (session.SessionLayout(), None)
            )
        else:
            self.layout_warning = None
        self.layout_choice = layout.normalized()
        self.themes = THEMES
        self.synthesis_candidates = 2  # programs the models write per synthesis
        # F9's search (its conditions are ``conditions``, its Gymnasium environment and
        # objective ``target``): a minute, shorter than the command line's default, for a
        # search the user watches
        self.evolution_options = EvolveOptions(budget_s=60.0)
        self.evolution_with_default_seeds = True  # the samples and stored controllers too
        self.keystrokes = KeystrokeGaps(self)
        self.hangup = HangupGuard(self)
        self.terminal_gone = False
        self.hard_exit_on_hangup = False  # run_app sets it: never in tests that share a process
        self._event_routes: dict[type, object] = {}  # engine event type -> the pane's receive
        for palette in PALETTES.values():
            self.register_theme(palette)

    # -- composition -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        jobs = self.jobs
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield titled(TensorLangEditor(self.file.saved_text, id="editor"), "Editor")
                yield titled(DiagnosticsPane(jobs, id="diagnostics"), "Diagnostics")
            # the side panes, in session.SIDE_PANES order (the wide grid fills row by row)
            with Vertical(id="right"):
                yield titled(
                    LanderView(jobs, self.fps, self.conditions, id="lander"), "Lander", pane=True
                )
                yield titled(
                    CoresPane(
                        interval=2.0 if self.remote else 1.0, processes=jobs.processes, id="cores"
                    ),
                    "Cores",
                    pane=True,
                )
                yield titled(RepairPane(jobs, id="repair"), "Repair", pane=True)
                yield titled(ReasoningPane(jobs, id="reasoning"), "Reasoning", pane=True)
                yield titled(SwarmPane(jobs, id="swarm"), "Swarm", pane=True)
                yield titled(RegistryPane(jobs, id="registry"), "Registry", pane=True)
                yield titled(EvolutionPane(jobs, id="evolution"), "Evolution", pane=True)
        yield Footer()

    def on_mount(self) -> None:
        self.show_file_title()
        self.set_workstation_theme(self.layout_choice.theme, save=False)
        self.apply_layout()
        self.show_conditions()
        reasoning = self.query_one(ReasoningPane)
        self._event_routes = {
            LanderFrame: self.query_one(LanderView).receive,
            AgentToken: reasoning.receive,
            LogLine: reasoning.receive,
            EvolutionProgress: self.evolution_pane.receive,
        }
        self.editor.focus()
        self.diagnostics_pane.check_soon()
        if self.layout_warning:
            self.notify(self.layout_warning, severity="warning")
        if self.file.open_error:
            self.notify(self.file.open_error, severity="error", timeout=10)
        self.hangup.install()
        # Python's full garbage collection walks every object, Textual's many widgets,
        # styles and caches included, and paused the UI under load. What exists once
        # the first screen is up lives as long as the app: move it out of the way.
        self.call_after_refresh(gc.freeze)

    # -- flight conditions ---------------------------------------------------------------------

    def show_conditions(self, warn: bool = True) -> None:
        """On the editor's border (always on screen), with the Gymnasium environment
        evolutions are judged in when there is one, and a warning if no controller can
        land in them (they still fly: the scores say so too)."""
        shown = [describe(self.conditions)]
        if target := describe_target(self.target):
            shown.append(target)
        self.editor.border_subtitle = " · ".join(shown)
        if warn and (reason := self.conditions.impossible()) is not None:
            self.notify(reason, title="No controller can land", severity="warning", timeout=10)

    def set_conditions(self, conditions: Environment) -> None:
        """Fly in ``conditions`` from now on: the next swarm, synthesis and evolution,
        and the flight in the air at once (it starts again in them)."""
        if conditions == self.conditions:
            return
        self.conditions = conditions
        said = [f"conditions: {describe(conditions)}"]
        if self.query_one(LanderView).fly_in(conditions):
            said.append("the lander flies again in them")
        if self.evolution_pane.running:
            said.append("the evolution running keeps its own")
        self.notify("; ".join(said))
        self.show_conditions()

    def set_target(self, target: EvolutionTarget) -> None:
        """Judge the next evolution (F9) in ``target``; one running keeps its own."""
        if target == self.target:
            return
        self.target = target
        said = f"evolutions are judged in: {describe_target(target) or 'the native lander alone'}"
        if self.evolution_pane.running:
            said += "; the evolution running keeps its own"
        self.notify(said)
        self.show_conditions(warn=False)

    def action_conditions(self) -> None:
        self.push_screen(ConditionsDialog(self.conditions, self.target), self._take_conditions)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a dialog is open (the conditions, the command palette) it has the keys:
        the workstation's own (F6 flying a swarm...) wait until it closes, except Quit.
        Textual's own actions (Tab between the dialog's fields) go on working."""
        if isinstance(self.screen, ModalScreen) and action in WORKSTATION_ACTIONS:
            return action == "quit"
        return True

    def _take_conditions(self, chosen: ChosenConditions | None) -> None:
        if chosen is not None:  # None: cancelled
            self.set_conditions(chosen.conditions)
            self.set_target(chosen.target)

    @property
    def editor(self) -> TensorLangEditor:
        return self.query_one(TensorLangEditor)

    @property
    def diagnostics_pane(self) -> DiagnosticsPane:
        return self.query_one(DiagnosticsPane)

    @property
    def evolution_pane(self) -> EvolutionPane:
        return self.query_one(EvolutionPane)

    @property
    def diagnostics(self):
        """What the Diagnostics pane shows (None: a problem with the engine instead)."""
        return self.diagnostics_pane.diagnostics

    @property
    def file_name(self) -> str:
        return self.file.name

    @property
    def modified(self) -> bool:
        return self.file.is_modified(self.editor.text)

    def show_file_title(self) -> None:
        """The editor's border names the file, marks unsaved changes (●) and says when
        the lander draws fewer frames because the terminal is remote."""
        title = f"Editor · {Path(self.file_name).name}" + (" ●" if self.modified else "")
        if self.remote:
            title += "  (over SSH: 10 fps)"
        if self.editor.border_title != title:
            self.editor.border_title = title

    # -- layout and themes ---------------------------------------------------------------------

    def on_resize(self) -> None:
        self.apply_layout()

    def apply_layout(self) -> None:
        """Set -wide / -medium / -compact from the terminal size (or the user's choice),
        the editor column's width, and which side pane the compact layout shows."""
        chosen = session.layout_for((self.size.width, self.size.height), self.layout_choice.layout)
        for name in ("wide", "medium", "compact"):
            self.set_class(name == chosen, f"-{name}")
        for pane in self.query(".pane"):
            pane.set_class(pane.id == self.layout_choice.side_pane, "-current")
        width = self.layout_choice.editor_width
        if chosen != "compact":
            self.query_one("#left").styles.width = f"{width}fr"
            self.query_one("#right").styles.width = f"{10 - width}fr"
        else:  # the editor and the one side pane shown
            self.query_one("#left").styles.width = "3fr"
            self.query_one("#right").styles.width = "2fr"

    @property
    def layout_name(self) -> str:
        return next((n for n in ("wide", "medium", "compact") if self.has_class(f"-{n}")), "")

    def save_layout(self) -> None:
        if self.remember_layout:
            try:
                session.save(self.layout_choice)
            except OSError as error:
                self.notify(f"cannot save the layout: {error}", severity="warning")

    def set_workstation_theme(self, name: str, save: bool = True) -> None:
        theme = self.themes.get(name) or self.themes[DEFAULT_THEME]
        for other in self.themes.values():
            self.set_class(other is theme, other.css_class)
        self.theme = theme.palette
        self.editor.use_syntax_theme(theme.editor)
        self.layout_choice.theme = theme.name
        if save:
            self.save_layout()

    def set_layout(self, layout: str) -> None:
        self.layout_choice.layout = layout
        self.apply_layout()
        self.save_layout()

    def show_side_pane(self, name: str, focus: bool = False) -> None:
        """Bring a side pane forward (the compact layout shows one at a time)."""
        self.layout_choice.side_pane = name
        self.apply_layout()
        if focus:
            pane = self.query_one(f"#{name}")
            target = next((w for w in pane.query("*") if w.can_focus), pane)
            target.focus()

    def action_next_side_pane(self) -> None:
        panes = session.SIDE_PANES
        following = panes[(panes.index(self.layout_choice.side_pane) + 1) % len(panes)]
        self.show_side_pane(following, focus=self.layout_name == "compact")
        self.save_layout()

    def action_next_theme(self) -> None:
        names = list(self.themes)
        current = names.index(self.layout_choice.theme) if self.layout_choice.theme in names else 0
        self.set_workstation_theme(names[(current + 1) % len(names)])
        self.notify(f"theme: {self.layout_choice.theme}")

    def action_editor_width(self, step: int) -> None:
        low, high = session.EDITOR_WIDTH_RANGE
        self.layout_choice.editor_width = min(
            high, max(low, self.layout_choice.editor_width + step)
        )
        self.apply_layout()
        self.save_layout()

    def action_toggle_maximize(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        focused = self.focused
        pane = next(
            (
                w
                for w in (focused, *(focused.ancestors if focused else ()))
                if w is not None and (w.has_class("pane") or w.id in ("editor", "diagnostics"))
            ),
            None,
        )
        if pane is not None:
            self.screen.maximize(pane, container=False)

    # -- keys ------------------------------------------------------------------------------------

    def action_save(self) -> None:
        try:
            self.notify(self.file.save(self.editor.text))
        except NothingToSaveTo as reason:
            self.notify(str(reason), severity="warning")
        self.show_file_title()

    async def action_quit(self) -> None:
        self.save_layout()
        self.exit()

    def action_check(self) -> None:
        self.diagnostics_pane.check(self.editor.text, self.file_name)

    def action_swarm(self) -> None:
        self.show_side_pane("swarm")
        self.query_one(SwarmPane).fly_swarm(self.editor.text, self.file_name, self.conditions)

    def action_fly(self) -> None:
        self.show_side_pane("lander")
        self.query_one(LanderView).fly(self.editor.text, self.file_name)

    def action_hot_swap(self) -> None:
        self.query_one(LanderView).hot_swap(self.editor.text, self.file_name)

    def action_evolve(self) -> None:
        if self.evolution_pane.running:
            self.notify("an evolution is running (F4 stops it)", severity="warning")
            return
        self.show_side_pane("evolution")
        self.evolution_pane.evolve(
            self.editor.text,
            self.file_name,
            self.conditions,
            self.evolution_options,
            self.target,
            self.evolution_with_default_seeds,
        )

    def action_synthesize(self) -> None:
        self.show_side_pane("reasoning")
        self.query_one(ReasoningPane).synthesize(self.synthesis_candidates, self.conditions)

    def action_cancel_agents(self) -> None:
        self.query_one(ReasoningPane).stop_agents()

    def action_repair(self) -> None:
        self.query_one(RepairPane).start(self.editor.text, self.file_name)
        self.action_focus_repair()

    def action_accept_evolved(self) -> None:
        self.evolution_pane.action_accept()

    def action_focus_editor(self) -> None:
        self.editor.focus()

    def action_focus_diagnostics(self) -> None:
        self.diagnostics_pane.focus()

    def action_focus_repair(self) -> None:
        self.show_side_pane("repair")
        self.query_one("#attempts").focus()

    def action_focus_evolution(self) -> None:
        self.show_side_pane("evolution", focus=True)

    def action_focus_registry(self) -> None:
        self.show_side_pane("registry", focus=True)
        self.query_one(RegistryPane).list_entries()

    # -- routing ---------------------------------------------------------------------------------

    def route_engine_event(self, request_id: int, event) -> None:
        """On the engine client's reader thread: each event to the pane that shows it
        (their ``receive`` posts a message, which is safe from any thread)."""
        if self.terminal_gone:
            return  # nothing is left to draw them on
        receive = self._event_routes.get(type(event))
        if receive is not None:
            receive(event)

    def between_keystrokes(self, update, once: bool = False) -> None:
        """Run a heavy screen update where it cannot delay a keystroke (keystrokes.py)."""
        self.keystrokes.run(update, once)

    def open_program(self, text: str, origin: str) -> None:
        """Replace the buffer with ``text`` as one undoable edit (Ctrl+Z brings it back)."""
        editor = self.editor
        editor.replace(text, (0, 0), editor.document.end)
        self.notify(f"opened {origin} in the editor (Ctrl+Z undoes)")
        editor.focus()

    @on(OpenProgram)
    def open_program_from_pane(self, message: OpenProgram) -> None:
        self.open_program(message.text, message.origin)

    @on(TensorLangEditor.Changed)
    def check_after_typing(self) -> None:
        self.keystrokes.typed()
        self.show_file_title()
        self.diagnostics_pane.edited()

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
        d = message.diagnostic
        self.editor.cursor_location = (max(0, d.line - 1), max(0, d.col - 1))
        self.editor.focus()

    @on(EngineTrouble)
    def show_engine_trouble(self, message: EngineTrouble) -> None:
        self.diagnostics_pane.show_trouble(message.text, self.engine_log)
        self.notify(message.text, title="Engine", severity="error")

    @on(RepairPane.Step)
    def step_repair(self, message: RepairPane.Step) -> None:
        self.query_one(RepairPane).step(message.action, self.editor.text)

    @on(RepairPane.Stepped)
    def take_accepted_repair(self, message: RepairPane.Stepped) -> None:
        state = message.state
        if message.action in ("accept", "auto") and state.text != self.editor.text:
            self.open_program(state.text, "the accepted repair")
        if state.status == "repaired" and message.action != START:
            self.notify("repaired: the program verifies and compiles")

    @on(ReasoningPane.Synthesized)
    def take_synthesized_candidates(self, message: ReasoningPane.Synthesized) -> None:
        self.between_keystrokes(lambda: self._take_synthesized(message))

    def _take_synthesized(self, message: ReasoningPane.Synthesized) -> None:
        swarm = self.query_one(SwarmPane)
        for run in message.runs:
            swarm.add_run(run)
        reply = message.reply
        if reply.best_source is not None:
            self.open_program(
                reply.best_source, f"the best controller from {synthesis_source(reply)}"
            )
            self.query_one(RegistryPane).list_entries()

    @on(EvolutionPane.NewBest)
    def fly_new_best(self, message: EvolutionPane.NewBest) -> None:
        self.query_one(LanderView).fly_or_swap(message.text, f"evolved-{message.name}.mlir")

    @on(EvolutionPane.Narrated)
    def narrate_evolution(self, message: EvolutionPane.Narrated) -> None:
        reasoning = self.query_one(ReasoningPane)
        for line in message.lines:
            reasoning.note("evolution", line)
        if message.ended:
            reasoning.flush_line()

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

    # -- leaving ---------------------------------------------------------------------------------

    def on_unmount(self) -> None:
        if self.engine.alive:
            self.engine.submit(StopFlightRequest())  # lets the engine's flight job end
        self.engine.close()  # the engine flushes the registry's write-back queue first

    @property
    def recovery_file(self) -> Path | None:
        return self.hangup.recovery_file


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
        app.layout_choice.theme = theme
    if layout:
        app.layout_choice.layout = layout
    app.run()
    if app.recovery_file is not None:
        import sys

        print(
            f"neurojit: the terminal went away; the unsaved buffer is in {app.recovery_file}",
            file=sys.stderr,
        )
    return app.return_code or 0
