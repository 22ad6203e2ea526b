"""The Reasoning pane: tokens from both agents as they arrive, with tokens/s, and the
synthesis (Shift+F9) that makes them.

Escape here (F4 anywhere) stops the agents: generation ends at the next token.

Finished lines are written to the log at most every ``WRITE_EVERY_S``: each write
scrolls the log and repaints the pane, and a keystroke arriving meanwhile waits for it.

A synthesis runs reasoning -> synthesis -> repair -> swarm in the engine (memory
first); when it ends, ``Synthesized`` carries its candidates (their programs read on
the worker thread) to the app, which puts them in the Swarm pane, and the pane asks for
the best in the editor (``OpenProgram``) and the registry listed again (it may have
stored the best).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from textual import on
from textual.message import Message
from textual.widgets import RichLog

from ..engine.protocol import AgentToken, CancelRequest, LogLine, SynthesizeReply, SynthesizeRequest
from ..sim.model import Environment
from .engine_jobs import EngineJobs
from .results import OpenProgram, RegistryUpdated, SwarmRun

WRITE_EVERY_S = 0.25


def read_candidate(path: str) -> str:
    """A candidate program the engine wrote; "" if it cannot be read (its row still
    shows its scores)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def synthesize_request(candidates: int, conditions: Environment) -> SynthesizeRequest:
    """The engine's request for ``candidates`` programs for ``conditions``."""
    return SynthesizeRequest(conditions, candidates=candidates)


class ReasoningPane(RichLog):
    BINDINGS = [("escape", "app.cancel_agents", "Stop agents")]

    @dataclass
    class TokenArrived(Message, bubble=False):
        agent: str  # reasoning | synthesis | pipeline
        text: str

    @dataclass
    class Synthesized(Message):
        """A synthesis ended; its candidates, flown, best first."""

        reply: SynthesizeReply
        runs: tuple[SwarmRun, ...]

    @dataclass
    class Stopping(Message, bubble=False):
        jobs: int  # agent jobs told to stop

    def __init__(self, jobs: EngineJobs, **kwargs):
        super().__init__(wrap=True, markup=False, **kwargs)
        self.jobs = jobs
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

    # -- the stream -------------------------------------------------------------------------

    def receive(self, event: AgentToken | LogLine) -> None:
        """From the engine client's reader thread: every token is shown (none replaced)."""
        if isinstance(event, LogLine):
            self.post_message(self.TokenArrived("pipeline", event.line + "\n"))
        else:
            self.post_message(self.TokenArrived(event.agent, event.text))

    @on(TokenArrived)
    def show_token(self, message: TokenArrived) -> None:
        self.token(message.agent, message.text)

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

    def narrate(self, source: str, lines: Iterable[str], ended: bool = False) -> None:
        """Finished lines from ``source`` (an evolution's progress); ``ended``: its run is
        over, so everything received is written."""
        for line in lines:
            self.note(source, line)
        if ended:
            self.flush_line()

    def flush_line(self) -> None:
        """Write everything received, the unfinished line too (a run ended)."""
        if self.line:
            self.pending.append(self.line)
            self.line = ""
        self.write_pending()

    # -- the synthesis and stopping the agents ----------------------------------------------

    def synthesize(self, candidates: int, conditions: Environment) -> None:
        """``candidates`` programs for ``conditions`` (or memory's for them)."""
        self.border_subtitle = "synthesizing (F4 stops)"
        request = synthesize_request(candidates, conditions)
        self.jobs.start(partial(self._synthesize, request), "synthesize")

    def _synthesize(self, request: SynthesizeRequest) -> None:  # a worker thread
        reply = self.jobs.call(request)
        if reply is not None:
            runs = tuple(
                SwarmRun(Path(c.path).name, c.report, read_candidate(c.path))
                for c in reply.candidates
            )
            self.post_message(self.Synthesized(reply, runs))

    @on(Synthesized)
    def show_synthesis_outcome(self, message: Synthesized) -> None:
        self.app.between_keystrokes(partial(self._show_outcome, message.reply))

    def _show_outcome(self, reply: SynthesizeReply) -> None:
        self.flush_line()
        if reply.best_source is None:
            self.border_subtitle = "cancelled" if reply.cancelled else "no candidate flew"
            self.notify(self.border_subtitle, severity="warning")
        else:
            self.border_subtitle = f"best from {synthesis_source(reply)} in {reply.seconds:.1f} s"
            origin = f"the best controller from {synthesis_source(reply)}"
            self.post_message(OpenProgram(reply.best_source, origin))
            self.post_message(RegistryUpdated())

    def stop_agents(self) -> None:
        self.jobs.start(self._stop_agents, "cancel")

    def _stop_agents(self) -> None:  # a worker thread
        reply = self.jobs.call(CancelRequest(), timeout=30)
        if reply is not None:
            self.post_message(self.Stopping(reply.cancelled))

    @on(Stopping)
    def say_stopping(self, message: Stopping) -> None:
        self.notify(f"stopping {message.jobs} agent job(s)")


def synthesis_source(reply: SynthesizeReply) -> str:
    """Where a synthesis's best came from, for people."""
    return "the models" if reply.cache == "miss" else f"memory ({reply.cache.upper()})"
