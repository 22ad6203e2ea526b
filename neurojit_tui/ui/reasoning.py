"""The agent reasoning stream: tokens from both agents as they arrive, with tokens/s.

Escape here (F4 anywhere) stops the agents: generation ends at the next token.

Finished lines are written to the log at most every ``WRITE_EVERY_S``: each write
scrolls the log and repaints the pane (~12 ms at 200x60 under load), and a keystroke
arriving meanwhile waits for it."""

from __future__ import annotations

import time

from textual.widgets import RichLog

WRITE_EVERY_S = 0.25


class ReasoningPane(RichLog):
    BINDINGS = [("escape", "app.cancel_agents", "Stop agents")]

    def __init__(self, **kwargs):
        super().__init__(wrap=True, markup=False, **kwargs)
        self.current: str | None = None
        self.started = 0.0
        self.count = 0
        self.line = ""
        self.shown_at = 0.0
        self.pending: list[str] = []  # finished lines not yet written

    def on_mount(self) -> None:
        self.set_interval(WRITE_EVERY_S, self.write_pending)

    def write_pending(self) -> None:
        if self.pending:
            self.write("\n".join(self.pending))
            self.pending = []

    def token(self, agent: str, text: str) -> None:
        if agent != self.current:
            self.flush_line()
            self.current, self.started, self.count = agent, time.perf_counter(), 0
            self.pending.append(f"[{agent}]")
        self.count += 1
        self.line += text
        if "\n" in self.line:
            *done, self.line = self.line.split("\n")
            self.pending.extend(done)
        now = time.perf_counter()
        elapsed = now - self.started
        # the rate at most 4 times a second: a border repaint per token is wasted work
        if elapsed > 0 and (now - self.shown_at > 0.25 or self.count == 1):
            self.shown_at = now
            self.border_subtitle = f"{agent}: {self.count / elapsed:.1f} tok/s"

    def note(self, source: str, line: str) -> None:
        """A finished line from ``source`` that is not model output (an evolution's
        progress): labelled like the agents' tokens, without a rate."""
        if source != self.current:
            self.flush_line()
            self.current = source
            self.pending.append(f"[{source}]")
        self.pending.append(line)

    def flush_line(self) -> None:
        """Write everything received, the unfinished line too (a run ended)."""
        if self.line:
            self.pending.append(self.line)
            self.line = ""
        self.write_pending()
