"""The engine process: the only process that loads MLIR, the JIT and llama.cpp.

It answers requests from ``EngineClient`` over a pipe (``protocol.py`` has every
request, reply and event). Native code fed untrusted input (user IR, model output,
generated controllers) runs here, so a segfault, an abort or a hang kills or stalls
this process only; the client notices, reports it and starts a new one. Requests run
on worker threads (one MLIR compiler per thread: a ``Compiler`` is not thread-safe), so
a quick request is answered while a long one runs.

Each request type has one handler, in the table ``Handlers.table`` builds; a request the
table does not name is refused, so no other method of the engine can be called from
outside.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..commands import BY_REQUEST
from ..commands.base import Emit, no_events
from . import protocol as p
from .protocol import Event, Request

if TYPE_CHECKING:  # the engine loads the agents (and MLIR) only when a request needs them
    from multiprocessing.connection import Connection

    from ..agents import Agents
    from ..agents.repair import RepairSession
    from ..compiler import Compiler
    from ..memory import Registry

_local = threading.local()
LOG_LIMIT_BYTES = 5 * 2**20
ReplyT = TypeVar("ReplyT")


def _compiler() -> Compiler:
    if getattr(_local, "compiler", None) is None:
        from ..compiler import Compiler

        _local.compiler = Compiler()
    compiler: Compiler = _local.compiler
    return compiler


class Handlers:
    """One handler per request type: ``handler(request, emit) -> reply``, where ``emit``
    streams events to the client that made the request. The user's operations are their
    commands' ``run`` (``commands.BY_REQUEST``), with these handlers as their context
    (``commands.base.Context``: a compiler per thread, the registry, the agents)."""

    def __init__(self) -> None:
        self._flight: dict[str, Any] | None = None  # the live lander: slot, stop, versions
        self._flight_lock = threading.Lock()
        self._agents: Agents | None = None
        self._sessions: dict[int, RepairSession] = {}  # repair sessions by number
        self._registry: Registry | None = None
        self._registries: dict[str, Registry] = {}  # others than the default, by folder
        self._registry_lock = threading.Lock()
        # set by ``cancel``: agents stop generating (one event per agent job, so a cancel
        # ends the jobs running now and not the next one)
        self._cancels: set[threading.Event] = set()

    def table(self) -> dict[type[Request[Any]], Callable[[Any, Emit], Any]]:
        """What the engine answers: the request types and their handlers."""
        commands = {
            request: functools.partial(command.run, context=self)
            for request, command in BY_REQUEST.items()
        }
        return commands | {
            p.PingRequest: self.ping,
            p.FlyRequest: self.fly,
            p.SwapRequest: self.swap,
            p.StopFlightRequest: self.stop_flight,
            p.RepairStartRequest: self.repair_start,
            p.RepairStepRequest: self.repair_step,
            p.FlushRequest: self.flush,
            p.CancelRequest: self.cancel,
            p.DebugSegfaultRequest: self.debug_segfault,
            p.DebugHangRequest: self.debug_hang,
        }

    def answer(self, request: Request[ReplyT], emit: Emit) -> ReplyT:
        """``request``'s reply, from its handler in the table."""
        reply: ReplyT = self.table()[type(request)](request, emit)
        return reply

    def ping(self, request: p.PingRequest, emit: Emit) -> p.PingReply:
        return p.PingReply(os.getpid())

    # -- the commands' context (commands.base.Context) --------------------------------------

    def compiler(self) -> Compiler:
        return _compiler()

    def agents(self, overrides: dict[str, Any] | None) -> Agents:
        return self._agents_for(overrides)

    @contextlib.contextmanager
    def cancellation(self) -> Iterator[threading.Event]:
        """Set by a ``CancelRequest`` while the work runs."""
        cancel = self._cancel_event()
        try:
            yield cancel
        finally:
            self._cancels.discard(cancel)

    # -- the live lander ----------------------------------------------------------------

    def fly(self, request: p.FlyRequest, emit: Emit) -> p.FlyReply:
        """Replaces the flight in the air, if any (see FlyRequest)."""
        import time

        from ..compiler import ControllerSlot
        from ..sim import LiveLander

        path = request.path
        program = _compiler().compile(request.text, path, require_control=True)
        slot = ControllerSlot(program, f"{path}#1")
        stop = threading.Event()
        with self._flight_lock:
            if self._flight is not None:
                self._flight["stop"].set()
            self._flight = {"slot": slot, "stop": stop, "versions": 1, "path": path}
        env = request.environment
        agent, flown = 0, 0
        while not stop.is_set():
            lander = LiveLander(slot, env, seed=request.seed, agent=agent)
            for frame in lander.frames():
                if stop.is_set():
                    break
                state = frame.state
                emit(
                    p.LanderFrame(
                        state["x"],
                        state["y"],
                        state["vx"],
                        state["vy"],
                        state["angle"],
                        state["omega"],
                        state["leg_left"],
                        state["leg_right"],
                        state["fuel"],
                        state["score"],
                        frame.step,
                        agent,
                        tuple(frame.action),
                        frame.controller_id,
                        frame.wind,
                        frame.outcome,
                        frame.done,
                        frame.violation.format() if frame.violation else None,
                        request.flight,
                    )
                )
                time.sleep(1.0 / request.fps)
            flown += 1
            if request.episodes and flown >= request.episodes:
                break
            stop.wait(1.0)  # show the outcome for a moment
            agent += 1
        return p.FlyReply(flown)

    def swap(self, request: p.SwapRequest, emit: Emit) -> p.SwapReply:
        with self._flight_lock:
            flight = self._flight
        if flight is None or flight["stop"].is_set():
            if request.only_if_flying:
                return p.SwapReply(None)
            raise RuntimeError("no lander is flying (start one first)")
        program = _compiler().compile(request.text, request.path, require_control=True)
        flight["versions"] += 1
        controller_id = f"{request.path}#{flight['versions']}"
        flight["slot"].swap(program, controller_id)
        return p.SwapReply(controller_id)

    def stop_flight(self, request: p.StopFlightRequest, emit: Emit) -> p.Done:
        with self._flight_lock:
            if self._flight is not None:
                self._flight["stop"].set()
                self._flight = None
        return p.Done()

    # -- repair sessions (the UI's repair stepper) -------------------------------------------

    def _agents_for(self, overrides: dict[str, Any] | None) -> Agents:
        if self._agents is None or overrides:
            from ..agents import Agents

            self._agents = Agents.from_config(overrides)
        return self._agents

    @staticmethod
    def _token_stream(emit: Emit) -> Callable[[str, str], None]:
        """``on_token(role, piece)`` (as the agents call it) that streams ``AgentToken``."""
        return lambda role, piece: emit(p.AgentToken(role, piece))

    def _cancel_event(self) -> threading.Event:
        event = threading.Event()
        self._cancels.add(event)
        return event

    def cancel(self, request: p.CancelRequest, emit: Emit) -> p.CancelReply:
        cancelled = len(self._cancels)
        for event in list(self._cancels):
            event.set()
        return p.CancelReply(cancelled)

    def repair_start(self, request: p.RepairStartRequest, emit: Emit) -> p.RepairState:
        from ..agents import RepairSession

        team = self._agents_for(request.agents)
        session = RepairSession(
            request.text,
            request.path,
            team.synthesis,
            team.reasoning,
            mode=request.mode,
            max_attempts=request.max_attempts,
            compiler=_compiler(),
            cancel=self._cancel_event(),
        )
        number = len(self._sessions) + 1
        self._sessions[number] = session
        return self._session_state(number, session)

    @staticmethod
    def _session_state(number: int, session: RepairSession) -> p.RepairState:
        return p.RepairState(
            number,
            session.status,
            session.text,
            tuple(session.diagnostics),
            tuple(p.RepairAttempt.of(a) for a in session.attempts),
        )

    def repair_step(self, request: p.RepairStepRequest, emit: Emit) -> p.RepairState:
        repair = self._sessions[request.session]
        repair.on_token = self._token_stream(emit)
        if (
            repair.cancel is not None and repair.cancel.is_set()
        ):  # a cancel ends the step it hit, not the session
            self._cancels.discard(repair.cancel)
            repair.cancel = self._cancel_event()
        steps = {
            "propose": repair.propose,
            "accept": repair.accept,
            "reject": repair.reject,
            "edit": lambda: repair.edit_and_retry(request.text or ""),
            "auto": repair.auto,
        }
        if request.action not in steps:
            raise ValueError(f"unknown repair action {request.action!r}")
        steps[request.action]()
        return self._session_state(request.session, repair)

    # -- synthesis and the registry (the Reasoning, Swarm and Registry panes) ----------------

    def registry(self, path: str | None = None) -> Registry:
        """The L1/L2 registry (``~/.neurojit/registry`` or $NEUROJIT_REGISTRY; or the one
        at ``path``), opened once. A stored object that no longer loads is recompiled with
        this thread's compiler."""
        from ..memory import Registry, rebuild_with

        def rebuild(source: str, file: str) -> Any:
            return rebuild_with(_compiler())(source, file)

        with self._registry_lock:
            if path is not None:
                if path not in self._registries:
                    self._registries[path] = Registry(path, rebuild=rebuild)
                return self._registries[path]
            if self._registry is None:
                self._registry = Registry(rebuild=rebuild)
            return self._registry

    def flush(self, request: p.FlushRequest, emit: Emit) -> p.FlushReply:
        registries = [self._registry, *self._registries.values()]
        return p.FlushReply(all([r.flush() for r in registries if r is not None]))

    # Test hooks: the crash-survival tests need a request that kills or stalls native code.
    def debug_segfault(self, request: p.DebugSegfaultRequest, emit: Emit) -> p.Done:
        import ctypes

        ctypes.string_at(0)  # reads address 0: SIGSEGV
        return p.Done()

    def debug_hang(self, request: p.DebugHangRequest, emit: Emit) -> p.Done:
        import time

        time.sleep(request.seconds)
        return p.Done()


def _redirect_stderr(path: str) -> None:
    """Native libraries (llama.cpp, LLVM) write to file descriptor 2 directly; under the
    workstation that is the user's terminal, and their output would draw over the screen.
    Send it to a log file instead (appended: a crash report survives the restart)."""
    import sys

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if os.path.exists(path) and os.path.getsize(path) > LOG_LIMIT_BYTES:
        os.replace(path, path + ".1")  # keep one old log, not an ever-growing one
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 2)
    os.close(log)
    sys.stderr = open(2, "w", buffering=1, closefd=False)


def _lower_priority(niceness: int, idle: bool) -> None:
    """Lower the CPU priority of every thread of this process. On Linux both are
    per-thread and inherited only by threads created later, and some exist already
    (numpy's OpenBLAS starts its pool on import): each one is set by its id."""
    if not niceness and not idle:
        return
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]  # no /proc: this thread, and those it starts
    for tid in threads:
        try:
            if niceness:
                os.setpriority(
                    os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness
                )
            if idle and hasattr(os, "SCHED_IDLE"):
                os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass  # the thread has ended since


def serve(
    connection: Connection,
    stderr_path: str | None = None,
    niceness: int = 0,
    idle_priority: bool = False,
) -> None:
    """The engine's main loop (runs in the child process). ``niceness`` lowers its CPU
    priority (and that of every thread it starts: llama.cpp's, the swarm's) so the UI
    process gets a core the moment it needs one, even while inference fills them all;
    ``idle_priority`` goes further (SCHED_IDLE, also inherited by every thread)."""
    if stderr_path:
        _redirect_stderr(stderr_path)
    _lower_priority(niceness, idle_priority)
    send_lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with send_lock:
            connection.send(message)

    handlers = Handlers()
    table = handlers.table()

    def run(request_id: int, request: Request[Any]) -> None:
        def emit(event: Event) -> None:
            send(p.event_message(request_id, event))

        try:
            reply = table[type(request)](request, emit)
            send({"id": request_id, "ok": True, "result": p.to_wire(reply)})
        except Exception as error:  # reported to the client; the engine keeps serving
            send(
                {
                    "id": request_id,
                    "ok": False,
                    "error": f"{type(error).__name__}: {error}",
                    "traceback": traceback.format_exc(),
                }
            )

    def refuse(request_id: int, error: Exception) -> None:
        send(
            {
                "id": request_id,
                "ok": False,
                "error": f"{type(error).__name__}: {error}",
                "traceback": "",
            }
        )

    def stop_and_flush() -> p.FlushReply:
        handlers.cancel(p.CancelRequest(), no_events)  # agents stop at their next token
        return handlers.flush(p.FlushRequest(), no_events)

    # Not a ``with`` block: leaving one waits for every running job, and a swarm or a
    # generation must not hold up the exit once the registry is safe on disk.
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="engine-job")
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            stop_and_flush()  # the client went away (the UI died): keep what was learned
            os._exit(0)
        try:
            request = p.read_request(message)
        except p.UnknownRequest as error:
            refuse(message.get("id", 0), error)
            continue
        if isinstance(request, p.ShutdownRequest):
            flushed = stop_and_flush()  # the registry's pending writes reach the disk
            send({"id": message["id"], "ok": True, "result": p.to_wire(flushed)})
            connection.close()
            os._exit(0)
        if type(request) not in table:
            refuse(message["id"], p.UnknownRequest(f"unknown engine request {request.op!r}"))
            continue
        pool.submit(run, message["id"], request)
