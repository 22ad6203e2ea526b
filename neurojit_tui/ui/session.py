"""The remembered session layout: ``~/.neurojit/session.json``.

What the user arranged (theme, layout mode, the editor column's width, the side pane
shown in the compact layout) comes back on the next start. The file is advisory: a
missing or corrupt one gives the defaults and a warning, never a failed start, and it is
written atomically so a dropped connection cannot leave half a file.

``ScreenLayout`` puts a layout on the workstation's screen and keeps it: the keys and
the command palette that change it (F11, F12, Ctrl+T, Alt+Left/Right) call it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .themes import DEFAULT_THEME, PALETTES, WorkstationTheme

LAYOUTS = ("auto", "wide", "medium", "compact")
SIDE_PANES = ("lander", "cores", "repair", "reasoning", "swarm", "registry", "evolution")
EDITOR_WIDTH_RANGE = (1, 9)  # the editor column's share, in tenths of the screen


@dataclass
class SessionLayout:
    theme: str = "dark"
    layout: str = "auto"  # auto picks from the terminal size; the others are fixed
    editor_width: int = 5  # tenths of the screen's width for the editor column
    side_pane: str = "lander"  # the side pane the compact layout shows

    def normalized(self) -> SessionLayout:
        low, high = EDITOR_WIDTH_RANGE
        return SessionLayout(
            theme=self.theme if isinstance(self.theme, str) else "dark",
            layout=self.layout if self.layout in LAYOUTS else "auto",
            editor_width=min(high, max(low, int(self.editor_width)))
            if isinstance(self.editor_width, (int, float))
            else 5,
            side_pane=self.side_pane if self.side_pane in SIDE_PANES else "lander",
        )


def session_path() -> Path:
    from ..paths import neurojit_home

    return neurojit_home() / "session.json"


def load(path: Path | None = None) -> tuple[SessionLayout, str | None]:
    """(layout, warning): the saved layout, or the defaults and why."""
    path = path or session_path()
    if not path.exists():
        return SessionLayout(), None
    try:
        data = json.loads(path.read_text())
        known = {f.name for f in fields(SessionLayout)}
        return SessionLayout(**{k: v for k, v in data.items() if k in known}).normalized(), None
    except (OSError, ValueError, TypeError, AttributeError) as error:
        return SessionLayout(), f"{path}: unreadable session layout ({error}); using defaults"


def save(layout: SessionLayout, path: Path | None = None) -> None:
    path = path or session_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as out:
        json.dump(asdict(layout.normalized()), out, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(out.name, path)


def layout_for(size: tuple[int, int], choice: str) -> str:
    """The layout class for a terminal of ``size`` (columns, rows) under ``choice``."""
    if choice != "auto":
        return choice
    columns, rows = size
    if columns < 120 or rows < 36:
        return "compact"
    if columns >= 160 and rows >= 45:
        return "wide"
    return "medium"


def starting_layout(
    given: SessionLayout | None, remember: bool
) -> tuple[SessionLayout, str | None]:
    """(layout, warning) the workstation starts with: ``given``, else the remembered one
    (when it remembers), else the defaults."""
    if given is not None:
        return given.normalized(), None
    layout, warning = load() if remember else (SessionLayout(), None)
    return layout.normalized(), warning


class ScreenLayout:
    """A ``SessionLayout`` on the workstation's screen: the layout class (-wide, -medium,
    -compact) for the terminal's size or the user's choice, the editor column's width,
    the side pane the compact layout shows, and the theme. Every change by the user is
    saved (unless the app was started with ``remember_layout=False``)."""

    def __init__(
        self, app, choice: SessionLayout, remember: bool, themes: dict[str, WorkstationTheme]
    ):
        self.app = app
        self.choice = choice
        self.remember = remember
        self.themes = themes
        for palette in PALETTES.values():
            app.register_theme(palette)

    def show(self) -> None:
        """The chosen theme and layout, as the app starts (nothing changed: nothing saved)."""
        self.set_theme(self.choice.theme, save=False)
        self.apply()

    def apply(self) -> None:
        """Set -wide / -medium / -compact from the terminal size (or the user's choice),
        the editor column's width, and which side pane the compact layout shows."""
        app = self.app
        chosen = layout_for((app.size.width, app.size.height), self.choice.layout)
        for name in ("wide", "medium", "compact"):
            app.set_class(name == chosen, f"-{name}")
        for pane in app.query(".pane"):
            pane.set_class(pane.id == self.choice.side_pane, "-current")
        width = self.choice.editor_width
        if chosen != "compact":
            app.query_one("#left").styles.width = f"{width}fr"
            app.query_one("#right").styles.width = f"{10 - width}fr"
        else:  # the editor and the one side pane shown
            app.query_one("#left").styles.width = "3fr"
            app.query_one("#right").styles.width = "2fr"

    @property
    def name(self) -> str:
        """The layout class the screen has now: wide, medium or compact."""
        return next((n for n in ("wide", "medium", "compact") if self.app.has_class(f"-{n}")), "")

    def save(self) -> None:
        if self.remember:
            try:
                save(self.choice)
            except OSError as error:
                self.app.notify(f"cannot save the layout: {error}", severity="warning")

    def set_theme(self, name: str, save: bool = True) -> None:
        """The theme called ``name`` (an unknown name: the default) on the app, its
        palette and the editor's syntax colours."""
        app = self.app
        theme = self.themes.get(name) or self.themes[DEFAULT_THEME]
        for other in self.themes.values():
            app.set_class(other is theme, other.css_class)
        app.theme = theme.palette
        app.editor.use_syntax_theme(theme.editor)
        self.choice.theme = theme.name
        if save:
            self.save()

    def set_layout(self, layout: str) -> None:
        self.choice.layout = layout
        self.apply()
        self.save()

    def show_side_pane(self, name: str, focus: bool = False) -> None:
        """Bring a side pane forward (the compact layout shows one at a time)."""
        self.choice.side_pane = name
        self.apply()
        if focus:
            pane = self.app.query_one(f"#{name}")
            target = next((w for w in pane.query("*") if w.can_focus), pane)
            target.focus()

    def next_side_pane(self) -> None:
        following = SIDE_PANES[(SIDE_PANES.index(self.choice.side_pane) + 1) % len(SIDE_PANES)]
        self.show_side_pane(following, focus=self.name == "compact")
        self.save()

    def next_theme(self) -> None:
        names = list(self.themes)
        current = names.index(self.choice.theme) if self.choice.theme in names else 0
        self.set_theme(names[(current + 1) % len(names)])
        self.app.notify(f"theme: {self.choice.theme}")

    def widen_editor(self, step: int) -> None:
        """The editor column ``step`` tenths of the screen wider (narrower if negative)."""
        low, high = EDITOR_WIDTH_RANGE
        self.choice.editor_width = min(high, max(low, self.choice.editor_width + step))
        self.apply()
        self.save()

    def toggle_maximize(self) -> None:
        """The focused pane (or the editor, or Diagnostics) over the whole screen; again:
        back in its place."""
        screen = self.app.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.app.focused
        pane = next(
            (
                w
                for w in (focused, *(focused.ancestors if focused else ()))
                if w is not None and (w.has_class("pane") or w.id in ("editor", "diagnostics"))
            ),
            None,
        )
        if pane is not None:
            screen.maximize(pane, container=False)
