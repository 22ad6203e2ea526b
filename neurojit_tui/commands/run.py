"""``neurojit run FILE --entry NAME --arg JSON...``: JIT-compile a program and call one of
its functions."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from ..compiler.diagnostics import Diagnostic
from .args import print_diagnostics, read_program
from .base import (
    EXIT_DIAGNOSTICS,
    EXIT_OK,
    EXIT_RUNTIME,
    Command,
    CommandError,
    Context,
    Emit,
    Request,
)


@dataclass(frozen=True)
class RunReply:
    diagnostics: tuple[Diagnostic, ...]  # it did not compile
    results: tuple[Any, ...] = ()  # numbers and nested lists
    assert_violation: dict[str, Any] | None = None  # AssertViolation.to_json()
    violation_text: str | None = None  # the same, formatted


@dataclass(frozen=True)
class RunRequest(Request[RunReply], op="run"):
    text: str
    path: str
    entry: str  # without @
    args: tuple[Any, ...] = ()  # numbers and nested lists, one per argument


def _plain(value: Any) -> Any:
    """A result as JSON: arrays as nested lists, numpy scalars as Python numbers."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.bool_)):
        return value.item()
    return value


class Run(Command[RunRequest, RunReply]):
    name = "run"
    help = "JIT-compile a file and call a function"
    request = RunRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--entry", required=True, metavar="NAME", help="function to call (without @)"
        )
        parser.add_argument(
            "--arg",
            action="append",
            default=[],
            metavar="JSON",
            help="one argument as JSON (a number or nested list); repeat per argument",
        )

    def request_from(self, args: argparse.Namespace) -> RunRequest:
        try:
            values = tuple(json.loads(a) for a in args.arg)
        except json.JSONDecodeError as error:
            raise CommandError(f"--arg is not valid JSON: {error}", kind="") from None
        return RunRequest(read_program(args.file), args.file, args.entry, values)

    def run(self, request: RunRequest, emit: Emit, context: Context) -> RunReply:
        from ..compiler import CompileError

        try:
            program = context.compiler().compile(request.text, request.path)
        except CompileError as error:
            return RunReply(tuple(error.diagnostics))
        try:
            results, violation = program.call(request.entry, *request.args)
        except (KeyError, ValueError, TypeError, OverflowError) as error:  # arguments that
            raise CommandError(str(error.args[0]), kind="") from None  # do not fit
        return RunReply(
            (),
            tuple(_plain(r) for r in results),
            violation.to_json() if violation else None,
            violation.format() if violation else None,
        )

    def present(self, args: argparse.Namespace, request: RunRequest, reply: RunReply) -> int:
        if reply.diagnostics:
            print_diagnostics(reply.diagnostics, False)
            return EXIT_DIAGNOSTICS
        print(
            json.dumps(
                {
                    "entry": request.entry,
                    "results": list(reply.results),
                    "assert_violation": reply.assert_violation,
                }
            )
        )
        if reply.violation_text:
            print(reply.violation_text, file=sys.stderr)
            return EXIT_RUNTIME
        return EXIT_OK


COMMAND = Run()
