"""The workstation's layout, themes, command palette, results panes and terminal handling.

Pilot tests run the real app against a real engine process; the pure pieces (session
file, theme files, histogram) are tested on their own.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neurojit_tui.ui import session
from neurojit_tui.ui.app import NeuroJITApp
from neurojit_tui.ui.buffer import SCRATCH
from neurojit_tui.ui.editor import TensorLangEditor
from neurojit_tui.ui.results import RegistryPane, SwarmPane, draw_histogram
from neurojit_tui.ui.themes import discover, read_theme

from .conftest import SAMPLES
from .test_ui import _options, _sample_copy, _wait_for

pytestmark = pytest.mark.usefixtures("private_home")  # a temporary ~/.neurojit


# -- pure pieces -----------------------------------------------------------------------------


def test_session_layout_round_trips_and_a_corrupt_file_gives_defaults(tmp_path):
    path = tmp_path / "session.json"
    assert session.load(path) == (session.SessionLayout(), None)
    layout = session.SessionLayout(theme="light", layout="wide", editor_width=7, side_pane="swarm")
    session.save(layout, path)
    assert session.load(path) == (layout, None)
    path.write_text('{"theme": "light", "editor_width": 99, "side_pane": "nowhere", "x": 1}')
    loaded, warning = session.load(path)
    assert warning is None and loaded.editor_width == 9 and loaded.side_pane == "lander"
    path.write_text("{not json")
    loaded, warning = session.load(path)
    assert loaded == session.SessionLayout() and str(path) in warning


def test_layout_follows_the_terminal_size_unless_chosen():
    assert session.layout_for((80, 24), "auto") == "compact"
    assert session.layout_for((140, 40), "auto") == "medium"
    assert session.layout_for((200, 60), "auto") == "wide"
    assert session.layout_for((80, 24), "wide") == "wide"


def test_theme_files_name_their_palette_and_a_bad_one_is_named(tmp_path):
    themes = discover()
    assert {"dark", "light", "high-contrast"} <= set(themes)
    assert themes["light"].palette == "textual-light" and themes["light"].editor == "github_light"
    bad = tmp_path / "odd.tcss"
    bad.write_text(".theme-odd #editor { border: round red; }\n")
    with pytest.raises(ValueError, match=r"odd\.tcss:1:1"):
        read_theme(bad)


def test_histogram_draws_bins_as_bars_with_the_range():
    text = draw_histogram([0, 1, 4, 2], [-100.0, 0.0, 100.0, 200.0, 300.0], rows=2).splitlines()
    assert len(text) == 3
    assert text[0][4:6] == "██" and text[0][:4].strip() == ""  # the tallest bin fills the top
    assert text[1][:2] == "  " and text[1][2:4] != "  "  # an empty bin stays empty
    assert text[2].startswith("-100") and text[2].endswith("300")


def test_f9_evolves_and_synthesis_moved_to_shift_f9_both_in_the_palette():
    from neurojit_tui.ui.commands import workstation_commands
    from neurojit_tui.ui.keymap import APP_BINDINGS

    keys = {key: b.action for b in APP_BINDINGS for key in b.key.split(",")}
    assert keys["f9"] == "evolve" and keys["f4"] == "cancel_agents"
    # terminals send Shift+F9 as F21; Textual's pilot presses it as shift+f9
    assert keys["shift+f9"] == keys["f21"] == "synthesize"
    titles = {
        title: help_text
        for title, help_text, _ in workstation_commands(NeuroJITApp(None, remember_layout=False))
    }
    assert titles["Evolve"] == "f9" and titles["Synthesize"] == "shift+f9"
    assert "Show pane: Evolution" in titles and "Accept the evolved best" in titles


def test_ssh_sessions_fly_at_a_lower_frame_rate(monkeypatch):
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5000 10.0.0.2 22")
    assert NeuroJITApp(None, remember_layout=False).fps == 10.0
    monkeypatch.delenv("SSH_CONNECTION")
    monkeypatch.delenv("SSH_TTY", raising=False)
    assert NeuroJITApp(None, remember_layout=False).fps == 25.0


# -- the app ---------------------------------------------------------------------------------


def _shown(app, pane_id: str) -> bool:
    return app.query_one(f"#{pane_id}").styles.display != "none"


@pytest.mark.anyio
async def test_compact_layout_shows_one_side_pane_and_f12_cycles_them():
    app = NeuroJITApp(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen_layout.name == "compact"
        assert [p for p in session.SIDE_PANES if _shown(app, p)] == ["lander"]
        await pilot.press("f12")
        assert [p for p in session.SIDE_PANES if _shown(app, p)] == ["cores"]
        await pilot.press("f3")  # focusing the repair pane brings it forward
        assert [p for p in session.SIDE_PANES if _shown(app, p)] == ["repair"]
        assert _shown(app, "editor") and _shown(app, "diagnostics")


@pytest.mark.anyio
async def test_wide_layout_shows_every_pane_and_alt_arrows_resize_the_editor(private_home):
    app = NeuroJITApp(None)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert app.screen_layout.name == "wide"
        assert all(_shown(app, p) for p in session.SIDE_PANES)
        width = app.query_one("#editor").size.width
        await pilot.press("alt+right", "alt+right")
        await pilot.pause()
        assert app.query_one("#editor").size.width > width
    saved = json.loads((private_home / "session.json").read_text())
    assert saved["editor_width"] == session.SessionLayout().editor_width + 2


@pytest.mark.anyio
async def test_theme_switch_applies_the_theme_file_and_is_remembered(private_home):
    app = NeuroJITApp(None)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.has_class("theme-dark") and app.theme == "textual-dark"
        dark_border = app.query_one("#editor").styles.border_top
        await pilot.press("ctrl+t")  # dark -> high-contrast (alphabetical)
        assert app.has_class("theme-high-contrast") and not app.has_class("theme-dark")
        assert app.theme == "neurojit-high-contrast"
        assert app.query_one("#editor").styles.border_top != dark_border
        await pilot.press("ctrl+t")
        assert app.has_class("theme-light") and app.theme == "textual-light"
        assert app.query_one(TensorLangEditor).theme == "tensorlang-github_light"
    again = NeuroJITApp(None)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert again.has_class("theme-light")  # the next session starts where this one left


@pytest.mark.anyio
async def test_command_palette_runs_workstation_commands():
    app = NeuroJITApp(None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"theme: high")
        await _wait_for(
            pilot,
            lambda: (
                False
                if not app.screen.query("CommandList")
                else app.screen.query_one("CommandList").option_count > 0
            ),
            10,
        )
        await pilot.press("enter")
        await _wait_for(pilot, lambda: app.has_class("theme-high-contrast"), 10)
        await pilot.press("ctrl+p")
        await pilot.press(*"open sample: pid")
        await _wait_for(
            pilot,
            lambda: (
                app.screen.query("CommandList")
                and app.screen.query_one("CommandList").option_count > 0
            ),
            10,
        )
        await pilot.press("enter")
        await _wait_for(pilot, lambda: "PID" in app.editor.text, 10)


@pytest.mark.anyio
async def test_gutter_marks_the_error_line_and_swarm_rows_open_in_the_editor(tmp_path):
    path = _sample_copy(tmp_path)

    app = NeuroJITApp(str(path))
    async with app.run_test(size=(200, 60)) as pilot:
        editor = app.query_one(TensorLangEditor)
        await _wait_for(pilot, lambda: any("verifies" in o for o in _options(app)))
        await pilot.press("f6")
        pane = app.query_one(SwarmPane)
        await _wait_for(pilot, lambda: len(pane.runs) == 1)
        report = pane.runs[0].report
        assert report.landed + report.crashed + report.out_of_bounds + report.timed_out == 100
        assert sum(report.score_histogram["counts"]) == 100
        detail = str(pane.query_one("#swarm-histogram").render())
        assert "success" in detail and any(bar in detail for bar in "▁▂▃▄▅▆▇█")
        original = editor.text
        column = editor.document.get_line(10).index("matvec")
        editor.replace("matvek", (10, column), (10, column + 6))
        await _wait_for(pilot, lambda: editor.error_lines == {10})
        row = 10 - editor.scroll_offset.y
        assert "●" in editor.render_line(row).text  # the gutter marker
        assert "●" not in editor.render_line(row + 1).text
        # Enter on the swarm row brings the program flown back, as an undoable edit
        table = pane.query_one("#swarm-table")
        table.focus()
        await pilot.press("enter")
        assert editor.text == original
        await pilot.press("f1", "ctrl+z")
        assert "matvek" in editor.text


@pytest.mark.slow
@pytest.mark.anyio
async def test_synthesize_streams_both_agents_then_memory_answers_and_registry_lists_it(
    private_home,
):
    """Shift+F9 with the embedded models: labelled tokens stream into Reasoning, the
    candidate lands in Swarm, the best opens in the editor; the registry stores it only
    if it beats every sample (memory.admission: the small models' programs seldom do),
    and then Shift+F9 again comes from memory without any model; F4 stops a run in
    flight. Quitting flushes the registry."""
    from neurojit_tui.ui.reasoning import ReasoningPane

    app = NeuroJITApp(None)
    app.synthesis_candidates = 1
    async with app.run_test(size=(200, 60)) as pilot:
        reasoning = app.query_one(ReasoningPane)
        await pilot.press("shift+f9")
        # F4 while the reasoning agent is talking stops the run
        await _wait_for(
            pilot, lambda: any("[reasoning]" in str(l.text) for l in reasoning.lines), 120
        )
        await pilot.press("f4")
        await _wait_for(pilot, lambda: (reasoning.border_subtitle or "") == "cancelled", 60)
        assert (
            not list((private_home / "registry" / "entries").glob("*/*.json"))
            if (private_home / "registry" / "entries").exists()
            else True
        )
        await pilot.press("shift+f9")
        swarm = app.query_one(SwarmPane)
        # The small models' program may not fly (then nothing replaces the buffer);
        # both endings are the models' to choose, the plumbing is the same.
        await _wait_for(
            pilot,
            lambda: (reasoning.border_subtitle or "").startswith(
                ("best from the models", "no candidate flew")
            ),
            400,
        )
        flew = "best from the models" in (reasoning.border_subtitle or "")
        text = "\n".join(str(line.text) for line in reasoning.lines)
        assert "[reasoning]" in text and "[synthesis]" in text and "[pipeline]" in text
        # the pane's outcome and the Swarm pane's new row are two updates, each run
        # between keystrokes: the row may come a moment after the subtitle
        await _wait_for(pilot, lambda: len(swarm.runs) == 1, 30)
        if not flew:
            assert app.editor.text == SCRATCH  # nothing replaced the user's buffer
            return
        assert "@control" in app.editor.text and app.editor.text == swarm.runs[0].text
        lines = [str(line.text) for line in reasoning.lines]
        remembered = any(line.startswith("remembered: ") for line in lines)
        assert remembered or any(line.startswith("not remembered: ") for line in lines)
        registry = app.query_one(RegistryPane)
        await _wait_for(
            pilot, lambda: (registry.border_subtitle or "").endswith(("entry", "entries")), 60
        )  # listed after the run
        assert len(registry.entries) == (1 if remembered else 0)
        if remembered:
            await pilot.press("shift+f9")
            await _wait_for(pilot, lambda: "memory (L1)" in (reasoning.border_subtitle or ""), 60)
    stored = (
        list((private_home / "registry" / "entries").glob("*/*.json"))
        if (private_home / "registry" / "entries").exists()
        else []
    )
    assert len(stored) == (1 if remembered else 0)


# -- a real terminal ---------------------------------------------------------------------------


@pytest.mark.slow
def test_dropped_terminal_keeps_the_unsaved_buffer(tmp_path, private_home):
    """tmux kill-session hangs up the terminal (SIGHUP), as a dropped SSH connection does:
    the app writes the unsaved buffer to ~/.neurojit/recovery/ and exits; the file it was
    editing is untouched. A lander flies and the agents generate when it happens: with
    frames and tokens streaming in, Textual's own exit could hang on the dead terminal
    (1 run in 5 of this test, 3 in 8 at 200x60) and the process lived on."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    path = _sample_copy(tmp_path)
    neurojit = Path(sys.executable).parent / "neurojit"
    name = f"neurojit-hup-{os.getpid()}"
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "120",
            "-y",
            "40",
            "-e",
            f"NEUROJIT_HOME={private_home}",
            f"{neurojit} {path}",
        ],
        check=True,
    )
    pid = int(
        subprocess.run(
            ["tmux", "list-panes", "-t", name, "-F", "#{pane_pid}"], capture_output=True, text=True
        ).stdout.split()[0]
    )

    def screen():
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True
        ).stdout

    try:
        deadline = time.time() + 60
        while "verifies" not in screen() and time.time() < deadline:
            time.sleep(0.2)
        subprocess.run(["tmux", "send-keys", "-t", name, "F7", "S-F9"], check=True)
        deadline = time.time() + 120
        while "[reasoning]" not in screen() and time.time() < deadline:
            time.sleep(0.2)  # the models are loaded and their tokens stream in
        subprocess.run(["tmux", "send-keys", "-t", name, "C-Home", "// typed over ssh"], check=True)
        deadline = time.time() + 20
        while "typed over ssh" not in screen() and time.time() < deadline:
            time.sleep(0.2)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    deadline = time.time() + 40
    while time.time() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists(), "the app outlived its terminal"
    recovered = list((private_home / "recovery").glob("pd-*.mlir"))
    assert len(recovered) == 1 and recovered[0].read_text().startswith("// typed over ssh")
    assert path.read_text() == (SAMPLES / "pd.mlir").read_text()
