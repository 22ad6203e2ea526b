"""The remembered session layout: ``~/.neurojit/session.json``.

What the user arranged (theme, layout mode, the editor column's width, the side pane
shown in the compact layout) comes back on the next start. The file is advisory: a
missing or corrupt one gives the defaults and a warning, never a failed start, and it is
written atomically so a dropped connection cannot leave half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

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
