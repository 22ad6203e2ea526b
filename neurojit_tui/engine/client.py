"""The UI side of the engine: start it, talk to it, survive it.

``EngineClient.call(request)`` sends a request (a ``protocol`` dataclass) and waits for
its reply, typed by the request (``call(CheckRequest(...))`` is a ``CheckReply``); call
it from a worker thread, never from the UI's event loop. A reader thread matches replies
to callers and hands streamed events to ``on_event``. When the engine process dies
(segfault, abort, kill), every call in flight fails with ``EngineCrashed`` naming the
signal, and the next call starts a fresh engine; a call that outlives its ``timeout``
kills the (hung) engine and fails with ``EngineTimeout``. The client imports neither
MLIR nor llama.cpp.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_ready
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from . import protocol
from .protocol import Event, Request, ShutdownRequest

ReplyT = TypeVar("ReplyT")


SHUTDOWN_S = 35.0  # the registry's flush may take up to 30 s


class EngineError(Exception):
    """The engine answered, and the request failed (a Python error in a handler)."""


class EngineCrashed(Exception):
    """The engine process died while the request was in flight."""


class EngineTimeout(Exception):
    """The request took longer than its time-out; the engine was restarted."""


def _running(process: BaseProcess | None) -> bool:
    """Whether the process is still running, asked through its sentinel (a pipe the child's
    exit closes), which never reaps it. ``Process.is_alive()`` reaps, and when another thread
    reaps the same child at that moment it says True for a dead process."""
    return process is not None and not wait_ready([process.sentinel], timeout=0)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


@contextlib.contextmanager
def _real_stderr() -> Iterator[None]:
    """multiprocessing hands ``sys.stderr``'s file descriptor to its helper process; a
    Textual app replaces ``sys.stderr`` with an object without one, which makes starting
    a process fail. Use the real stderr for that moment."""
    saved = sys.stderr
    try:
        if saved.fileno() >= 0:
            yield
            return
    except (AttributeError, OSError, ValueError):
        pass
    sys.stderr = sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = saved


class EngineClient:
    def __init__(
        self,
        on_event: Callable[[int, Event], None] | None = None,
        on_restart: Callable[[str], None] | None = None,
        stderr_path: str | None = None,
        niceness: int = 0,
        idle_priority: bool = False,
    ) -> None:
        """``on_event(request_id, event)`` gets streamed events (frames, tokens...), on
        the reader thread;
        ``on_restart(reason)`` is told whenever a crashed engine is replaced;
        ``stderr_path``: where the engine's native libraries write (default: inherited);
        ``niceness``: how much lower the engine's CPU priority is than this process's;
        ``idle_priority``: the engine runs only on CPU time nothing else wants
        (SCHED_IDLE: any other process that wakes up takes the core at once)."""
        self.on_event = on_event
        self.stderr_path = stderr_path
        self.niceness = niceness
        self.idle_priority = idle_priority
        self.on_restart = on_restart
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[Future[Any], type]] = {}  # id -> (future, reply type)
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._reader: threading.Thread | None = None
        self.restarts = 0
        self.last_crash: str | None = None

    # -- process ---------------------------------------------------------------------------

    def start(self) -> EngineClient:
        with self._lock:
            self._start_locked()
        return self

    def _start_locked(self) -> None:
        from .server import serve

        context = multiprocessing.get_context("spawn")  # a clean process: no inherited threads
        parent, child = context.Pipe()
        process = context.Process(
            target=serve,
            args=(child, self.stderr_path, self.niceness, self.idle_priority),
            name="neurojit-engine",
            daemon=True,
        )
        with _real_stderr():
            process.start()
        child.close()
        self._process, self._connection = process, parent
        self._reader = threading.Thread(
            target=self._read, args=(process, parent), name="engine-reader", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def alive(self) -> bool:
        return _running(self._process)

    def _read(self, process: BaseProcess, connection: Connection) -> None:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                break
            if "event" in message:
                if self.on_event:
                    self.on_event(message["id"], protocol.read_event(message))
                continue
            with self._lock:
                future, reply_type = self._pending.pop(message["id"], (None, None))
            if future is None:
                continue
            if message["ok"]:
                future.set_result(protocol.from_wire(reply_type, message["result"]))
            else:
                future.set_exception(EngineError(message["error"]))
        process.join(timeout=5)  # only this thread reaps the engine
        with self._lock:
            failed = self._retire_locked(process, describe_exit(process.exitcode))
        self._fail(failed)

    def _retire_locked(
        self, process: BaseProcess | None, reason: str
    ) -> list[tuple[Future[Any], str]]:
        """Forget a dead engine and hand back the calls that were waiting on it, to fail
        once the lock is released. Whoever sees the death first (the reader thread, a
        time-out, or a call that finds the engine gone) retires it; the others find it
        already replaced and do nothing."""
        if process is None or process is not self._process:
            return []
        self.last_crash = reason
        failed, self._pending = self._pending, {}
        self._process = self._connection = None
        return [(future, reason) for future, _ in failed.values()]

    @staticmethod
    def _fail(failed: list[tuple[Future[Any], str]]) -> None:
        for future, reason in failed:
            if not future.done():
                future.set_exception(EngineCrashed(f"the engine {reason}; it will be restarted"))

    def kill(self) -> None:
        process = self._process
        if process is not None and _running(process):
            process.kill()

    def close(self) -> None:
        with self._lock:
            process, connection = self._process, self._connection
        if process is None or connection is None:
            return
        try:
            connection.send(protocol.request_message(0, ShutdownRequest()))
        except (OSError, BrokenPipeError):
            pass
        process.join(timeout=SHUTDOWN_S)  # the engine flushes the registry first
        if process.is_alive():
            process.kill()
            process.join(timeout=3)

    # -- requests --------------------------------------------------------------------------

    def submit(self, request: Request[ReplyT]) -> tuple[int, Future[ReplyT]]:
        """Send ``request``; its id (events name it) and the future of its reply."""
        future: Future[ReplyT] = Future()
        reader = self._reader
        if self._process is not None and not _running(self._process) and reader is not None:
            reader.join(timeout=5)  # let it retire the dead engine, naming how it died
        with self._lock:
            failed = []
            if not _running(self._process):
                failed = self._retire_locked(self._process, "stopped")
                if self.last_crash is not None:
                    self.restarts += 1
                    if self.on_restart:
                        self.on_restart(self.last_crash)
                self._start_locked()
            request_id = next(self._ids)
            self._pending[request_id] = (future, request.reply_type)
            connection = self._connection
        self._fail(failed)
        assert connection is not None  # _start_locked made one
        try:
            connection.send(protocol.request_message(request_id, request))
        except (OSError, BrokenPipeError):
            pass  # the reader thread fails the future when it sees the engine gone
        return request_id, future

    def call(self, request: Request[ReplyT], timeout: float | None = None) -> ReplyT:
        """Run ``request`` in the engine and return its reply (blocking)."""
        _, future = self.submit(request)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            process = self._process
            self.kill()
            if process is not None:
                wait_ready([process.sentinel], timeout=5)
                # Retired here, not later by the reader thread, so that the next call
                # starts a fresh engine instead of going to this dead one.
                with self._lock:
                    failed = self._retire_locked(
                        process, f"was stopped after {request.op} timed out"
                    )
                self._fail(failed)
            raise EngineTimeout(
                f"{request.op} took longer than {timeout:g} s; the engine was "
                f"stopped and will be restarted"
            ) from None
