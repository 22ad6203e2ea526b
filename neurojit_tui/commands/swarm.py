"""``neurojit swarm FILE``, and the workstation's F6: fly a swarm of landers with a
controller and score it, on this machine or on a Ray cluster."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field

from ..sim.model import MAX_STEPS, Environment
from ..sim.report import SwarmReport
from .args import (
    AGENTS,
    SECONDS,
    SEED,
    STEPS,
    THREADS,
    add_cluster_flag,
    add_condition_flags,
    check_swarm_memory,
    cluster_address,
    environment_from,
    print_diagnostics,
    read_program,
)
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
class SwarmReply:
    report: SwarmReport


@dataclass(frozen=True)
class SwarmRequest(Request[SwarmReply], op="swarm"):
    text: str
    path: str
    agents: int = 100
    seed: int = 0
    environment: Environment = field(default_factory=Environment)
    threads: int | None = None  # None: every core
    max_steps: int = MAX_STEPS
    timeout_s: float | None = None
    # a Ray cluster's address, "auto", or "none" (this machine); None: the config file's
    # [cluster] address, if any
    cluster: str | None = None


class Swarm(Command[SwarmRequest, SwarmReply]):
    name = "swarm"
    help = "fly a swarm of landers with a controller and score it"
    request = SwarmRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--agents", type=AGENTS, default=SwarmRequest.agents)
        parser.add_argument("--seed", type=SEED, default=SwarmRequest.seed)
        add_condition_flags(parser)
        parser.add_argument("--threads", type=THREADS, default=None, help="default: every core")
        parser.add_argument("--max-steps", type=STEPS, default=SwarmRequest.max_steps)
        parser.add_argument("--timeout", type=SECONDS, default=None, metavar="SECONDS")
        parser.add_argument("--json", action="store_true")
        add_cluster_flag(parser)

    def request_from(self, args: argparse.Namespace) -> SwarmRequest:
        check_swarm_memory(args.agents)
        env = environment_from(args)
        return SwarmRequest(
            read_program(args.file),
            args.file,
            agents=args.agents,
            seed=args.seed,
            environment=env,
            threads=args.threads,
            max_steps=args.max_steps,
            timeout_s=args.timeout,
            cluster=args.cluster,
        )

    def run(self, request: SwarmRequest, emit: Emit, context: Context) -> SwarmReply:
        check_swarm_memory(request.agents)
        address = cluster_address(request.cluster)
        if address is None:
            from ..sim import evaluate

            return SwarmReply(
                evaluate(
                    request.text,
                    request.path,
                    request.environment,
                    agents=request.agents,
                    seed=request.seed,
                    threads=request.threads,
                    max_steps=request.max_steps,
                    timeout_s=request.timeout_s,
                    compiler=context.compiler(),
                )
            )
        from ..cluster import ClusterError
        from ..cluster.scheduler import RayCluster
        from ..cluster.swarm import evaluate_on_cluster

        try:
            cluster = RayCluster(address)
            try:
                report = evaluate_on_cluster(
                    cluster,
                    request.text,
                    request.path,
                    request.environment,
                    request.agents,
                    request.seed,
                    request.max_steps,
                    request.timeout_s,
                )
            finally:
                cluster.close()
        except ClusterError as error:
            raise CommandError(str(error)) from None
        return SwarmReply(report)

    def present(self, args: argparse.Namespace, request: SwarmRequest, reply: SwarmReply) -> int:
        report, env = reply.report, request.environment
        if args.json:
            print(json.dumps(report.to_json(), indent=2))
        elif report.ok:
            print(
                f"{request.path}: {report.agents} landers, seed {report.seed}, gravity "
                f"{env.gravity:g} m/s^2, turbulence {env.turbulence:g}\n"
                f"  landed {report.landed}  crashed {report.crashed}  out of bounds "
                f"{report.out_of_bounds}  still flying {report.timed_out}\n"
                f"  success rate {report.success_rate:.0%}  mean score "
                f"{report.mean_score:.1f}  worst {report.worst_score:.1f}  CVaR-10 "
                f"{report.cvar10_score:.1f}  solved (>= 200) {report.solved}\n"
                f"  {report.seconds * 1e3:.1f} ms, {report.agent_steps_per_s / 1e6:.1f} M "
                f"agent-steps/s on {report.threads} thread(s)"
            )
        if not report.ok:
            if not args.json:
                print(f"{request.path}: candidate failed: {report.failure}", file=sys.stderr)
                print_diagnostics(report.diagnostics, False)
                if report.assert_violation is not None:
                    print(report.assert_violation.format(), file=sys.stderr)
            return EXIT_DIAGNOSTICS if report.failure == "does not compile" else EXIT_RUNTIME
        return EXIT_OK


COMMAND = Swarm()
