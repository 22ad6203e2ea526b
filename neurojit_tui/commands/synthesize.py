"""``neurojit synthesize``, and the workstation's Shift+F9: reasoning -> synthesis ->
repair -> swarm for a few candidate controllers, keeping the most robust (known
conditions come from the registry without any model); or, with ``from_nearby``, breed
a child from stored controllers for the nearest conditions."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from ..sim.model import Environment
from ..sim.report import SwarmReport
from .args import (
    AGENTS,
    COUNT,
    SEED,
    add_condition_flags,
    add_model_flags,
    agent_overrides,
    check_swarm_memory,
    environment_from,
    int_in,
)
from .base import (
    EXIT_OK,
    EXIT_RUNTIME,
    AgentToken,
    Command,
    CommandError,
    Context,
    Emit,
    Event,
    LogLine,
    Request,
)


@dataclass(frozen=True)
class SynthesizedCandidate:
    path: str  # where the program was written
    report: SwarmReport


@dataclass(frozen=True)
class SynthesizeReply:
    status: str  # ok | failed
    seconds: float
    cache: str  # miss (the models wrote it), l1 or l2 (memory answered)
    best_source: str | None  # the program the run kept; None: nothing flew
    candidates: tuple[SynthesizedCandidate, ...]  # best first
    cancelled: bool
    record: dict[str, Any] = field(default_factory=dict)  # the run, as --json prints it


@dataclass(frozen=True)
class SynthesizeRequest(Request[SynthesizeReply], op="synthesize"):
    """Streams ``AgentToken`` and a ``LogLine`` per step."""

    environment: Environment = field(default_factory=Environment)
    candidates: int = 3
    agents_in_swarm: int = 100  # landers per swarm evaluation
    seed: int = 0
    use_registry: bool = True  # consult it and fill it
    registry: str | None = None  # its folder; None: the default one
    from_nearby: int = 0  # cross-generation from this many stored controllers; 0: none
    out_dir: str | None = None  # where candidates go; None: ~/.neurojit/candidates/TIME
    agents: dict[str, Any] | None = None  # per-role overrides, as Agents.from_config takes


class Synthesize(Command[SynthesizeRequest, SynthesizeReply]):
    name = "synthesize"
    help = "reasoning -> synthesis -> compile -> swarm; keep the most robust candidate"
    request = SynthesizeRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_condition_flags(parser)
        parser.add_argument("--candidates", type=COUNT, default=SynthesizeRequest.candidates)
        parser.add_argument(
            "--agents",
            type=AGENTS,
            default=SynthesizeRequest.agents_in_swarm,
            help="landers per swarm evaluation",
        )
        parser.add_argument("--seed", type=SEED, default=SynthesizeRequest.seed)
        parser.add_argument(
            "--out-dir", help="where candidates go (default ~/.neurojit/candidates/TIME)"
        )
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--registry",
            help="registry folder (default ~/.neurojit/registry or $NEUROJIT_REGISTRY)",
        )
        parser.add_argument(
            "--no-cache", action="store_true", help="neither consult nor fill the registry"
        )
        parser.add_argument(
            "--from-nearby",
            type=int_in(0, 1000),
            default=SynthesizeRequest.from_nearby,
            metavar="K",
            help="cross-generation: breed a child from K stored controllers for the "
            "nearest conditions; the swarm decides if it beats them",
        )
        add_model_flags(parser)

    def request_from(self, args: argparse.Namespace) -> SynthesizeRequest:
        check_swarm_memory(args.agents)
        return SynthesizeRequest(
            environment=environment_from(args),
            candidates=args.candidates,
            agents_in_swarm=args.agents,
            seed=args.seed,
            use_registry=not args.no_cache,
            registry=args.registry,
            from_nearby=args.from_nearby,
            out_dir=args.out_dir,
            agents=agent_overrides(args),
        )

    def run(self, request: SynthesizeRequest, emit: Emit, context: Context) -> SynthesizeReply:
        import time

        from ..agents import ModelError
        from ..agents.pipeline import cross_generation, synthesize
        from ..paths import neurojit_home

        check_swarm_memory(request.agents_in_swarm)
        agents = context.agents(request.agents)
        out_dir = request.out_dir or str(
            neurojit_home() / "candidates" / time.strftime("%Y%m%d-%H%M%S")
        )
        registry = context.registry(request.registry) if request.use_registry else None
        env = request.environment

        def log(line: str) -> None:
            emit(LogLine(line))

        def on_token(role: str, piece: str) -> None:
            emit(AgentToken(role, piece))

        try:
            with context.cancellation() as cancel:
                if request.from_nearby:
                    if registry is None:
                        raise CommandError(
                            "--from-nearby needs the registry (drop --no-cache)", kind=""
                        )
                    run = cross_generation(
                        agents,
                        env,
                        registry,
                        parents=request.from_nearby,
                        agents_in_swarm=request.agents_in_swarm,
                        seed=request.seed,
                        out_dir=out_dir,
                        on_token=on_token,
                        compiler=context.compiler(),
                        log=log,
                    )
                else:
                    run = synthesize(
                        agents,
                        env,
                        candidates=request.candidates,
                        agents_in_swarm=request.agents_in_swarm,
                        seed=request.seed,
                        out_dir=out_dir,
                        on_token=on_token,
                        compiler=context.compiler(),
                        log=log,
                        registry=registry,
                        cancel=cancel,
                    )
                cancelled = cancel.is_set()
        except ModelError as error:
            raise CommandError(str(error), kind="") from None
        # the best is remembered or written by the models: both carry a source
        source = getattr(run.best, "source", None) if run.best else None
        return SynthesizeReply(
            run.status,
            run.seconds,
            run.cache,
            source,
            tuple(_candidate(c) for c in run.candidates),
            cancelled,
            run.to_json(),
        )

    def emit_for(self, args: argparse.Namespace) -> Emit:
        def show(event: Event) -> None:
            if isinstance(event, LogLine) and not args.json:
                print(event.line, file=sys.stderr)

        return show

    def present(
        self, args: argparse.Namespace, request: SynthesizeRequest, reply: SynthesizeReply
    ) -> int:
        if args.json:
            print(json.dumps(reply.record, indent=2))
        elif (best := reply.record.get("best")) is not None:
            print(
                f"best: {best['path']} (success {best['success_rate']:.0%}, mean score "
                f"{best['mean_score']:.1f}) in {reply.seconds:.3f} s; cache: {reply.cache}"
            )
        else:
            print(f"no candidate flew ({len(reply.candidates)} tried, {reply.seconds:.1f} s)")
        return EXIT_OK if reply.status == "ok" else EXIT_RUNTIME


def _candidate(candidate: Any) -> SynthesizedCandidate:
    """A pipeline's candidate (or, from a cross-generation, a parent's SwarmReport)."""
    report = getattr(candidate, "report", candidate)
    return SynthesizedCandidate(getattr(candidate, "path", report.file), report)


COMMAND = Synthesize()
