"""``neurojit repair FILE``: repair a broken controller, the symbolic tier first, then the
local LLM agents, until it verifies and flies or the attempts run out. (The workstation
steps a repair one attempt at a time: the engine's RepairStart and RepairStep requests;
their attempts are this module's ``RepairAttempt``.)"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compiler.diagnostics import Diagnostic
from .args import COUNT, SECONDS, add_model_flags, agent_overrides, print_diagnostics, read_program
from .base import EXIT_DIAGNOSTICS, EXIT_OK, Command, CommandError, Context, Emit, Request


@dataclass(frozen=True)
class RepairAttempt:
    """One attempt of a repair session, as the Repair pane shows it (the prompt and the
    model's raw output stay where the session runs)."""

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

    @classmethod
    def of(cls, attempt: Any) -> RepairAttempt:
        """``agents.repair``'s attempt."""
        a = attempt
        return cls(
            a.number,
            a.tier,
            a.agent,
            a.seconds,
            a.decision,
            a.explanation,
            a.diff,
            tuple(a.diagnostics),
        )


@dataclass(frozen=True)
class RepairReply:
    status: str  # repaired | failed
    text: str  # the program as the session left it
    seconds: float
    tiers: tuple[str, ...]
    attempts: tuple[RepairAttempt, ...]
    diagnostics: tuple[Diagnostic, ...]  # what is left


@dataclass(frozen=True)
class RepairRequest(Request[RepairReply], op="repair"):
    text: str
    path: str
    mode: str = "dual"  # dual | monolithic
    max_attempts: int = 6
    time_budget_s: float = 300.0
    log: str | None = None  # write every attempt here, as a JSON log
    agents: dict[str, Any] | None = None  # per-role overrides, as Agents.from_config takes


class Repair(Command[RepairRequest, RepairReply]):
    name = "repair"
    help = "repair a broken TensorLang controller (symbolic tier, then the local LLM agents)"
    request = RepairRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--max-attempts", type=COUNT, default=RepairRequest.max_attempts)
        parser.add_argument(
            "--time-budget",
            type=SECONDS,
            default=RepairRequest.time_budget_s,
            metavar="SECONDS",
        )
        parser.add_argument("--mode", choices=["dual", "monolithic"], default=RepairRequest.mode)
        parser.add_argument(
            "--output",
            "-o",
            help="where the repaired program goes (default FILE with suffix .repaired.mlir)",
        )
        parser.add_argument("--log", metavar="PATH", help="write every attempt as a JSON log")
        parser.add_argument("--json", action="store_true")
        add_model_flags(parser)

    def request_from(self, args: argparse.Namespace) -> RepairRequest:
        overrides = agent_overrides(args)
        return RepairRequest(
            read_program(args.file),
            args.file,
            mode=args.mode,
            max_attempts=args.max_attempts,
            time_budget_s=args.time_budget,
            log=args.log,
            agents=overrides,
        )

    def run(self, request: RepairRequest, emit: Emit, context: Context) -> RepairReply:
        import time

        from ..agents import ModelError, RepairSession

        team = context.agents(request.agents)
        start = time.perf_counter()
        with context.cancellation() as cancel:
            session = RepairSession(
                request.text,
                request.path,
                team.synthesis,
                team.reasoning,
                mode=request.mode,
                max_attempts=request.max_attempts,
                time_budget_s=request.time_budget_s,
                compiler=context.compiler(),
                cancel=cancel,
            )
            try:
                status = session.auto()
            except ModelError as error:
                raise CommandError(str(error), kind="") from None
        if request.log:
            session.save(request.log)
        return RepairReply(
            status,
            session.text,
            time.perf_counter() - start,
            tuple(session.tiers),
            tuple(RepairAttempt.of(a) for a in session.attempts),
            tuple(session.diagnostics),
        )

    def present(self, args: argparse.Namespace, request: RepairRequest, reply: RepairReply) -> int:
        repaired = reply.status == "repaired"
        output = args.output or str(Path(args.file).with_suffix(".repaired.mlir"))
        if repaired:
            Path(output).write_text(reply.text)
        if args.json:
            result = {
                "status": reply.status,
                "attempts": len(reply.attempts),
                "tiers": list(reply.tiers),
                "seconds": reply.seconds,
                "output": output if repaired else None,
            }
            print(json.dumps(result, indent=2))
        else:
            for a in reply.attempts:
                print(
                    f"attempt {a.number}: {a.tier:<20} {a.agent:<28} {a.seconds:6.2f} s  "
                    f"{a.errors} error(s)  {a.decision}  {a.explanation}",
                    file=sys.stderr,
                )
            print(
                f"{args.file}: {reply.status} after {len(reply.attempts)} attempt(s) in "
                f"{reply.seconds:.2f} s" + (f"; wrote {output}" if repaired else "")
            )
            if not repaired:
                print_diagnostics(reply.diagnostics, False)
        return EXIT_OK if repaired else EXIT_DIAGNOSTICS


COMMAND = Repair()
