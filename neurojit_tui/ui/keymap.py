"""The workstation's key bindings, as data: one place to read (and change) every key.

Each binding has an ``id`` (a stable name for keymap overrides) and shows in the footer
and the command palette. ``priority`` bindings work wherever the focus is: the editor's
TextArea binds some F-keys itself (F5-F7 select word/line/all), and the workstation's
actions must win.
"""

from __future__ import annotations

from textual.binding import Binding

APP_BINDINGS = [
    Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    Binding("ctrl+s", "save", "Save", id="save"),
    Binding("f5", "check", "Check", id="check", priority=True),
    Binding("f6", "swarm", "Swarm", id="swarm", priority=True),
    Binding("f7", "fly", "Fly", id="fly", priority=True),
    Binding("f8", "hot_swap", "Hot-swap", id="hot-swap", priority=True),
    Binding("f9", "evolve", "Evolve", id="evolve", priority=True),
    # terminals send Shift+F9 as F21
    Binding(
        "shift+f9,f21",
        "synthesize",
        "Synthesize",
        id="synthesize",
        show=False,
        priority=True,
        key_display="shift+f9",
    ),
    Binding("f4", "cancel_agents", "Stop agents", id="cancel-agents", priority=True),
    # gravity and turbulence for F6, F7, F9 and Shift+F9, and the Gymnasium environment
    # that judges F9 (conditions.py)
    Binding("ctrl+o", "conditions", "Conditions", id="conditions", priority=True),
    Binding("ctrl+r", "repair", "Repair", id="repair", priority=True),
    Binding("f1", "focus_editor", "Editor", id="focus-editor", priority=True),
    Binding("f2", "focus_diagnostics", "Diagnostics", id="focus-diagnostics", priority=True),
    Binding("f3", "focus_repair", "Repair pane", id="focus-repair", priority=True),
    Binding("f10", "focus_registry", "Registry", id="focus-registry", show=False, priority=True),
    Binding(
        "ctrl+g",
        "focus_evolution",
        "Evolution pane",
        id="focus-evolution",
        show=False,
        priority=True,
    ),
    Binding("f11", "toggle_maximize", "Maximize", id="maximize", priority=True),
    Binding("f12", "next_side_pane", "Next pane", id="next-side-pane", priority=True),
    Binding("ctrl+t", "next_theme", "Theme", id="next-theme", show=False, priority=True),
    Binding(
        "alt+left",
        "editor_width(-1)",
        "Narrower editor",
        id="editor-narrower",
        show=False,
        priority=True,
    ),
    Binding(
        "alt+right", "editor_width(1)", "Wider editor", id="editor-wider", show=False, priority=True
    ),
]


# The actions those keys run, by name ("editor_width(-1)" is the action "editor_width").
WORKSTATION_ACTIONS = frozenset(binding.action.split("(")[0] for binding in APP_BINDINGS)
