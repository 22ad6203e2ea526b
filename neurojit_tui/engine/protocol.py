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

The engine answers exactly the requests in ``REQUESTS`` (its handler table in
server.py); nothing else in the engine can be called from outside. This module loads
no MLIR, no llama.cpp and no native kernel: the UI process imports it.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar, Generic, TypeVar

from ..compiler.diagnostics import Diagnostic
from ..evolve.results import (
    BestSoFar,
    EvolutionEvent,
    EvolutionResult,
    FailedCandidate,
    GenerationEnded,
    SearchLog,
)
from ..sim.model import MOON_GRAVITY
from ..sim.report import SwarmReport

ReplyT = TypeVar("ReplyT")


class UnknownRequest(ValueError):
    """A request the engine does not answer (an unknown op, or arguments it lacks)."""


# -- converting to and from plain data -----------------------------------------------------


def to_wire(value: Any) -> Any:
    """``value`` as plain data: dataclasses as dicts of their fields, tuples as lists,
    numpy scalars and arrays (a search's numbers) as Python numbers and lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_wire(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    return value


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_wire(kind: Any, data: Any) -> Any:
    """``data`` (what ``to_wire`` made) as a value of ``kind``: a dataclass, ``X | None``,
    ``tuple[X, ...]``, ``list[X]``, ``dict[str, X]``, or plain data (numbers, strings, and
    ``Any``) as it is."""
    if data is None:
        return None
    if isinstance(kind, type) and is_dataclass(kind):
        types_of = _field_types(kind)
        return kind(**{name: from_wire(types_of[name], value) for name, value in data.items()})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        (present,) = [arg for arg in args if arg is not type(None)]  # X | None only
        return from_wire(present, data)
    if origin is tuple:
        return tuple(from_wire(args[0], item) for item in data)
    if origin is list:
        return [from_wire(args[0], item) for item in data]
    if origin is dict:
        return {key: from_wire(args[1], item) for key, item in data.items()}
    return data


# -- the kinds of message ------------------------------------------------------------------


class Request(Generic[ReplyT]):
    """A request; subclasses say their op (its name on the pipe) and their reply type:
    ``class CheckRequest(Request[CheckReply], op="check")``."""

    op: ClassVar[str]
    reply_type: ClassVar[type]

    def __init_subclass__(cls, op: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.op = op
        (cls.reply_type,) = typing.get_args(cls.__orig_bases__[0])  # type: ignore[attr-defined]


class Event:
    """Something a running request streams to its client before the reply; subclasses
    say their topic (their name on the pipe): ``class AgentToken(Event, topic="token")``."""

    topic: ClassVar[str]

    def __init_subclass__(cls, topic: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.topic = topic


# -- replies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """A request that answers nothing but that it has finished."""


@dataclass(frozen=True)
class PingReply:
    pid: int  # the engine process's


@dataclass(frozen=True)
class CheckReply:
    diagnostics: tuple[Diagnostic, ...]  # none: the program verifies


@dataclass(frozen=True)
class CompileTimings:
    parse_verify_s: float
    lower_s: float
    jit_s: float


@dataclass(frozen=True)
class CompileReply:
    diagnostics: tuple[Diagnostic, ...]
    timings: CompileTimings | None = None  # None: it did not compile

    @property
    def ok(self) -> bool:
        return self.timings is not None


@dataclass(frozen=True)
class SwarmReply:
    report: SwarmReport


@dataclass(frozen=True)
class FlyReply:
    episodes: int  # flown before the flight was stopped


@dataclass(frozen=True)
class SwapReply:
    controller: str | None  # the id now flying; None: nothing was flying (only_if_flying)


@dataclass(frozen=True)
class RepairAttempt:
    """One attempt of a repair session, as the Repair pane shows it (the prompt and the
    model's raw output stay in the engine)."""

    number: int
    tier: str
    agent: str
    seconds: float
    decision: str  # pending | accepted | rejected
    explanation: str
    diff: str
    diagnostics: tuple[Diagnostic, ...]  # the candidate's

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")


@dataclass(frozen=True)
class RepairState:
    session: int  # the number to step it with
    status: str  # in_progress | repaired | failed
    text: str  # the program as the session has it now
    diagnostics: tuple[Diagnostic, ...]
    attempts: tuple[RepairAttempt, ...]


@dataclass(frozen=True)
class SynthesizedCandidate:
    path: str  # where the engine wrote the program
    report: SwarmReport


@dataclass(frozen=True)
class SynthesizeReply:
    status: str  # ok | failed
    seconds: float
    cache: str  # miss (the models wrote it), l1 or l2 (memory answered)
    best_source: str | None  # the program the run kept; None: nothing flew
    candidates: tuple[SynthesizedCandidate, ...]  # best first
    cancelled: bool


@dataclass(frozen=True)
class EvolveReply:
    result: EvolutionResult | None  # None: the search did not start (``refused`` says why)
    # why not: the Gymnasium environment asked for cannot be made, or its spaces do not fit
    refused: str | None = None


@dataclass(frozen=True)
class RegistryRow:
    """A key's best stored controller, as the Registry pane lists it."""

    key: str
    file: str
    scores: dict[str, Any]  # success_rate, mean_score, cvar10_score, ...
    strategy: dict[str, Any] | None
    condition: dict[str, Any]  # gravity, turbulence, ...
    created: float  # time.time() when it was stored
    source: str


@dataclass(frozen=True)
class RegistryListing:
    entries: tuple[RegistryRow, ...]  # best first


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
class CheckRequest(Request[CheckReply], op="check"):
    text: str
    path: str
    controller: bool = True  # hold it to the controller ABI


@dataclass(frozen=True)
class CompileRequest(Request[CompileReply], op="compile"):
    text: str
    path: str


@dataclass(frozen=True)
class SwarmRequest(Request[SwarmReply], op="swarm"):
    text: str
    path: str
    agents: int = 100
    seed: int = 0
    gravity: float = MOON_GRAVITY
    turbulence: float = 1.0
    timeout_s: float | None = None


@dataclass(frozen=True)
class FlyRequest(Request[FlyReply], op="fly"):
    """Fly landers one after another (agent 0, 1, ...) with the program, streaming a
    ``LanderFrame`` per step at ``fps``, until ``StopFlightRequest`` or another
    ``FlyRequest`` (or ``episodes`` episodes, if not 0)."""

    text: str
    path: str
    seed: int = 0
    gravity: float = MOON_GRAVITY
    turbulence: float = 1.0
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
class SynthesizeRequest(Request[SynthesizeReply], op="synthesize"):
    """reasoning -> synthesis -> repair -> swarm for ``candidates`` programs (known
    conditions come from the registry without any model), streaming ``AgentToken`` and
    a ``LogLine`` per step."""

    gravity: float = MOON_GRAVITY
    turbulence: float = 1.0
    candidates: int = 2
    agents_in_swarm: int = 100
    seed: int = 0
    use_registry: bool = True
    agents: dict[str, Any] | None = None


@dataclass(frozen=True)
class EvolveRequest(Request[EvolveReply], op="evolve"):
    """Evolve controllers from ``text`` (if not empty), the samples and the registry's
    controllers for nearby conditions (those two unless ``with_default_seeds`` is off),
    streaming ``EvolutionProgress`` and, with ``use_llm``, ``AgentToken``. A
    ``CancelRequest`` stops it with the best so far. With ``env_id`` the environment is
    made first: one it cannot make is a refused reply, not an error."""

    text: str | None = None
    path: str | None = None
    gravity: float = MOON_GRAVITY
    turbulence: float = 1.0
    budget_s: float | None = 60.0
    generations: int | None = None
    evaluations: int | None = None  # EvolveOptions.evaluations
    population: int = 4
    islands: int = 2
    seed: int = 0
    use_llm: bool = True
    llm_mode: str = "guide"  # EvolveOptions.llm_mode
    agents: dict[str, Any] | None = None
    with_default_seeds: bool = True
    # a Gymnasium environment that chooses and validates (EvolveOptions.env_id, env_args:
    # its id and gymnasium.make arguments); None: the native swarm alone
    env_id: str | None = None
    env_args: tuple[tuple[str, Any], ...] = ()
    objective: str = "landed"  # EvolveOptions.objective: "landed" or "return"


@dataclass(frozen=True)
class RegistryListRequest(Request[RegistryListing], op="registry_ls"):
    pass


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


@dataclass(frozen=True)
class AgentToken(Event, topic="token"):
    agent: str  # reasoning | synthesis
    text: str


@dataclass(frozen=True)
class LogLine(Event, topic="log"):
    """A step of the synthesis pipeline."""

    line: str


@dataclass(frozen=True)
class EvolutionProgress(Event, topic="evolution"):
    """One of the search's events, in the field of its kind, the others None (a field per
    kind rather than one of the union type, so that ``from_wire`` knows its type). The
    engine gives a tuned seed's ``BestSoFar`` the seed as written in ``parent_text``."""

    generation: GenerationEnded | None = None
    best: BestSoFar | None = None
    failure: FailedCandidate | None = None
    log: SearchLog | None = None

    @classmethod
    def of(cls, event: EvolutionEvent) -> EvolutionProgress:
        """The message that carries ``event``."""
        if isinstance(event, GenerationEnded):
            return cls(generation=event)
        if isinstance(event, BestSoFar):
            return cls(best=event)
        if isinstance(event, FailedCandidate):
            return cls(failure=event)
        return cls(log=event)


REQUESTS: dict[str, type[Request[Any]]] = {
    request.op: request
    for request in (
        PingRequest,
        CheckRequest,
        CompileRequest,
        SwarmRequest,
        FlyRequest,
        SwapRequest,
        StopFlightRequest,
        RepairStartRequest,
        RepairStepRequest,
        SynthesizeRequest,
        EvolveRequest,
        RegistryListRequest,
        FlushRequest,
        CancelRequest,
        ShutdownRequest,
        DebugSegfaultRequest,
        DebugHangRequest,
    )
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
