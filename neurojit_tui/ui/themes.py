"""Workstation themes: one ``themes/<name>.tcss`` file each (``layout.tcss`` is shared).

A theme file scopes its rules under the app class ``theme-<name>`` and names, in its first
comment, the Textual colour palette and the editor's syntax theme it goes with::

    /* palette: textual-light; editor: github_light */

so a new theme is a new file. The high-contrast palette is not one of Textual's, so it is
defined here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from textual.theme import Theme

from ..paths import themes_dir

THEMES_DIR = themes_dir()
LAYOUT_CSS = THEMES_DIR / "layout.tcss"
DEFAULT_THEME = "dark"

HIGH_CONTRAST_PALETTE = Theme(
    name="neurojit-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffff00",
    warning="#ffaf00",
    error="#ff5f5f",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1c1c1c",
    dark=True,
    text_alpha=1.0,  # no dimmed text
)
PALETTES = {HIGH_CONTRAST_PALETTE.name: HIGH_CONTRAST_PALETTE}

_HEADER = re.compile(r"/\*\s*palette:\s*([\w-]+);\s*editor:\s*([\w-]+)")


@dataclass(frozen=True)
class WorkstationTheme:
    name: str  # the file's stem: "dark", "light", "high-contrast"
    palette: str  # a Textual theme name (built in, or in PALETTES)
    editor: str  # a TextArea syntax theme name
    path: Path

    @property
    def css_class(self) -> str:
        return f"theme-{self.name}"


def read_theme(path: Path) -> WorkstationTheme:
    match = _HEADER.search(path.read_text())
    if match is None:
        raise ValueError(
            f"{path}:1:1: a theme file starts with "
            f"/* palette: <textual theme>; editor: <TextArea theme> */"
        )
    return WorkstationTheme(path.stem, match.group(1), match.group(2), path)


def discover(folder: Path = THEMES_DIR) -> dict[str, WorkstationTheme]:
    """Every theme file in ``folder`` by name (``layout.tcss`` is not a theme)."""
    return {
        t.name: t
        for t in (
            read_theme(p)
            for p in sorted(folder.glob("*.tcss"))
            if p != LAYOUT_CSS and p.name != LAYOUT_CSS.name
        )
    }
