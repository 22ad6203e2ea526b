"""The NeuroJIT workstation (Textual). Work in progress: see issue 6.

The UI process never loads MLIR, the JIT or llama.cpp: every compiler or simulation job
goes to the engine process (``engine.EngineClient``) from a worker thread, and comes back
as a message. A crashed engine is reported in the Diagnostics pane and replaced; the
editor's buffer lives here and is never touched by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ..engine import EngineClient, EngineCrashed, EngineError, EngineTimeout
from ..paths import PROJECT_ROOT
from .cores import CoresPane
from .editor import TensorLangEditor
from .lander import LanderView
from .reasoning import ReasoningPane
from .repair import RepairPane

CHECK_DELAY_S = 0.3  # debounce: check once typing pauses
SCRATCH = """// Scratch buffer: a TensorLang controller. Diagnostics update as you type.
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %a = "tensorlang.constant"() {value = dense<[0.0, 0.0]> : tensor<2xf64>} : () -> tensor<2xf64>
  return %a, %mem : tensor<2xf64>, tensor<4xf64>
}
"""


@dataclass
class DiagnosticsReady(Message):
    version: int
    diagnostics: list  # Diagnostic.to_json() dicts


@dataclass
class EngineTrouble(Message):
    text: str


@dataclass
class SwarmReady(Message):
    report: dict


@dataclass
class FrameReady(Message):
    frame: dict


@dataclass
class TokenReady(Message):
    agent: str
    text: str


@dataclass
class RepairUpdated(Message):
    state: dict
    action: str


def titled(widget, title: str):
    """Panes carry their names as border titles (users and scripts find them by it)."""
    widget.border_title = title
    return widget


class NeuroJITApp(App):
    TITLE = "NeuroJIT Workstation"
    CSS_PATH = str(PROJECT_ROOT / "themes" / "dark.tcss")
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        Binding("ctrl+s", "save", "Save", id="save"),
        # priority: the editor's TextArea binds F5-F7 (select word/line/all) itself, and
        # the workstation's actions must work wherever the focus is.
        Binding("f5", "check", "Check", id="check", priority=True),
        Binding("f6", "swarm", "Swarm", id="swarm", priority=True),
        Binding("f7", "fly", "Fly", id="fly", priority=True),
        Binding("f8", "hot_swap", "Hot-swap", id="hot-swap", priority=True),
        Binding("ctrl+r", "repair", "Repair", id="repair", priority=True),
        Binding("f2", "focus_diagnostics", "Diagnostics", id="focus-diagnostics"),
        Binding("f3", "focus_repair", "Repair pane", id="focus-repair"),
        Binding("f1", "focus_editor", "Editor", id="focus-editor"),
    ]

    def __init__(self, path: str | None = None, engine: EngineClient | None = None):
        super().__init__()
        self.path = Path(path) if path else None
        self.engine = engine or EngineClient(on_event=self._engine_event)
        self.version = 0  # edits so far: stale check results are dropped
        self.diagnostics: list[dict] = []

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        text = self.path.read_text() if self.path and self.path.exists() else SCRATCH
        with Horizontal():
            with Vertical(id="left"):
                yield titled(TensorLangEditor(text, id="editor"), "Editor")
                yield titled(OptionList(id="diagnostics"), "Diagnostics")
                yield titled(RepairPane(id="repair"), "Repair")
            with Vertical(id="right"):
                yield titled(CoresPane(id="cores"), "Cores")
                yield titled(LanderView(id="lander"), "Lander")
                yield titled(ReasoningPane(id="reasoning"), "Reasoning")
                yield titled(Static("F6 flies 100 landers with the editor's controller.",
                                    id="swarm"), "Swarm")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.path) if self.path else "scratch"
        self.query_one(TensorLangEditor).focus()
        self.check_soon()

    def on_unmount(self) -> None:
        if self.engine.alive:
            self.engine.submit("stop_flight")  # lets the engine's flight job end
        self.engine.close()

    @property
    def editor(self) -> TensorLangEditor:
        return self.query_one(TensorLangEditor)

    @property
    def file_name(self) -> str:
        return str(self.path) if self.path else "scratch.mlir"

    def _engine_call(self, op: str, timeout: float | None = None, **args):
        """``engine.call`` for worker threads: a failure (crash, time-out, error) goes to
        the Diagnostics pane and returns None."""
        try:
            return self.engine.call(op, timeout=timeout, **args)
        except (EngineCrashed, EngineTimeout, EngineError) as error:
            self.post_message(EngineTrouble(str(error)))
            return None

    # -- live verification ---------------------------------------------------------------

    @on(TensorLangEditor.Changed)
    def text_changed(self) -> None:
        self.version += 1
        self.check_soon()

    def check_soon(self) -> None:
        if getattr(self, "_check_timer", None) is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(CHECK_DELAY_S, self.action_check)

    def action_check(self) -> None:
        self.check(self.editor.text, self.version)

    @work(thread=True, exclusive=True, exit_on_error=False, group="check")
    def check(self, text: str, version: int) -> None:
        diagnostics = self._engine_call("check", timeout=60, text=text, path=self.file_name)
        if diagnostics is not None:
            self.post_message(DiagnosticsReady(version, diagnostics))

    @on(DiagnosticsReady)
    def show_diagnostics(self, message: DiagnosticsReady) -> None:
        if message.version != self.version:
            return  # the buffer changed since; a newer check is coming
        self.diagnostics = message.diagnostics
        pane = self.query_one("#diagnostics", OptionList)
        pane.clear_options()
        for i, d in enumerate(message.diagnostics):
            pane.add_option(Option(f"{d['line']}:{d['col']} {d['severity']} {d['message']}", id=str(i)))
        if not message.diagnostics:
            pane.add_option(Option("no problems: the controller verifies", id="ok", disabled=True))
        self.editor.mark_errors({d["line"] - 1 for d in message.diagnostics
                                 if d["severity"] == "error" and d["line"] > 0})

    @on(EngineTrouble)
    def show_engine_trouble(self, message: EngineTrouble) -> None:
        pane = self.query_one("#diagnostics", OptionList)
        pane.clear_options()
        pane.add_option(Option(f"engine: {message.text}", id="engine", disabled=True))
        self.notify(message.text, title="Engine", severity="error")

    @on(OptionList.OptionSelected, "#diagnostics")
    def go_to_diagnostic(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is None or not event.option.id.isdigit():
            return
        d = self.diagnostics[int(event.option.id)]
        self.editor.cursor_location = (max(0, d["line"] - 1), max(0, d["col"] - 1))
        self.editor.focus()

    # -- actions -------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.path is None:
            self.notify("scratch buffer: start with `neurojit FILE` to save", severity="warning")
            return
        self.path.write_text(self.editor.text)
        self.notify(f"saved {self.path}")

    def action_focus_diagnostics(self) -> None:
        self.query_one("#diagnostics", OptionList).focus()

    def action_focus_editor(self) -> None:
        self.editor.focus()

    def action_swarm(self) -> None:
        self.query_one("#swarm", Static).update("flying 100 landers...")
        self.swarm(self.editor.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="swarm")
    def swarm(self, text: str) -> None:
        report = self._engine_call("swarm", timeout=300, text=text, path=self.file_name)
        if report is not None:
            self.post_message(SwarmReady(report))

    @on(SwarmReady)
    def show_swarm(self, message: SwarmReady) -> None:
        r = message.report
        if r["failure"]:
            text = f"failed: {r['failure']}"
        else:
            text = (f"landed {r['landed']}/{r['agents']}  crashed {r['crashed']}  "
                    f"out {r['out_of_bounds']}  flying {r['timed_out']}\n"
                    f"success {r['success_rate']:.0%}  mean {r['mean_score']:.1f}  "
                    f"CVaR-10 {r['cvar10_score']:.1f}\n"
                    f"{r['agent_steps_per_s'] / 1e6:.1f} M agent-steps/s")
        self.query_one("#swarm", Static).update(text)


    # -- the live lander -------------------------------------------------------------------

    def _engine_event(self, request_id: int, kind: str, data) -> None:
        """Called on the engine client's reader thread."""
        if kind == "frame":
            self.post_message(FrameReady(data))
        elif kind == "token":
            self.post_message(TokenReady(data["agent"], data["text"]))

    @on(TokenReady)
    def show_token(self, message: TokenReady) -> None:
        self.query_one(ReasoningPane).token(message.agent, message.text)

    @on(FrameReady)
    def show_frame(self, message: FrameReady) -> None:
        for view in self.query(LanderView):  # none while the app is closing
            view.show(message.frame)

    def action_fly(self) -> None:
        self.query_one(LanderView).controllers.clear()
        self.fly(self.editor.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="fly")
    def fly(self, text: str) -> None:
        self._engine_call("fly", text=text, path=self.file_name)

    def action_hot_swap(self) -> None:
        self.hot_swap(self.editor.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="swap")
    def hot_swap(self, text: str) -> None:
        result = self._engine_call("swap", timeout=60, text=text, path=self.file_name)
        if result is not None:
            self.call_from_thread(self.notify, f"hot-swapped to {result['controller']}")


    # -- the repair stepper -----------------------------------------------------------------

    def action_focus_repair(self) -> None:
        self.query_one("#attempts").focus()

    def action_repair(self) -> None:
        self.repair_session = None
        self.repair_step("start", self.editor.text)
        self.action_focus_repair()

    @on(RepairPane.Step)
    def repair_action(self, message: RepairPane.Step) -> None:
        if getattr(self, "repair_session", None) is None:
            self.notify("Ctrl+R starts a repair session first", severity="warning")
            return
        self.repair_step(message.action, self.editor.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="repair")
    def repair_step(self, action: str, text: str) -> None:
        if action == "start":
            state = self._engine_call("repair_start", text=text, path=self.file_name)
            self.repair_session = state["session"] if state else None
        else:
            state = self._engine_call("repair_step", session=self.repair_session,
                                      action=action, text=text)
        if state is not None:
            self.post_message(RepairUpdated(state, action))

    @on(RepairUpdated)
    def show_repair(self, message: RepairUpdated) -> None:
        self.query_one(RepairPane).show(message.state)
        if message.action in ("accept", "auto") and message.state["text"] != self.editor.text:
            self.editor.text = message.state["text"]  # the accepted program is the buffer
        if message.state["status"] == "repaired" and message.action != "start":
            self.notify("repaired: the program verifies and compiles")


def run_app(path: str | None = None) -> int:
    NeuroJITApp(path).run()
    return 0
