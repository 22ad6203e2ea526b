"""``neurojit gym FILE --env ID``: fly a TensorLang controller in a Gymnasium environment
whose spaces fit the controller ABI."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from ..compiler.diagnostics import Diagnostic
from .args import COUNT, SEED, SEED_MAX, STEPS, WORKERS, print_diagnostics, read_program
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
class GymReply:
    diagnostics: tuple[Diagnostic, ...]  # it did not compile
    record: dict[str, Any] = field(default_factory=dict)  # FlightReport.to_json()
    label: str = ""  # the environment and its arguments, as one line
    cvar10: float = float("-inf")
    violation: str | None = None  # the assert that ended the flight, formatted


@dataclass(frozen=True)
class GymRequest(Request[GymReply], op="gym"):
    text: str
    path: str
    env: str  # a Gymnasium environment id
    env_args: tuple[str, ...] = ()  # KEY=VALUE, gymnasium.make's arguments
    episodes: int = 1
    seed: int = 0  # episode i is reset with seed + i
    workers: int | None = None  # processes stepping the environments; None: one per core
    max_steps: int = 10_000  # per episode, for an environment without a time limit


class Gym(Command[GymRequest, GymReply]):
    name = "gym"
    help = "fly a TensorLang controller in a Gymnasium environment"
    request = GymRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--env",
            required=True,
            metavar="ID",
            help="a Gymnasium environment id whose spaces fit (Box(8) observation, "
            "Box(2) action), e.g. NeuroJIT/LunarLander-v0 or LunarLanderContinuous-v3",
        )
        parser.add_argument(
            "--env-arg",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a gymnasium.make argument (repeatable); VALUE true/false, a number or text, "
            "e.g. --env-arg enable_wind=true --env-arg wind_power=15",
        )
        parser.add_argument("--episodes", type=COUNT, default=GymRequest.episodes)
        parser.add_argument(
            "--seed",
            type=SEED,
            default=GymRequest.seed,
            help="episode i is reset with seed S+i (default 0)",
        )
        parser.add_argument(
            "--workers",
            type=WORKERS,
            default=None,
            metavar="N",
            help="worker processes stepping the environments (default: one per core; "
            "0: every episode in this process)",
        )
        parser.add_argument(
            "--max-steps",
            type=STEPS,
            default=GymRequest.max_steps,
            help="per episode, for an environment without a time limit (default 10000)",
        )
        parser.add_argument("--json", action="store_true")

    def request_from(self, args: argparse.Namespace) -> GymRequest:
        from ..gym.environments import EnvSpec, FlightError

        try:  # before the program is read: a bad environment is the first thing said
            EnvSpec.parse(args.env, args.env_arg)
        except FlightError as error:
            raise CommandError(str(error), EXIT_RUNTIME) from None
        return GymRequest(
            read_program(args.file),
            args.file,
            args.env,
            tuple(args.env_arg),
            episodes=args.episodes,
            seed=args.seed,
            workers=args.workers,
            max_steps=args.max_steps,
        )

    def run(self, request: GymRequest, emit: Emit, context: Context) -> GymReply:
        from ..compiler import CompileError
        from ..gym.environments import EnvSpec, FlightError
        from ..gym.fly import fly
        from ..gym.judge import Judge, default_workers

        try:
            spec = EnvSpec.parse(request.env, request.env_args)
        except FlightError as error:
            raise CommandError(str(error), EXIT_RUNTIME) from None
        try:
            program = context.compiler().compile(request.text, request.path, require_control=True)
        except CompileError as error:
            return GymReply(tuple(error.diagnostics))
        seeds = [request.seed + episode for episode in range(request.episodes)]
        if seeds[-1] > SEED_MAX:
            raise CommandError(
                f"--seed {request.seed}: episode seeds pass {SEED_MAX}", EXIT_RUNTIME
            )
        workers = default_workers() if request.workers is None else request.workers
        try:
            if workers == 0:
                report, _ = fly(program, spec, seeds=seeds, max_steps=request.max_steps)
            else:
                with Judge(spec, workers=workers, max_steps=request.max_steps) as judge:
                    report = judge.fly(program, seeds)
        except FlightError as error:
            raise CommandError(str(error), EXIT_RUNTIME) from None
        violation = report.violation.format() if report.violation is not None else None
        return GymReply((), report.to_json(), spec.label(), report.cvar10, violation)

    def present(self, args: argparse.Namespace, request: GymRequest, reply: GymReply) -> int:
        if reply.diagnostics:
            print_diagnostics(reply.diagnostics, False)
            return EXIT_DIAGNOSTICS
        record = reply.record
        if args.json:
            print(json.dumps(record, indent=2))
        else:
            returns, last = record["returns"], request.seed + request.episodes - 1
            print(
                f"{request.path} in {reply.label}: {record['episodes']} episode(s), seed "
                f"{request.seed}{'' if request.episodes == 1 else f'..{last}'}, "
                f"mean return {record['mean_return']:.1f} (min {min(returns):.1f}, max "
                f"{max(returns):.1f}), CVaR-10 {reply.cvar10:.1f}, landed "
                f"{record['landed']:.0%}, solved {record['solved']:.0%}, "
                f"{record['seconds']:.2f} s"
            )
        if reply.violation is not None:
            print(reply.violation, file=sys.stderr)
            return EXIT_RUNTIME
        return EXIT_OK


COMMAND = Gym()
