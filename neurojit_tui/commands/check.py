"""``neurojit check FILE...``, and the workstation's and the language server's checks:
parse and verify a program (and, for a controller, its ABI)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from ..compiler.diagnostics import Diagnostic
from .args import print_diagnostics, read_program
from .base import EXIT_DIAGNOSTICS, EXIT_OK, Command, Context, Emit, LocalContext, Request


@dataclass(frozen=True)
class CheckReply:
    diagnostics: tuple[Diagnostic, ...]  # none: the program verifies


@dataclass(frozen=True)
class CheckRequest(Request[CheckReply], op="check"):
    text: str
    path: str
    controller: bool = True  # hold it to the controller ABI


class Check(Command[CheckRequest, CheckReply]):
    name = "check"
    help = "parse and verify TensorLang files"
    request = CheckRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--json", action="store_true", help="print diagnostics as a JSON list")
        parser.add_argument(
            "--controller",
            action="store_true",
            help="also require @control with the controller ABI",
        )

    def requests_from(self, args: argparse.Namespace) -> list[CheckRequest]:
        """One request per file (the command line checks several)."""
        return [
            CheckRequest(read_program(path), path, controller=args.controller)
            for path in args.files
        ]

    def run(self, request: CheckRequest, emit: Emit, context: Context) -> CheckReply:
        compiler = context.compiler()
        return CheckReply(
            tuple(compiler.check(request.text, request.path, require_control=request.controller))
        )

    def main(self, args: argparse.Namespace) -> int:
        context = LocalContext()
        diagnostics: list[Diagnostic] = []
        for request in self.requests_from(args):
            diagnostics += self.run(request, lambda event: None, context).diagnostics
        print_diagnostics(diagnostics, args.json)
        if not args.json and not diagnostics:
            print(f"{len(args.files)} file(s) verified", file=sys.stderr)
        return EXIT_DIAGNOSTICS if any(d.severity == "error" for d in diagnostics) else EXIT_OK


COMMAND = Check()
