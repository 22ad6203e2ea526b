"""The workstation, driven by Textual's pilot against a real engine process."""

import dataclasses
import os
import signal

import pytest
from textual.widgets import OptionList

from neurojit_tui.compiler.diagnostics import Diagnostic
from neurojit_tui.engine.protocol import LanderFrame
from neurojit_tui.ui.app import NeuroJITApp
from neurojit_tui.ui.cores import CoreMeters, CoresPane
from neurojit_tui.ui.editor import TensorLangEditor

from .conftest import SAMPLES

pytestmark = pytest.mark.usefixtures("private_home")  # a temporary ~/.neurojit


async def _wait_for(pilot, condition, timeout=60.0):
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting for the app")


def _sample_copy(tmp_path, name: str = "pd", text: str | None = None):
    """A writable copy of a sample (the app may save over the file it edits)."""
    path = tmp_path / f"{name}.mlir"
    path.write_text((SAMPLES / f"{name}.mlir").read_text() if text is None else text)
    return path


def _options(app):
    pane = app.query_one("#diagnostics", OptionList)
    return [str(pane.get_option_at_index(i).prompt) for i in range(pane.option_count)]


@pytest.mark.anyio
async def test_typing_shows_diagnostics_and_selecting_one_moves_the_cursor(tmp_path):
    path = _sample_copy(tmp_path)

    app = NeuroJITApp(str(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await _wait_for(pilot, lambda: any("verifies" in o for o in _options(app)))
        editor = app.query_one(TensorLangEditor)
        column = editor.document.get_line(10).index("matvec")  # line 11
        editor.replace("matvek", (10, column), (10, column + 6))
        await _wait_for(pilot, lambda: any("unregistered operation" in o for o in _options(app)))
        assert _options(app)[0].startswith("11:10 error")
        assert editor.error_lines == {10}
        app.query_one("#diagnostics", OptionList).focus()
        await pilot.press("down", "enter")  # highlight the first diagnostic, select it
        await _wait_for(pilot, lambda: editor.cursor_location == (10, 9))
        assert app.focused is editor


@pytest.mark.anyio
async def test_a_file_that_is_not_utf8_is_a_message_and_the_workstation_keeps_running(tmp_path):
    path = tmp_path / "latin1.mlir"
    original = "// caf\xe9\n".encode("latin-1")
    path.write_bytes(original)

    app = NeuroJITApp(str(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(str(path) in m and "not UTF-8" in m for m in messages), messages
        editor = app.query_one(TensorLangEditor)
        editor.insert("// typed\n")
        await pilot.press("ctrl+s")  # no path any more: nothing is written over the file
        await pilot.pause()
        assert app.is_running
    assert path.read_bytes() == original


@pytest.mark.anyio
async def test_engine_crash_is_reported_and_the_buffer_survives(tmp_path):
    app = NeuroJITApp(None)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait_for(pilot, lambda: any("verifies" in o for o in _options(app)))
        editor = app.query_one(TensorLangEditor)
        editor.insert("// my unsaved edit\n", (0, 0))
        buffer = editor.text
        os.kill(app.engine.pid, signal.SIGKILL)
        app.action_swarm()  # a job in flight when the engine is gone, or the next one
        await _wait_for(
            pilot,
            lambda: app.engine.restarts >= 1 or any("engine:" in o for o in _options(app)),
        )
        assert editor.text == buffer
        # the next check runs on a fresh engine
        editor.insert(" ", (0, 0))
        await _wait_for(pilot, lambda: any("verifies" in o for o in _options(app)))
        assert editor.text.startswith(" // my unsaved edit")


def test_core_meters_lay_out_64_cores_in_a_grid():
    meters = CoreMeters()
    meters.update([i * 100 / 63 for i in range(64)])
    text = meters.render(200)
    lines = text.splitlines()
    assert "64 cores" in lines[0]
    assert len(lines) <= 1 + 64 // 4  # several cores per line at 200 columns
    assert " 0 " in lines[1] and "63 " in text and "100%" in text
    narrow = meters.render(20).splitlines()
    assert len(narrow) == 1 + 64  # one core per line when only one fits
    assert CoreMeters.bar(50, 8) == "████    " and CoreMeters.bar(100, 4) == "████"


@pytest.mark.anyio
async def test_core_pane_shows_a_64_core_reading():
    app = NeuroJITApp(None)
    async with app.run_test(size=(200, 60)) as pilot:
        pane = app.query_one(CoresPane)
        pane.pause()  # no reading of this machine's cores comes after the fixed one
        pane.show([float(i) for i in range(64)])
        await pilot.pause()
        assert "64 cores" in str(pane.render())


def test_real_app_under_tmux_start_type_see_a_diagnostic_quit(tmp_path):
    """The installed command in a real terminal: start, type, see a diagnostic, quit."""
    import shutil
    import subprocess
    import sys
    import time
    from pathlib import Path

    import pytest

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    path = _sample_copy(tmp_path)
    neurojit = Path(sys.executable).parent / "neurojit"
    session = f"neurojit-test-{os.getpid()}"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", f"{neurojit} {path}"],
        check=True,
    )

    def screen():
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
        ).stdout

    def wait_for(text):
        deadline = time.time() + 60
        while time.time() < deadline:
            if text in screen():
                return
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared:\n{screen()}")

    try:
        wait_for("the controller verifies")
        assert "Editor" in screen() and "Diagnostics" in screen() and "Lander" in screen()
        subprocess.run(["tmux", "send-keys", "-t", session, "x"], check=True)
        wait_for("1:1 error")
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
        deadline = time.time() + 20
        while (
            time.time() < deadline
            and subprocess.run(
                ["tmux", "has-session", "-t", session], capture_output=True
            ).returncode
            == 0
        ):
            time.sleep(0.2)
        assert (
            subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode
            != 0
        ), "the app did not quit"
        assert path.read_text() == (SAMPLES / "pd.mlir").read_text()  # not saved: untouched
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


# one lander frame, as the engine's fly request streams them
FRAME = LanderFrame(
    x=0.0,
    y=5.6,
    vx=0.1,
    vy=-1.0,
    angle=0.0,
    omega=0.0,
    leg_left=0.0,
    leg_right=0.0,
    fuel=0.9,
    score=12.0,
    step=40,
    agent=0,
    action=(0.8, 0.0),
    controller="b.mlir#2",
    wind=-0.1,
    outcome="flying",
    done=False,
)


def test_lander_view_draws_a_frame_and_a_hot_swap():
    from neurojit_tui.ui.lander import draw

    text = draw(FRAME, 60, 20, ["a.mlir#1", "b.mlir#2"]).splitlines()
    assert len(text) == 20 and "▔" in text[15] and "░" in text[15]
    assert any("◢█◣" in line for line in text) and any("▼" in line for line in text)
    assert "alt   5.00 m" in text[16] and "hot-swaps: a.mlir#1 -> b.mlir#2" in text[19]
    narrow = draw(FRAME, 30, 20, ["a.mlir#1", "b.mlir#2"]).splitlines()
    assert len(narrow) == 20 and all(len(line) <= 30 for line in narrow)  # telemetry wraps
    assert narrow[-1].endswith("b.mlir#2") and narrow[-2] == "controller b.mlir#2"


@pytest.mark.anyio
async def test_the_editor_border_names_the_file_and_marks_unsaved_changes(tmp_path):
    path = _sample_copy(tmp_path)
    app = NeuroJITApp(str(path))
    async with app.run_test(size=(120, 40)) as pilot:
        editor = app.query_one(TensorLangEditor)
        assert editor.border_title == "Editor · pd.mlir"
        editor.focus()
        await pilot.press("end", "x")
        await _wait_for(pilot, lambda: editor.border_title == "Editor · pd.mlir ●")
        await pilot.press("ctrl+s")
        await _wait_for(pilot, lambda: editor.border_title == "Editor · pd.mlir")
        assert path.read_text() == editor.text


@pytest.mark.anyio
async def test_the_lander_draws_only_frames_of_the_newest_flight():
    from dataclasses import replace

    from neurojit_tui.ui.lander import LanderView

    app = NeuroJITApp(None)
    async with app.run_test(size=(160, 50)) as pilot:
        view = app.query_one(LanderView)
        view.flight_number = 2  # as after a second F7: flight 1's frames may still arrive
        view.show(replace(FRAME, flight=1, controller="old.mlir#1"))
        assert view.frame is None and view.controllers == []
        view.show(replace(FRAME, flight=2))
        await pilot.pause()
        assert view.frame.flight == 2 and view.controllers == ["b.mlir#2"]


@pytest.mark.anyio
async def test_flying_lander_hot_swaps_to_the_edited_controller(tmp_path):
    from neurojit_tui.ui.lander import LanderView

    path = _sample_copy(tmp_path)

    app = NeuroJITApp(str(path))
    async with app.run_test(size=(160, 50)) as pilot:
        view = app.query_one(LanderView)
        await pilot.press("f7")
        await _wait_for(pilot, lambda: view.frame is not None and view.frame.step > 5)
        assert view.frame.controller == f"{path}#1"
        editor = app.query_one(TensorLangEditor)
        editor.text = (SAMPLES / "heuristic.mlir").read_text()
        await pilot.press("f8")
        await _wait_for(pilot, lambda: view.frame.controller == f"{path}#2")
        assert view.controllers == [f"{path}#1", f"{path}#2"]
        assert "hot-swaps:" in str(view.render())


@pytest.mark.anyio
async def test_repair_stepper_steps_a_session_by_hand(tmp_path):
    """Ctrl+R starts a session on the broken buffer; n proposes (the symbolic tier, no
    model needed), a accepts: the buffer becomes the repaired program."""
    from neurojit_tui.ui.repair import RepairPane

    broken = (SAMPLES / "pd.mlir").read_text().replace("tensorlang.matvec", "tensorlang.matvek")
    path = _sample_copy(tmp_path, "broken", broken)

    app = NeuroJITApp(str(path))
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.query_one(RepairPane)
        await _wait_for(pilot, lambda: any("unregistered" in o for o in _options(app)))
        await pilot.press("ctrl+r")
        await _wait_for(pilot, lambda: pane.state is not None)
        assert pane.state.status == "in_progress" and not pane.state.attempts
        await pilot.press("n")
        await _wait_for(pilot, lambda: len(pane.state.attempts) == 1)
        attempt = pane.state.attempts[0]
        assert attempt.tier == "symbolic" and attempt.decision == "pending"
        assert "matvek" in attempt.diff and attempt.errors == 0
        await pilot.press("a")
        await _wait_for(pilot, lambda: pane.state.status == "repaired")
        await _wait_for(pilot, lambda: "tensorlang.matvec" in app.query_one(TensorLangEditor).text)
        await _wait_for(pilot, lambda: any("verifies" in o for o in _options(app)))


@pytest.mark.anyio
async def test_reasoning_pane_labels_agents_and_shows_tokens_per_second():
    from neurojit_tui.ui.reasoning import ReasoningPane

    app = NeuroJITApp(None)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(ReasoningPane)
        for piece in ['{"family"', ': "pd"}\n']:
            pane.token("reasoning", piece)
        # finished lines are written in batches (a write repaints the pane): within
        # a quarter of a second, not one by one
        assert not pane.lines and pane.pending == ["[reasoning]", '{"family": "pd"}']
        await pilot.pause(0.4)
        assert len(pane.lines) == 2 and not pane.pending
        pane.token("synthesis", '  %v0 = "tensorlang.constant"')
        pane.flush_line()
        await pilot.pause()
        text = "\n".join(str(line.text) for line in pane.lines)
        assert "[reasoning]" in text and '{"family": "pd"}' in text and "[synthesis]" in text
        assert pane.border_subtitle.startswith("synthesis:") and "tok/s" in pane.border_subtitle


@pytest.mark.anyio
async def test_typing_redraws_only_the_edited_line_and_every_line_stays_right():
    """An edit within a line repaints that line only (TextArea alone repaints all and
    re-renders all); whatever the user does, what is drawn equals a redraw from scratch:
    no line is left stale (typing, selecting, bracket matching, scrolling, new lines,
    diagnostic markers)."""
    from textual.app import App
    from textual.geometry import Region

    text = (SAMPLES / "heuristic.mlir").read_text()

    class EditorOnly(App):
        def compose(self):
            yield TensorLangEditor(text)

    def drawn(editor):  # the widget's lines as the compositor gets them now
        return [list(strip) for strip in editor.render_lines(Region(0, 0, *editor.size))]

    def from_scratch(editor):
        editor._line_cache.clear()
        editor._styles_cache.clear()
        return drawn(editor)

    app = EditorOnly()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = app.query_one(TensorLangEditor)
        editor.cursor_blink = False  # a blink would repaint the cursor's line too
        editor.move_cursor((5, 0))
        await pilot.pause()
        drawn_rows = []
        render_line = editor._render_line

        def counting(y):
            drawn_rows.append(y + editor.scroll_offset.y)
            return render_line(y)

        editor._render_line = counting
        await pilot.press("x")
        await pilot.pause()
        assert set(drawn_rows) == {5} and editor.text.split("\n")[5][0] == "x"
        assert drawn(editor) == from_scratch(editor)
        bracket = next(row for row, line in enumerate(editor.text.split("\n")) if "(" in line)
        steps = [
            ("shift+down", "shift+down", "shift+right"),
            ("down",),
            lambda: editor.move_cursor((bracket, editor.text.split("\n")[bracket].index("("))),
            ("right", "right"),
            ("ctrl+end",),
            ("ctrl+home", "enter", "y"),
            lambda: editor.mark_diagnostics([Diagnostic("h.mlir", 3, 2, "error", "bad")]),
            ("down", "down", "z"),
            lambda: editor.mark_diagnostics([]),
        ]
        for step in steps:
            if callable(step):
                step()
            else:
                await pilot.press(*step)
            await pilot.pause()
            assert drawn(editor) == from_scratch(editor), step


@pytest.mark.anyio
async def test_lander_frames_repaint_the_changed_rows_and_follow_a_theme_switch():
    """A frame repaints the rows that changed only; what is drawn always equals a redraw
    from scratch, also after a theme switch (which repaints it all in the new style)."""
    from textual.geometry import Region

    from neurojit_tui.ui.lander import LanderView

    def drawn(view):
        return [list(strip) for strip in view.render_lines(Region(0, 0, *view.size))]

    def from_scratch(view):
        view._styles_cache.clear()
        return drawn(view)

    app = NeuroJITApp(None, remember_layout=False)
    async with app.run_test(size=(200, 60)) as pilot:
        view = app.query_one(LanderView)
        for _ in range(2):  # the second frame is drawn at the settled layout's size
            view.show(FRAME)
            await pilot.pause(0.2)
        repainted = []
        refresh = view.refresh
        view.refresh = lambda *regions, **kw: (
            repainted.extend(regions),
            refresh(*regions, **kw),
        )
        view.show(dataclasses.replace(FRAME, y=5.2, step=41))
        await pilot.pause()
        assert repainted and all(r.height == 1 for r in repainted)
        assert len(repainted) < view.size.height // 2  # the sky and the ground stay
        assert drawn(view) == from_scratch(view)
        before = drawn(view)
        app.screen_layout.set_theme("light", save=False)
        await pilot.pause()
        view.show(dataclasses.replace(FRAME, y=5.0, step=42))
        await pilot.pause()
        after = drawn(view)
        assert after == from_scratch(view)
        wind = next(seg for row in after for seg in row if "wind" in seg.text)
        assert wind.style.color == view.rich_style.color  # drawn in the light theme
        assert (
            wind.style.color
            != next(seg for row in before for seg in row if "wind" in seg.text).style.color
        )


@pytest.mark.anyio
async def test_swarm_results_wait_for_the_next_keystroke_while_the_user_types(
    tmp_path, monkeypatch
):
    """A new swarm row lays the screen out again (every pane repaints): while the user
    types it waits until the next keystroke is drawn, or typing pauses; otherwise it
    shows at once."""
    from neurojit_tui.sim.report import SwarmReport
    from neurojit_tui.ui import keystrokes
    from neurojit_tui.ui.results import SwarmPane, SwarmRun

    # a long pause, so that on a slow machine the timer cannot stand in for the keystroke
    monkeypatch.setattr(keystrokes, "TYPING_PAUSE_S", 3.0)

    def flown(name):
        report = SwarmReport(name, 100, failure="no controller")
        return SwarmPane.Flown(SwarmRun(name, report, ""))

    def last(pane):
        return pane.runs[-1].name if pane.runs else None

    app = NeuroJITApp(str(_sample_copy(tmp_path)), remember_layout=False)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(SwarmPane)
        pane.post_message(flown("idle.mlir"))
        await pilot.pause()
        assert last(pane) == "idle.mlir"  # not typing: at once
        await pilot.press("x")
        pane.post_message(flown("typing.mlir"))
        await pilot.pause()
        assert len(pane.runs) == 1  # held: the user is typing
        await pilot.press("y")
        await _wait_for(pilot, lambda: last(pane) == "typing.mlir", timeout=2.0)
        await pilot.press("z")
        pane.post_message(flown("pause.mlir"))
        await pilot.pause()
        assert len(pane.runs) == 2
        await _wait_for(pilot, lambda: last(pane) == "pause.mlir", timeout=10.0)
