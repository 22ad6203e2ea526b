"""What every command is made of, and the messages they travel in.

A command (``commands/check.py``, ``commands/evolve.py``, ...) is one user operation,
with one home: its typed request and reply, ``add_arguments(parser)`` (its command-line
flags), ``request_from(args)`` (the flags as a request), ``run(request, emit, context)``
(the operation itself) and ``present(args, request, reply)`` (the command line's text or
``--json``, and its exit status). The command line calls ``run`` in its own process; the
engine process calls the same ``run`` for the workstation's request, so the two cannot
diverge.

Requests, replies and events are frozen dataclasses; dicts exist only on the engine's
pipe: ``to_wire`` turns a value into plain data (dicts, lists, numbers, strings) and
``from_wire`` turns it back into its type, by the type's annotations. Nothing here loads
MLIR, llama.cpp or a native kernel (the UI process imports the requests): a command
imports those inside ``run``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import threading
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

ReplyT = TypeVar("ReplyT")
RequestT = TypeVar("RequestT", bound="Request[Any]")

EXIT_OK = 0
EXIT_DIAGNOSTICS = 1  # the program has errors (or the input cannot be used)
EXIT_RUNTIME = 2  # it ran, and an assert failed (or it timed out)
EXIT_USAGE_ERROR = 2  # bad arguments or input files (argparse's status too)


class UnknownRequest(ValueError):
    """A request the engine does not answer (an unknown op, or arguments it lacks)."""


class CommandError(Exception):
    """What a command refuses (a cluster that does not answer, a swarm that does not fit
    in memory, ...): one line, ``neurojit: error: MESSAGE`` and ``status`` on the command
    line, a failed reply from the engine. ``kind`` "" drops the ``error: `` (a model
    that cannot be loaded says so itself)."""

    def __init__(self, message: str, status: int = EXIT_DIAGNOSTICS, kind: str = "error") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind

    def line(self) -> str:
        return f"neurojit: {self.kind}: {self}" if self.kind else f"neurojit: {self}"


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
    ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``, ``dict[str, X]``, or plain data
    (numbers, strings, and ``Any``) as it is."""
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
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_wire(args[0], item) for item in data)
        return tuple(from_wire(arg, item) for arg, item in zip(args, data, strict=True))
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


Emit = Callable[[Event], None]  # streams an event to whoever made the request


def no_events(event: Event) -> None:
    """``emit`` for a caller that listens to no event."""


@dataclass(frozen=True)
class AgentToken(Event, topic="token"):
    agent: str  # reasoning | synthesis
    text: str


@dataclass(frozen=True)
class LogLine(Event, topic="log"):
    """A step of the synthesis pipeline."""

    line: str


# -- where a command runs ------------------------------------------------------------------


class Context(Protocol):
    """What a command's ``run`` uses of the process it runs in: the engine process
    (``engine/server.py``'s ``Handlers``, a compiler per thread, the registry opened once)
    or the command line (``LocalContext``)."""

    def compiler(self) -> Any:
        """A ``compiler.Compiler`` this thread may use."""

    def registry(self, path: str | None = None) -> Any:
        """The ``memory.Registry`` at ``path`` (None: the default one)."""

    def agents(self, overrides: dict[str, Any] | None) -> Any:
        """The LLM agents (``agents.Agents``), with these per-role config overrides."""

    def cancellation(self) -> contextlib.AbstractContextManager[threading.Event]:
        """An event that is set when the user asks the running work to stop."""


class LocalContext:
    """The command line's: one compiler, the registries it opens, agents loaded once; a
    model that cannot be loaded is a ``CommandError``. Nothing cancels (Ctrl+C does)."""

    def __init__(self) -> None:
        self._compiler: Any = None
        self._registries: dict[str | None, Any] = {}
        self._agents: Any = None

    def compiler(self) -> Any:
        if self._compiler is None:
            from ..compiler import Compiler

            self._compiler = Compiler()
        return self._compiler

    def registry(self, path: str | None = None) -> Any:
        if path not in self._registries:
            from ..memory import Registry, rebuild_with

            self._registries[path] = Registry(path, rebuild=rebuild_with(self.compiler()))
        return self._registries[path]

    def agents(self, overrides: dict[str, Any] | None) -> Any:
        if self._agents is None:
            from ..agents import Agents, ModelError

            try:
                self._agents = Agents.from_config(overrides)
            except ModelError as error:
                raise CommandError(str(error), kind="") from None
        return self._agents

    @contextlib.contextmanager
    def cancellation(self) -> Iterator[threading.Event]:
        yield threading.Event()

    def close(self) -> None:
        """The registries' pending writes reach the disk."""
        for registry in self._registries.values():
            registry.flush()


# -- a command -------------------------------------------------------------------------------


class Command(Generic[RequestT, ReplyT]):
    """One user operation. ``request`` is its request type (None: a command the engine
    does not answer, such as ``registry`` on the command line only); ``main`` is what the
    command line runs: the flags as a request, ``run`` here, ``present``."""

    name: ClassVar[str]
    help: ClassVar[str]
    request: ClassVar[type[Request[Any]] | None] = None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        raise NotImplementedError

    def request_from(self, args: argparse.Namespace) -> RequestT:
        raise NotImplementedError

    def run(self, request: RequestT, emit: Emit, context: Context) -> ReplyT:
        raise NotImplementedError

    def present(self, args: argparse.Namespace, request: RequestT, reply: ReplyT) -> int:
        raise NotImplementedError

    def emit_for(self, args: argparse.Namespace) -> Emit:
        """What the command line does with the events ``run`` streams (nothing, unless
        a command shows progress)."""
        return no_events

    def main(self, args: argparse.Namespace) -> int:
        request = self.request_from(args)
        context = LocalContext()
        try:
            reply = self.run(request, self.emit_for(args), context)
        finally:
            context.close()
        return self.present(args, request, reply)


def warn(message: str) -> None:
    print(f"neurojit: warning: {message}", file=sys.stderr)
