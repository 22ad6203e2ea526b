"""Keystrokes first: heavy screen updates wait for a gap between keystrokes.

A table that gains rows makes Textual lay the screen out again, and that repaints every
pane: a keystroke arriving meanwhile waits for it. So while the user types, such
updates wait until the next keystroke is on the screen (the gap before the following
one is the longest there is), or until typing pauses; otherwise they run at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

TYPING_PAUSE_S = 0.5  # no edit for this long: the user is not typing


class KeystrokeGaps:
    def __init__(self, app):
        self.app = app
        self.last_edit_at = 0.0  # time.monotonic() of the last edit in the editor
        self._held: list[Callable[[], None]] = []
        self._timer = None

    def typed(self) -> None:
        """The editor changed: what is held runs once this keystroke is on the screen."""
        self.last_edit_at = time.monotonic()
        if self._held:
            self.app.call_after_refresh(self.run_held)

    def run(self, update: Callable[[], None], once: bool = False) -> None:
        """Run ``update`` now, or in the next gap while the user types; with ``once``,
        not again if it is already waiting."""
        if once and update in self._held:
            return
        if time.monotonic() - self.last_edit_at >= TYPING_PAUSE_S:
            update()
            return
        self._held.append(update)
        if self._timer is None:
            self._timer = self.app.set_timer(TYPING_PAUSE_S, self.run_held)

    def run_held(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        updates, self._held = self._held, []
        if not self.app.query("#editor"):
            return  # the app is closing (an app timer can fire after the screen is gone)
        for update in updates:
            update()
