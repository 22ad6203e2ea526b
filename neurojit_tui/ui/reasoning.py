"""The agent reasoning stream: tokens from both agents as they arrive, with tokens/s.

Escape here (F4 anywhere) stops the agents: generation ends at the next token."""

from __future__ import annotations

import time

from textual.widgets import RichLog


class ReasoningPane(RichLog):
    BINDINGS = [("escape", "app.cancel_agents", "Stop agents")]

    def __init__(self, **kwargs):
        super().__init__(wrap=True, markup=False, **kwargs)
        self.current: str | None = None
        self.started = 0.0
        self.count = 0
        self.line = ""
        self.shown_at = 0.0

    def token(self, agent: str, text: str) -> None:
        if agent != self.current:
            self.flush_line()
            self.current, self.started, self.count = agent, time.perf_counter(), 0
            self.write(f"[{agent}]")
        self.count += 1
        self.line += text
        if "\n" in self.line:
            *done, self.line = self.line.split("\n")
            for row in done:
                self.write(row)
        now = time.perf_counter()
        elapsed = now - self.started
        # the rate at most 4 times a second: a border repaint per token is wasted work
        if elapsed > 0 and (now - self.shown_at > 0.25 or self.count == 1):
            self.shown_at = now
            self.border_subtitle = f"{agent}: {self.count / elapsed:.1f} tok/s"

    def flush_line(self) -> None:
        if self.line:
            self.write(self.line)
            self.line = ""
