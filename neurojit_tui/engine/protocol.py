"""What the UI (and the language server) and the engine process say to each other.

One frozen dataclass per request, per reply and per event. A request names its reply
type (``CheckRequest`` is a ``Request[CheckReply]``), so ``EngineClient.call(request)``
returns that reply; an event is something a running request streams before its reply
(lander frames, agent tokens, log lines, an evolution's progress). Dicts exist only on
the pipe: ``to_wire`` turns a value into plain data (dicts, lists, numbers, strings)
and ``from_wire`` turns it back into its type, by the type's annotations.

Messages on the pipe (pickled by multiprocessing)::

    request  {"id": n, "op": Request.op, "args": to_wire(request)}
    event    {"id": n, "event": Event.topic, "data": to_wire(event)}
    reply    {"id": n, "ok": True, "result": to_wire(reply)}
             {"id": n, "ok": False, "error": text, "traceback": text}

The requests of the user's operations (check, compile, swarm, evolve) live with their
command in ``commands/`` (the command line runs the same ones), as do ``Request``,
``Event`` and the wire conversions; this module names them all. The engine answers
exactly the requests in ``REQUESTS`` (its handler table in server.py); nothing else in
the engine can be called from outside. This module loads
no MLIR, no llama.cpp and no native kernel: the UI process imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..commands import BY_REQUEST
from ..commands.base import (
    AgentToken,
    Event,
    LogLine,
    Request,
    UnknownRequest,
    from_wire,
    to_wire,
)
from ..commands.check import CheckReply, CheckRequest
from ..commands.compile import CompileReply, CompileRequest, CompileTimings
from ..commands.evolve import EvolutionProgress, EvolveReply, EvolveRequest
from ..commands.registry import RegistryListing, RegistryListRequest, RegistryRow
from ..commands.repair import RepairAttempt, RepairReply, RepairRequest
from ..commands.swarm import SwarmReply, SwarmRequest
from ..commands.synthesize import SynthesizedCandidate, SynthesizeReply, SynthesizeRequest
from ..compiler.diagnostics import Diagnostic
from ..sim.model import Environment

__all__ = [
    "AgentToken",
    "CheckReply",
    "CheckRequest",
    "CompileReply",
    "CompileRequest",
    "CompileTimings",
    "EvolutionProgress",
    "EvolveReply",
    "EvolveRequest",
    "Event",
    "LogLine",
    "RegistryListRequest",
    "RegistryListing",
    "RegistryRow",
    "RepairAttempt",
    "RepairReply",
    "RepairRequest",
    "Request",
    "SwarmReply",
    "SwarmRequest",
    "SynthesizeReply",
    "SynthesizeRequest",
    "SynthesizedCandidate",
    "UnknownRequest",
    "from_wire",
    "to_wire",
]


# -- replies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """A request that answers nothing but that it has finished."""


@dataclass(frozen=True)
class PingReply:
    pid: int  # the engine process's


@dataclass(frozen=True)
class FlyReply:
    episodes: int  # flown before the flight was stopped


@dataclass(frozen=True)
class SwapReply:
    controller: str | None  # the id now flying; None: nothing was flying (only_if_flying)


@dataclass(frozen=True)
class RepairState:
    session: int  # the number to step it with
    status: str  # in_progress | repaired | failed
    text: str  # the program as the session has it now
    diagnostics: tuple[Diagnostic, ...]
    attempts: tuple[RepairAttempt, ...]


@dataclass(frozen=True)
class FlushReply:
    flushed: bool  # False: the write-back queue did not drain in time


@dataclass(frozen=True)
class CancelReply:
    cancelled: int  # agent jobs told to stop


# -- requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PingRequest(Request[PingReply], op="ping"):
    pass


@dataclass(frozen=True)
class FlyRequest(Request[FlyReply], op="fly"):
    """Fly landers one after another (agent 0, 1, ...) with the program, streaming a
    ``LanderFrame`` per step at ``fps``, until ``StopFlightRequest`` or another
    ``FlyRequest`` (or ``episodes`` episodes, if not 0)."""

    text: str
    path: str
    seed: int = 0
    environment: Environment = field(default_factory=Environment)
    fps: float = 25.0
    episodes: int = 0
    # the client's number for this flight, echoed in its frames: frames of a flight
    # this one replaces may still be on their way, and the client can tell them apart
    flight: int = 0


@dataclass(frozen=True)
class SwapRequest(Request[SwapReply], op="swap"):
    """Compile the program and hot-swap it into the flying lander; with nothing flying
    this fails, or with ``only_if_flying`` answers ``SwapReply(None)``."""

    text: str
    path: str
    only_if_flying: bool = False


@dataclass(frozen=True)
class StopFlightRequest(Request[Done], op="stop_flight"):
    pass


@dataclass(frozen=True)
class RepairStartRequest(Request[RepairState], op="repair_start"):
    text: str
    path: str
    mode: str = "dual"  # dual | monolithic
    max_attempts: int = 6
    agents: dict[str, Any] | None = None  # per-agent config overrides, as Agents.from_config takes


@dataclass(frozen=True)
class RepairStepRequest(Request[RepairState], op="repair_step"):
    """Streams the agents' ``AgentToken`` while a step proposes."""

    session: int
    action: str  # propose | accept | reject | edit | auto
    text: str | None = None  # edit: the user's own program


@dataclass(frozen=True)
class FlushRequest(Request[FlushReply], op="flush"):
    """Wait for the registry's write-back queue to reach the disk."""


@dataclass(frozen=True)
class CancelRequest(Request[CancelReply], op="cancel"):
    """Stop every agent job running now (generation stops at the next token)."""


@dataclass(frozen=True)
class ShutdownRequest(Request[FlushReply], op="shutdown"):
    """Stop the agents, flush the registry, exit (answered by the engine's main loop)."""


@dataclass(frozen=True)
class DebugSegfaultRequest(Request[Done], op="debug_segfault"):
    """A test hook: the engine reads address 0 and dies of SIGSEGV."""


@dataclass(frozen=True)
class DebugHangRequest(Request[Done], op="debug_hang"):
    """A test hook: the engine's job sleeps, as a hung native call would."""

    seconds: float = 3600.0


# -- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LanderFrame(Event, topic="frame"):
    """One step of the live lander (state in metres, see sim/model.py)."""

    x: float
    y: float
    vx: float
    vy: float
    angle: float
    omega: float
    leg_left: float
    leg_right: float
    fuel: float
    score: float
    step: int
    agent: int
    action: tuple[float, ...]  # [main engine, lateral engine]
    controller: str  # the id of the controller that flew this step
    wind: float
    outcome: str
    done: bool
    violation: str | None = None  # a failed assert, formatted
    flight: int = 0  # the FlyRequest's ``flight``


# the engine's own requests; the commands' (check, compile, swarm, evolve, ...) come from
# their table
ENGINE_REQUESTS: tuple[type[Request[Any]], ...] = (
    PingRequest,
    FlyRequest,
    SwapRequest,
    StopFlightRequest,
    RepairStartRequest,
    RepairStepRequest,
    FlushRequest,
    CancelRequest,
    ShutdownRequest,
    DebugSegfaultRequest,
    DebugHangRequest,
)
REQUESTS: dict[str, type[Request[Any]]] = {
    request.op: request for request in (*BY_REQUEST, *ENGINE_REQUESTS)
}
EVENTS: dict[str, type[Event]] = {
    event.topic: event for event in (LanderFrame, AgentToken, LogLine, EvolutionProgress)
}


# -- messages on the pipe ------------------------------------------------------------------


def request_message(request_id: int, request: Request[Any]) -> dict[str, Any]:
    return {"id": request_id, "op": request.op, "args": to_wire(request)}


def read_request(message: dict[str, Any]) -> Request[Any]:
    """The request in ``message``; ``UnknownRequest`` if the engine does not answer it."""
    kind = REQUESTS.get(str(message.get("op")))
    if kind is None:
        raise UnknownRequest(f"unknown engine request {message.get('op')!r}")
    try:
        request: Request[Any] = from_wire(kind, message.get("args") or {})
        return request
    except TypeError as error:
        raise UnknownRequest(f"bad arguments for {kind.op}: {error}") from None


def event_message(request_id: int, event: Event) -> dict[str, Any]:
    return {"id": request_id, "event": event.topic, "data": to_wire(event)}


def read_event(message: dict[str, Any]) -> Event:
    event: Event = from_wire(EVENTS[message["event"]], message["data"])
    return event
