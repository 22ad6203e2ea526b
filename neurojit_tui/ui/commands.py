"""The command palette (Ctrl+P): every workstation action, theme, layout and sample.

One provider builds its list from the key map (so a new binding is a new command, with
its key shown), the theme files, the layouts and the sample programs.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..paths import controller_samples
from .keymap import APP_BINDINGS
from .session import LAYOUTS, SIDE_PANES


def workstation_commands(app) -> list[tuple[str, str, object]]:
    """(title, help, callback) for every command; ``app`` is the NeuroJITApp."""
    commands = []
    for binding in APP_BINDINGS:
        if binding.action == "quit":
            continue  # Textual's own palette has Quit
        commands.append(
            (
                binding.description,
                binding.key_display or binding.key,
                partial(app.run_action, binding.action),
            )
        )
    for name in app.themes:
        commands.append(
            (
                f"Theme: {name}",
                "switch the workstation's colours",
                partial(app.set_workstation_theme, name),
            )
        )
    for layout in LAYOUTS:
        commands.append(
            (
                f"Layout: {layout}",
                "auto follows the terminal's size",
                partial(app.set_layout, layout),
            )
        )
    for pane in SIDE_PANES:
        commands.append(
            (
                f"Show pane: {pane.capitalize()}",
                "bring it forward and focus it",
                partial(app.show_side_pane, pane, True),
            )
        )
    commands.append(
        ("Accept the evolved best", "into the editor (Ctrl+Z undoes)", app.action_accept_evolved)
    )
    for sample in controller_samples():
        commands.append(
            (
                f"Open sample: {sample.name}",
                "into the editor (Ctrl+Z undoes)",
                partial(app.open_program, sample.read_text(), sample.name),
            )
        )
    return commands


class WorkstationCommands(Provider):
    async def discover(self) -> Hits:
        for title, help_text, callback in workstation_commands(self.app):
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in workstation_commands(self.app):
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
