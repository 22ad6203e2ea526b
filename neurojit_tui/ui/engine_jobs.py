"""The workstation's jobs in the engine: each runs on a worker thread of the app, and
its requests fail softly.

A pane starts a job with ``jobs.start(work, group)`` (one job per group at a time: a
new one cancels the one waiting before it) and, in it, asks the engine with
``jobs.call(request)``. A crashed, hung or failing engine becomes an ``EngineTrouble``
message for the app (the Diagnostics pane shows it) and the call returns None, so a
job only says what to do with a reply. Every job's worker reports its state to the
app's one ``on_worker_state_changed``. What runs in the engine now, by kind, is the
note beside the engine's load in the Cores pane.

The engine's events (frames, tokens, an evolution's progress) go to the pane that shows
them: ``routes``, which the app fills when its panes are mounted.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from textual.message import Message
from textual.worker import Worker

from ..engine import EngineClient, EngineCrashed, EngineError, EngineTimeout
from ..engine.protocol import (
    CheckRequest,
    Event,
    EvolveRequest,
    FlyRequest,
    RepairStepRequest,
    Request,
    StopFlightRequest,
    SynthesizeRequest,
)
from ..paths import neurojit_home

ReplyT = TypeVar("ReplyT")

# The engine computes on CPU time the UI does not want: SCHED_IDLE, so a keystroke takes
# a core the moment it arrives, even with inference and a swarm on every core; on a
# machine busy with other work, the engine waits for it (it never competes).
ENGINE_NICENESS = 10
ENGINE_IDLE_PRIORITY = True

# what the Cores pane calls a request the engine is running (others by their op)
ACTIVITY = {
    SynthesizeRequest: "inference",
    RepairStepRequest: "inference",
    FlyRequest: "flight",
    EvolveRequest: "evolution",
}
UNREMARKABLE = (CheckRequest,)  # one after every pause in typing: not worth a note


@dataclass
class EngineTrouble(Message):
    """A request failed: the engine crashed, hung past its time-out, or raised."""

    text: str


class EngineJobs:
    def __init__(self, app, client: EngineClient | None = None):
        self.app = app
        # the engine's native libraries log to a file, not over the screen; and it runs
        # at a lower CPU priority, so keystrokes are drawn at once while it computes
        self.log = neurojit_home() / "engine.log"
        self.client = client or EngineClient(
            on_event=self.route,
            stderr_path=str(self.log),
            niceness=ENGINE_NICENESS,
            idle_priority=ENGINE_IDLE_PRIORITY,
        )
        self.routes: dict[type[Event], Callable[[Any], None]] = {}  # event type -> receive
        self._running: Counter[type] = Counter()
        self._lock = threading.Lock()

    def route(self, request_id: int, event: Event) -> None:
        """On the engine client's reader thread: each event to the pane that shows it
        (its ``receive`` posts a message, which is safe from any thread)."""
        if self.app.terminal_gone:
            return  # nothing is left to draw them on
        receive = self.routes.get(type(event))
        if receive is not None:
            receive(event)

    def close(self) -> None:
        """The app is leaving: the engine ends its flight and exits."""
        if self.client.alive:
            self.client.submit(StopFlightRequest())  # lets the engine's flight job end
        self.client.close()  # the engine flushes the registry's write-back queue first

    def start(self, work: Callable[[], Any], group: str) -> Worker:
        """Run ``work`` on a worker thread (never on the UI's event loop)."""
        return self.app.run_worker(
            work, name=group, group=group, thread=True, exclusive=True, exit_on_error=False
        )

    def call(self, request: Request[ReplyT], timeout: float | None = None) -> ReplyT | None:
        """``request``'s reply, or None when it failed (said by an ``EngineTrouble``)."""
        with self._lock:
            self._running[type(request)] += 1
        try:
            return self.client.call(request, timeout=timeout)
        except (EngineCrashed, EngineTimeout, EngineError) as error:
            self.app.post_message(EngineTrouble(str(error)))
            return None
        finally:
            with self._lock:
                self._running[type(request)] -= 1

    def activity(self) -> str:
        """What the engine is doing, for people: "flight, inference"."""
        with self._lock:
            kinds = [
                kind
                for kind, count in self._running.items()
                if count > 0 and kind not in UNREMARKABLE
            ]
        return ", ".join(sorted({ACTIVITY.get(kind, kind.op) for kind in kinds}))

    def processes(self) -> dict[str, tuple[int | None, str]]:
        """For the Cores pane: this process and the engine, with what the engine does."""
        return {"ui": (os.getpid(), ""), "engine": (self.client.pid, self.activity())}
