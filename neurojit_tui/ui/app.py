"""The NeuroJIT workstation (Textual).

The UI process never loads MLIR, the JIT or llama.cpp: every compiler, simulation or
agent job goes to the engine process (``engine.EngineClient``) from a worker thread, and
comes back as a message. A crashed or hung engine is reported in the Diagnostics pane
and replaced; the editor's buffer lives here and is never touched by it.

Where things are: key bindings in ``keymap.py``, the command palette in ``commands.py``,
themes in ``themes/*.tcss`` (``themes.py``), the remembered layout in ``session.py``,
one module per pane. This module wires them: messages from workers and the engine are
handled with ``@on``, every blocking job is a ``@work(thread=True, exclusive=True,
exit_on_error=False, group=...)`` worker.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ..engine import EngineClient, EngineCrashed, EngineError, EngineTimeout
from ..engine.protocol import (AgentToken, CancelRequest, CheckRequest, EvolutionProgress,
                               EvolveRequest, FlyRequest, LanderFrame, LogLine,
                               RegistryListRequest, RepairStartRequest, RepairState,
                               RepairStepRequest, StopFlightRequest, SwapRequest, SwarmRequest,
                               SynthesizeReply, SynthesizeRequest)
from ..sim.report import SwarmReport
from ..paths import neurojit_home
from ..sim.model import MOON_GRAVITY
from . import session
from .commands import WorkstationCommands
from .cores import CoresPane
from .editor import TensorLangEditor
from .evolution import EvolutionPane
from .keymap import APP_BINDINGS
from .lander import LanderView
from .reasoning import ReasoningPane
from .repair import RepairPane
from .results import OpenProgram, RegistryPane, SwarmPane, SwarmRun
from .themes import DEFAULT_THEME, LAYOUT_CSS, PALETTES, discover

CHECK_DELAY_S = 0.3  # debounce: check once typing pauses
TYPING_PAUSE_S = 0.5  # no edit for this long: the user is not typing
HANGUP_EXIT_GRACE_S = 5.0  # after a dropped terminal, the longest a clean exit may take
# The engine computes on CPU time the UI does not want: SCHED_IDLE, so a keystroke takes
# a core the moment it arrives, even with inference and a swarm on every core. Measured
# with `neurojit bench ui` (200 keys, 2 cores, lander + both agents + swarm runs):
# p50 14.0-14.9 ms and p95 40-44 ms, against 19 ms and 42-52 ms at nice 10 alone. The
# price: on a machine busy with other work, the engine waits for it (it never competes).
ENGINE_NICENESS = 10
ENGINE_IDLE_PRIORITY = True
SCRATCH = """// Scratch buffer: a TensorLang controller. Diagnostics update as you type.
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %a = "tensorlang.constant"() {value = dense<[0.0, 0.0]> : tensor<2xf64>} : () -> tensor<2xf64>
  return %a, %mem : tensor<2xf64>, tensor<4xf64>
}
"""
THEMES = discover()


def over_ssh() -> bool:
    return bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))


# -- messages from workers and the engine's reader thread -----------------------------------

@dataclass
class DiagnosticsReady(Message):
    version: int
    diagnostics: tuple


@dataclass
class EngineTrouble(Message):
    text: str


@dataclass
class SwarmReady(Message):
    report: SwarmReport
    name: str
    text: str


@dataclass
class FrameReady(Message):
    """A new lander frame is waiting in ``app.latest_frame`` (frames are coalesced)."""


@dataclass
class TokenReady(Message):
    agent: str
    text: str


@dataclass
class SynthesisDone(Message):
    run: SynthesizeReply


@dataclass
class RegistryListed(Message):
    entries: tuple


@dataclass
class RepairUpdated(Message):
    state: RepairState
    action: str


@dataclass
class EvolutionNotice(Message):
    """Evolution events are waiting in ``app.evolution_events``. The search can report
    faster than the screen needs: queued notices collapse into one, which takes them all."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EvolutionNotice)


@dataclass
class EvolutionDone(Message):
    result: dict | None  # EvolutionResult.to_json(), or None when the engine failed


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

    def __init__(self, path: str | None = None, engine: EngineClient | None = None,
                 fps: float | None = None, layout: session.SessionLayout | None = None,
                 remember_layout: bool = True):
        super().__init__()
        self.path = Path(path) if path else None
        # the engine's native libraries log to a file, not over the screen; and it runs
        # at a lower CPU priority, so keystrokes are drawn at once while it computes
        self.engine_log = neurojit_home() / "engine.log"
        self.engine = engine or EngineClient(on_event=self._engine_event,
                                             stderr_path=str(self.engine_log),
                                             niceness=ENGINE_NICENESS,
                                             idle_priority=ENGINE_IDLE_PRIORITY)
        self.version = 0  # edits so far: stale check results are dropped
        self.diagnostics: tuple | None = None  # what the Diagnostics pane shows
        self.remote = over_ssh()
        # over SSH every frame is bytes on the wire: fly slower, sample the cores less often
        self.fps = fps or (10.0 if self.remote else 25.0)
        self.remember_layout = remember_layout
        if layout is None:
            layout, self.layout_warning = session.load() if remember_layout else (
                session.SessionLayout(), None)
        else:
            self.layout_warning = None
        self.layout_choice = layout.normalized()
        self.themes = THEMES
        self.jobs: Counter = Counter()  # engine jobs in flight, for the Cores pane's note
        self._jobs_lock = threading.Lock()
        self.latest_frame: LanderFrame | None = None
        self._frame_posted = threading.Event()
        self.repair_session: int | None = None
        self.synthesis_candidates = 2  # programs the models write per synthesis
        # the engine's evolve arguments (budget_s, generations, population, islands,
        # use_llm, ...) where they differ from its defaults
        self.evolution_options: dict = {}
        self.evolution_events: deque = deque()  # from the engine's reader thread
        self.evolving = False
        self._evolution_clock = None  # ticks the Evolution pane's elapsed time
        self.evolved_on_lander: str | None = None  # the id of the best last sent to fly
        self._evolved_swap_lock = threading.Lock()
        self.terminal_gone = False
        self.last_edit_at = 0.0  # time.monotonic() of the last edit in the editor
        self._held_updates: list = []  # see between_keystrokes
        self._held_timer = None
        self.hard_exit_on_hangup = False  # run_app sets it: never in tests that share a process
        for palette in PALETTES.values():
            self.register_theme(palette)
        self.open_error: str | None = None  # a file that could not be opened, said on mount
        text = SCRATCH
        if self.path and self.path.exists():
            try:
                text = self.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                # Keep running on the scratch buffer; with no path, Ctrl+S cannot write
                # over the file that could not be read.
                reason = (error.strerror if isinstance(error, OSError) else "not UTF-8 text")
                self.open_error = f"{self.path}: error: cannot open it: {reason}"
                self.path = None
        self.saved_text = text  # what is on disk: the buffer is modified when it differs

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield titled(TensorLangEditor(self.saved_text, id="editor"), "Editor")
                yield titled(OptionList(id="diagnostics"), "Diagnostics")
            # the side panes, in session.SIDE_PANES order (the wide grid fills row by row)
            with Vertical(id="right"):
                yield titled(LanderView(id="lander"), "Lander", pane=True)
                yield titled(CoresPane(interval=2.0 if self.remote else 1.0,
                                       processes=self._processes, id="cores"), "Cores", pane=True)
                yield titled(RepairPane(id="repair"), "Repair", pane=True)
                yield titled(ReasoningPane(id="reasoning"), "Reasoning", pane=True)
                yield titled(SwarmPane(id="swarm"), "Swarm", pane=True)
                yield titled(RegistryPane(id="registry"), "Registry", pane=True)
                yield titled(EvolutionPane(id="evolution"), "Evolution", pane=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.file_name + ("  (over SSH: 10 fps)" if self.remote else "")
        self.set_workstation_theme(self.layout_choice.theme, save=False)
        self.apply_layout()
        self.editor.focus()
        self.check_soon()
        if self.layout_warning:
            self.notify(self.layout_warning, severity="warning")
        if self.open_error:
            self.notify(self.open_error, severity="error", timeout=10)
        self._watch_for_dropped_terminal()
        # Python's full garbage collection walks every object: with Textual's (widgets,
        # styles, caches) that paused the UI for 27-91 ms every few seconds under load,
        # the worst keystroke delays measured. What exists once the first screen is up
        # lives as long as the app: move it out of the collector's way.
        self.call_after_refresh(gc.freeze)

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
        self.layout_choice.editor_width = min(high, max(low, self.layout_choice.editor_width + step))
        self.apply_layout()
        self.save_layout()

    def action_toggle_maximize(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        focused = self.focused
        pane = next((w for w in (focused, *(focused.ancestors if focused else ()))
                     if w is not None and (w.has_class("pane") or w.id in ("editor", "diagnostics"))),
                    None)
        if pane is not None:
            self.screen.maximize(pane, container=False)

    # -- the buffer --------------------------------------------------------------------------

    @property
    def editor(self) -> TensorLangEditor:
        return self.query_one(TensorLangEditor)

    @property
    def file_name(self) -> str:
        return str(self.path) if self.path else "scratch.mlir"

    @property
    def modified(self) -> bool:
        return self.editor.text != self.saved_text

    def action_save(self) -> None:
        if self.path is None:
            self.notify("scratch buffer: start with `neurojit FILE` to save", severity="warning")
            return
        text = self.editor.text
        self.path.write_text(text)
        self.saved_text = text
        self.notify(f"saved {self.path}")

    def open_program(self, text: str, origin: str) -> None:
        """Replace the buffer with ``text`` as one undoable edit (Ctrl+Z brings it back)."""
        editor = self.editor
        editor.replace(text, (0, 0), editor.document.end)
        self.notify(f"opened {origin} in the editor (Ctrl+Z undoes)")
        editor.focus()

    @on(OpenProgram)
    def open_from_pane(self, message: OpenProgram) -> None:
        self.open_program(message.text, message.origin)

    # -- quitting, and a terminal that goes away ------------------------------------------------

    async def action_quit(self) -> None:
        self.save_layout()
        self.exit()

    def on_unmount(self) -> None:
        if self.engine.alive:
            self.engine.submit(StopFlightRequest())  # lets the engine's flight job end
        self.engine.close()  # the engine flushes the registry's write-back queue first

    def _watch_for_dropped_terminal(self) -> None:
        """Over SSH, a dropped connection sends SIGHUP: keep the buffer and the layout,
        then quit cleanly (the engine flushes the registry)."""
        import asyncio

        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.terminal_dropped)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (tests) or no signals here

    def terminal_dropped(self) -> None:
        self.terminal_gone = True  # engine events are dropped: nothing is left to draw them on
        self.recovery_file = self.write_recovery() if self.modified else None
        self.save_layout()
        self.engine.close()  # the registry is flushed now, whatever the exit does next
        if self.hard_exit_on_hangup:
            # Textual's exit can hang on a hung-up terminal: a burst of output (tokens,
            # frames) fills its writer queue after the writer has stopped, and the final
            # write then waits forever (seen under inference). Everything is saved by
            # now, so a process still here after the grace period ends itself.
            watchdog = threading.Timer(HANGUP_EXIT_GRACE_S, os._exit, args=(129,))
            watchdog.daemon = True
            watchdog.start()
        self.exit(return_code=129)

    def write_recovery(self) -> Path:
        folder = neurojit_home() / "recovery"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{Path(self.file_name).stem}-{time.strftime('%Y%m%d-%H%M%S')}.mlir"
        path.write_text(self.editor.text)
        return path

    # -- the engine ---------------------------------------------------------------------------

    def _engine_call(self, request, timeout: float | None = None):
        """``engine.call`` for worker threads: a failure (crash, time-out, error) goes to
        the Diagnostics pane and returns None."""
        with self._jobs_lock:
            self.jobs[request.op] += 1
        try:
            return self.engine.call(request, timeout=timeout)
        except (EngineCrashed, EngineTimeout, EngineError) as error:
            self.post_message(EngineTrouble(str(error)))
            return None
        finally:
            with self._jobs_lock:
                self.jobs[request.op] -= 1

    def _processes(self) -> dict:
        """For the Cores pane: this process and the engine, with the engine's jobs."""
        with self._jobs_lock:
            jobs = sorted(op for op, n in self.jobs.items() if n > 0 and op != "check")
        labels = {"synthesize": "inference", "repair_step": "inference", "fly": "flight",
                  "evolve": "evolution"}
        return {"ui": (os.getpid(), ""),
                "engine": (self.engine.pid, ", ".join(labels.get(j, j) for j in jobs))}

    def _engine_event(self, request_id: int, event) -> None:
        """Called on the engine client's reader thread."""
        if self.terminal_gone:
            return
        if isinstance(event, LanderFrame):
            # keep only the newest frame: a slow terminal (SSH) skips frames, never queues them
            self.latest_frame = event
            if not self._frame_posted.is_set():
                self._frame_posted.set()
                self.post_message(FrameReady())
        elif isinstance(event, AgentToken):
            self.post_message(TokenReady(event.agent, event.text))
        elif isinstance(event, LogLine):
            self.post_message(TokenReady("pipeline", event.line + "\n"))
        elif isinstance(event, EvolutionProgress):
            self.evolution_events.append(event)
            self.post_message(EvolutionNotice())

    @on(EngineTrouble)
    def show_engine_trouble(self, message: EngineTrouble) -> None:
        self.diagnostics = None  # the pane shows this instead of the diagnostics
        pane = self.query_one("#diagnostics", OptionList)
        pane.clear_options()
        pane.add_option(Option(f"engine: {message.text} (its log: {self.engine_log})",
                               id="engine", disabled=True))
        self.notify(message.text, title="Engine", severity="error")

    # -- live verification ---------------------------------------------------------------------

    @on(TensorLangEditor.Changed)
    def text_changed(self) -> None:
        self.version += 1
        self.last_edit_at = time.monotonic()
        if self._held_updates:  # once this keystroke is on the screen
            self.call_after_refresh(self._run_held_updates)
        self.check_soon()

    # -- keystrokes first ------------------------------------------------------------------------

    def between_keystrokes(self, update) -> None:
        """Run a heavy screen update where it cannot delay a keystroke.

        A table that gains rows makes Textual lay the screen out again, and that repaints
        every pane (30-50 ms at 200x60, measured): a keystroke arriving meanwhile waits
        for it. So while the user types, such updates wait until the next keystroke is
        on the screen (the gap before the following one is the longest there is), or
        until typing pauses; otherwise they run at once."""
        if time.monotonic() - self.last_edit_at >= TYPING_PAUSE_S:
            update()
            return
        self._held_updates.append(update)
        if self._held_timer is None:
            self._held_timer = self.set_timer(TYPING_PAUSE_S, self._run_held_updates)

    def _run_held_updates(self) -> None:
        if self._held_timer is not None:
            self._held_timer.stop()
            self._held_timer = None
        updates, self._held_updates = self._held_updates, []
        if not self.query(TensorLangEditor):
            return  # the app is closing (an app timer can fire after the screen is gone)
        for update in updates:
            update()

    def check_soon(self) -> None:
        if getattr(self, "_check_timer", None) is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(CHECK_DELAY_S, self.action_check)

    def action_check(self) -> None:
        # The debounce timer belongs to the app, so it can fire while the app closes,
        # after the main screen and its editor are gone (CI saw this); nothing to check then.
        editor = next(iter(self.query(TensorLangEditor)), None)
        if editor is not None:
            self.check(editor.text, self.version)

    @work(thread=True, exclusive=True, exit_on_error=False, group="check")
    def check(self, text: str, version: int) -> None:
        reply = self._engine_call(CheckRequest(text, self.file_name), timeout=60)
        if reply is not None:
            self.post_message(DiagnosticsReady(version, reply.diagnostics))

    @on(DiagnosticsReady)
    def show_diagnostics(self, message: DiagnosticsReady) -> None:
        if message.version != self.version:
            return  # the buffer changed since; a newer check is coming
        if message.diagnostics == self.diagnostics:
            return  # what the pane shows already: rebuilding it costs a layout pass
        self.diagnostics = message.diagnostics
        pane = self.query_one("#diagnostics", OptionList)
        pane.clear_options()
        for i, d in enumerate(message.diagnostics):
            pane.add_option(Option(f"{d.line}:{d.col} {d.severity} {d.message}", id=str(i)))
        if not message.diagnostics:
            pane.add_option(Option("no problems: the controller verifies", id="ok", disabled=True))
        pane.border_subtitle = (f"{sum(d.severity == 'error' for d in message.diagnostics)} "
                                f"error(s)" if message.diagnostics else "ok")
        self.editor.mark_diagnostics(message.diagnostics)

    @on(OptionList.OptionSelected, "#diagnostics")
    def go_to_diagnostic(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is None or not event.option.id.isdigit():
            return
        d = self.diagnostics[int(event.option.id)]
        self.editor.cursor_location = (max(0, d.line - 1), max(0, d.col - 1))
        self.editor.focus()

    def action_focus_diagnostics(self) -> None:
        self.query_one("#diagnostics", OptionList).focus()

    def action_focus_editor(self) -> None:
        self.editor.focus()

    # -- swarm ----------------------------------------------------------------------------------

    def action_swarm(self) -> None:
        self.show_side_pane("swarm")
        self.query_one(SwarmPane).border_subtitle = "flying 100 landers..."
        self.swarm(self.editor.text, Path(self.file_name).name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="swarm")
    def swarm(self, text: str, name: str) -> None:
        reply = self._engine_call(SwarmRequest(text, self.file_name), timeout=300)
        if reply is not None:
            self.post_message(SwarmReady(reply.report, name, text))

    @on(SwarmReady)
    def show_swarm(self, message: SwarmReady) -> None:
        self.between_keystrokes(lambda: self.query_one(SwarmPane).add_run(
            SwarmRun(message.name, message.report, message.text)))

    # -- the live lander -------------------------------------------------------------------------

    @on(FrameReady)
    def show_frame(self) -> None:
        self._frame_posted.clear()
        frame = self.latest_frame
        for view in self.query(LanderView):  # none while the app is closing
            view.show(frame)

    def action_fly(self) -> None:
        self.show_side_pane("lander")
        self.start_flight(self.editor.text, self.file_name)

    def start_flight(self, text: str, path: str) -> None:
        self.query_one(LanderView).controllers.clear()
        self.fly(text, path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="fly")
    def fly(self, text: str, path: str) -> None:
        self._engine_call(FlyRequest(text, path, fps=self.fps))

    def action_hot_swap(self) -> None:
        self.hot_swap(self.editor.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="swap")
    def hot_swap(self, text: str) -> None:
        result = self._engine_call(SwapRequest(text, self.file_name), timeout=60)
        if result is not None:
            self.call_from_thread(self.notify, f"hot-swapped to {result.controller}")

    # -- agents: synthesis, the reasoning stream, the registry -----------------------------------

    @on(TokenReady)
    def show_token(self, message: TokenReady) -> None:
        self.query_one(ReasoningPane).token(message.agent, message.text)

    def action_synthesize(self) -> None:
        self.show_side_pane("reasoning")
        self.query_one(ReasoningPane).border_subtitle = "synthesizing (F4 stops)"
        self.synthesize()

    @work(thread=True, exclusive=True, exit_on_error=False, group="synthesize")
    def synthesize(self) -> None:
        run = self._engine_call(SynthesizeRequest(MOON_GRAVITY, 1.0,
                                                  candidates=self.synthesis_candidates))
        if run is not None:
            self.post_message(SynthesisDone(run))

    @on(SynthesisDone)
    def show_synthesis(self, message: SynthesisDone) -> None:
        self.between_keystrokes(lambda: self._show_synthesis(message.run))

    def _show_synthesis(self, run: SynthesizeReply) -> None:
        pane = self.query_one(SwarmPane)
        for candidate in run.candidates:
            path = Path(candidate.path)
            try:
                text = path.read_text(encoding="utf-8") if path.exists() else ""
            except (OSError, UnicodeDecodeError):
                text = ""  # the row still shows the candidate's scores
            pane.add_run(SwarmRun(path.name, candidate.report, text))
        reasoning = self.query_one(ReasoningPane)
        reasoning.flush_line()
        if run.best_source is None:
            reasoning.border_subtitle = "cancelled" if run.cancelled else "no candidate flew"
            self.notify(reasoning.border_subtitle, severity="warning")
            return
        source = "memory (" + run.cache.upper() + ")" if run.cache != "miss" else "the models"
        reasoning.border_subtitle = f"best from {source} in {run.seconds:.1f} s"
        self.open_program(run.best_source, f"the best controller from {source}")
        self.list_registry()

    # -- evolution: the search, the Evolution pane, the lander flying each new best ----------

    @property
    def evolution_pane(self) -> EvolutionPane:
        return self.query_one(EvolutionPane)

    def action_evolve(self) -> None:
        if self.evolving:
            self.notify("an evolution is running (F4 stops it)", severity="warning")
            return
        self.evolving = True
        self.show_side_pane("evolution")
        self.evolution_events.clear()
        self.evolved_on_lander = None
        self.evolution_pane.start(time.monotonic())
        self._evolution_clock = self.set_interval(1.0, self._tick_evolution)
        self.evolve(self.editor.text)

    def _tick_evolution(self) -> None:
        if self.evolving:
            self.evolution_pane.show_status(time.monotonic())

    @work(thread=True, exclusive=True, exit_on_error=False, group="evolve")
    def evolve(self, text: str) -> None:
        reply = self._engine_call(EvolveRequest(text=text, path=self.file_name,
                                                gravity=MOON_GRAVITY, turbulence=1.0,
                                                **self.evolution_options))
        self.post_message(EvolutionDone(reply.result if reply is not None else None))

    @on(EvolutionNotice)
    def show_evolution_progress(self) -> None:
        events = []
        while self.evolution_events:
            events.append(self.evolution_events.popleft())
        if not events:
            return  # a collapsed notice whose events an earlier one took
        pane = self.evolution_pane
        pane.record(events)
        reasoning = self.query_one(ReasoningPane)
        for event in events:
            if event.kind == "log":
                reasoning.note("evolution", event.data["message"])
        best = next((e.data for e in reversed(events) if e.kind == "best"), None)
        if best is not None or any(e.kind in ("generation", "failure") for e in events):
            pane.show_status(time.monotonic())  # a fixed size: in place, no layout pass
        if any(e.kind == "generation" for e in events):
            # plotext draws the whole plot anew: too slow to share a keystroke's frame
            self._between_keystrokes_once(pane.draw_plot)
        if best is not None:
            self.evolved_on_lander = best["id"]
            self.fly_evolved(best["text"], best["id"])
            self._between_keystrokes_once(pane.show_detail)

    def _between_keystrokes_once(self, update) -> None:
        """``between_keystrokes``, unless ``update`` is waiting there already."""
        if update not in self._held_updates:
            self.between_keystrokes(update)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evolution-lander")
    def fly_evolved(self, text: str, name: str) -> None:
        """A new best flies the live lander: hot-swapped into the flight, or in a new
        flight when none is up. One at a time, and a newer best makes an older one that
        is still waiting moot."""
        with self._evolved_swap_lock:
            if get_current_worker().is_cancelled:
                return
            path = f"evolved-{name}.mlir"
            result = self._engine_call(SwapRequest(text, path, only_if_flying=True), timeout=60)
            if result is not None and result.controller is None:
                self.call_from_thread(self.start_flight, text, path)

    @on(EvolutionDone)
    def show_evolution_done(self, message: EvolutionDone) -> None:
        self.evolving = False
        if self._evolution_clock is not None:
            self._evolution_clock.stop()
        self.show_evolution_progress()  # events not yet shown come first
        self.between_keystrokes(lambda: self._show_evolution_result(message.result))

    def _show_evolution_result(self, result: dict | None) -> None:
        self.evolution_pane.finish(result, time.monotonic())
        self.query_one(ReasoningPane).flush_line()
        best = (result or {}).get("best")
        if best is None:
            return
        if best["id"] != self.evolved_on_lander:  # the winner was not announced as a best
            self.evolved_on_lander = best["id"]
            self.fly_evolved(best["source"], best["id"])
        if (best.get("registry") or {}).get("stored"):
            self.list_registry()
        self.notify(f"evolved {best['id']}: a (or Enter) in the Evolution pane puts it in "
                    f"the editor")

    def action_focus_evolution(self) -> None:
        self.show_side_pane("evolution", focus=True)

    def action_accept_evolved(self) -> None:
        self.evolution_pane.action_accept()

    def action_cancel_agents(self) -> None:
        self.cancel_agents()

    @work(thread=True, exclusive=True, exit_on_error=False, group="cancel")
    def cancel_agents(self) -> None:
        result = self._engine_call(CancelRequest(), timeout=30)
        if result is not None:
            self.call_from_thread(self.notify, f"stopping {result.cancelled} agent job(s)")

    def action_focus_registry(self) -> None:
        self.show_side_pane("registry", focus=True)
        self.list_registry()

    @on(RegistryPane.Reload)
    def reload_registry(self) -> None:
        self.list_registry()

    @work(thread=True, exclusive=True, exit_on_error=False, group="registry")
    def list_registry(self) -> None:
        listing = self._engine_call(RegistryListRequest(), timeout=120)
        if listing is not None:
            self.post_message(RegistryListed(listing.entries))

    @on(RegistryListed)
    def show_registry(self, message: RegistryListed) -> None:
        self.between_keystrokes(lambda: self.query_one(RegistryPane).show(message.entries))

    # -- the repair stepper ------------------------------------------------------------------------

    def action_focus_repair(self) -> None:
        self.show_side_pane("repair")
        self.query_one("#attempts").focus()

    def action_repair(self) -> None:
        self.repair_session = None
        self.repair_step("start", self.editor.text)
        self.action_focus_repair()

    @on(RepairPane.Step)
    def repair_action(self, message: RepairPane.Step) -> None:
        if self.repair_session is None:
            self.notify("Ctrl+R starts a repair session first", severity="warning")
            return
        self.repair_step(message.action, self.editor.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="repair")
    def repair_step(self, action: str, text: str) -> None:
        if action == "start":
            state = self._engine_call(RepairStartRequest(text, self.file_name))
            self.repair_session = state.session if state else None
        else:
            state = self._engine_call(RepairStepRequest(self.repair_session, action, text))
        if state is not None:
            self.post_message(RepairUpdated(state, action))

    @on(RepairUpdated)
    def show_repair(self, message: RepairUpdated) -> None:
        self.query_one(RepairPane).show(message.state)
        if message.action in ("accept", "auto") and message.state.text != self.editor.text:
            self.open_program(message.state.text, "the accepted repair")
        if message.state.status == "repaired" and message.action != "start":
            self.notify("repaired: the program verifies and compiles")


def run_app(path: str | None = None, fps: float | None = None, theme: str | None = None,
            layout: str | None = None) -> int:
    app = NeuroJITApp(path, fps=fps)
    app.hard_exit_on_hangup = True
    if theme:
        app.layout_choice.theme = theme
    if layout:
        app.layout_choice.layout = layout
    app.run()
    recovery = getattr(app, "recovery_file", None)
    if recovery is not None:
        import sys

        print(f"neurojit: the terminal went away; the unsaved buffer is in {recovery}",
              file=sys.stderr)
    return app.return_code or 0
