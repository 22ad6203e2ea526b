"""The command palette (Ctrl+P): every workstation action, theme, layout and sample.

One provider builds its list from the key map (so a new binding is a new command, with
its key shown), the theme files, the layouts and the sample programs.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..paths import controller_samples
from .evolution import EvolutionPane
from .keymap import APP_BINDINGS
from .results import OpenProgram
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
    layout = app.screen_layout
    for name in layout.themes:
        commands.append(
            (
                f"Theme: {name}",
                "switch the workstation's colours",
                partial(layout.set_theme, name),
            )
        )
    for choice in LAYOUTS:
        commands.append(
            (
                f"Layout: {choice}",
                "auto follows the terminal's size",
                partial(layout.set_layout, choice),
            )
        )
    for pane in SIDE_PANES:
        commands.append(
            (
                f"Show pane: {pane.capitalize()}",
                "bring it forward and focus it",
                partial(layout.show_side_pane, pane, True),
            )
        )
    commands.append(
        (
            "Accept the evolved best",
            "into the editor (Ctrl+Z undoes)",
            lambda: app.query_one(EvolutionPane).action_accept(),
        )
    )
    for sample in controller_samples():
        commands.append(
            (
                f"Open sample: {sample.name}",
                "into the editor (Ctrl+Z undoes)",
                partial(app.post_message, OpenProgram(sample.read_text(), sample.name)),
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
