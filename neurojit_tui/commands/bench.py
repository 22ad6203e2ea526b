"""``neurojit bench WHAT``: the benchmarks, one entry each in ``BENCHES`` (what it
measures, how the command line's flags reach it, how its table is printed). Each prints
its result as JSON with ``--json``, else as a table; progress goes to stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..evolve.results import ENV_POLISH_SHARE
from .args import (
    COUNT,
    EVALUATIONS,
    GRAVITY,
    SECONDS,
    SEED,
    TURBULENCE,
    add_cluster_flag,
    add_model_flags,
    agent_overrides,
    cluster_address,
    float_in,
    int_in,
)
from .base import EXIT_OK, EXIT_USAGE_ERROR, Command, CommandError, LocalContext

Log = Callable[[str], None]


@dataclass(frozen=True)
class Bench:
    """One benchmark: ``measure(args, log)`` is its result (plain data), ``table(args,
    result)`` the text the command line prints without --json."""

    name: str
    measure: Callable[[argparse.Namespace, Log], Any]
    table: Callable[[argparse.Namespace, Any], str]


def _agents(args: argparse.Namespace) -> Any:
    return LocalContext().agents(agent_overrides(args))


def _on_cluster(work: Callable[[], Any]) -> Any:
    """``work()``, with a cluster that cannot be used as one line naming its address."""
    from ..cluster import ClusterError

    try:
        return work()
    except ClusterError as error:
        raise CommandError(str(error)) from None


def conditions(text: str) -> list[tuple[float, float]]:
    """``G:T,G:T`` (gravity:turbulence pairs) for bench evolve."""
    pairs = []
    for part in text.split(","):
        gravity, _, turbulence = part.partition(":")
        try:
            pairs.append((GRAVITY(gravity), TURBULENCE(turbulence or "1.0")))
        except argparse.ArgumentTypeError as error:
            raise CommandError(f"--conditions {text!r}: {error}", kind="") from None
    return pairs


# -- the benchmarks ---------------------------------------------------------------------------


def _jit(args: argparse.Namespace, log: Log) -> Any:
    from ..benches.jit import bench_jit

    return bench_jit(repeats=args.repeats or 15)


def _jit_table(args: argparse.Namespace, result: Any) -> str:
    from ..benches.jit import format_jit_table

    return str(format_jit_table(result))


def _swarm(args: argparse.Namespace, log: Log) -> Any:
    from ..benches.swarm import bench_swarm

    return bench_swarm(args.file, repeats=args.repeats or 5)


def _swarm_table(args: argparse.Namespace, result: Any) -> str:
    from ..benches.swarm import format_swarm_table

    return str(format_swarm_table(result))


def _inference(args: argparse.Namespace, log: Log) -> Any:
    from ..benches.agents import bench_inference

    return bench_inference()


def _inference_table(args: argparse.Namespace, result: Any) -> str:
    from ..benches.agents import format_inference_table

    return str(format_inference_table(result))


def _repair(args: argparse.Namespace, log: Log) -> Any:
    from ..benches.agents import bench_repair

    return bench_repair(_agents(args), seed=args.seed, per_class=args.per_class, log=log)


def _repair_table(args: argparse.Namespace, result: Any) -> str:
    from ..benches.agents import format_repair_table

    return str(format_repair_table(result))


def _cache(args: argparse.Namespace, log: Log) -> Any:
    from ..benches.cache import CacheBenchError, bench_cache

    try:
        return bench_cache(None if args.no_llm else _agents(args), log=log)
    except CacheBenchError as error:
        raise CommandError(f"bench cache: {error}", kind="") from None


def _cache_table(args: argparse.Namespace, result: Any) -> str:
    from ..benches.cache import format_cache_table

    return str(format_cache_table(result))


def _evolve(args: argparse.Namespace, log: Log) -> Any:
    budget = args.budget if args.budget is not None else 60.0
    if args.arms:
        return _ablation(args, budget, log)
    from ..benches.evolve import bench_evolve

    pairs, address = conditions(args.conditions), cluster_address(args.cluster)
    agents = None if args.no_llm else _agents(args)
    return _on_cluster(
        lambda: bench_evolve(
            pairs,
            budget=budget,
            seed=args.seed,
            agents=agents,
            log=log,
            cluster=address,
            evaluations=args.evaluations,
        )
    )


def _ablation(args: argparse.Namespace, budget: float, log: Log) -> Any:
    """``bench evolve --arms A,B --seeds K``: the same search with different proposers."""
    from ..benches.ablation import AblationError, bench_ablation, check_arms, needs_models

    arms = [arm.strip() for arm in args.arms.split(",") if arm.strip()]
    try:
        check_arms(arms, have_models=not args.no_llm)
    except AblationError as error:
        raise CommandError(f"--arms {args.arms!r}: {error}", EXIT_USAGE_ERROR) from None
    agents = _agents(args) if any(needs_models(arm) for arm in arms) else None
    return bench_ablation(
        conditions(args.conditions),
        arms,
        args.seeds if args.seeds is not None else 5,
        budget=budget,
        evaluations=args.evaluations,
        agents=agents,
        first_seed=args.seed,
        log=log,
    )


def _evolve_table(args: argparse.Namespace, result: Any) -> str:
    if args.arms:
        from ..benches.ablation import format_ablation_table

        return str(format_ablation_table(result))
    from ..benches.evolve import format_evolve_table

    return str(format_evolve_table(result))


def _setting_names(args: argparse.Namespace) -> list[str] | None:
    """bench gym's and bench fidelity's --settings (None: all)."""
    from ..benches.gym import SETTINGS

    names = [n.strip() for n in args.settings.split(",")] if args.settings else None
    unknown = [n for n in names or [] if n not in {s.name for s in SETTINGS}]
    if unknown:
        raise CommandError(
            f"--settings: unknown setting {unknown[0]!r}; choose from "
            + ", ".join(s.name for s in SETTINGS),
            EXIT_USAGE_ERROR,
        )
    return names


def _gym(args: argparse.Namespace, log: Log) -> Any:
    from ..benches.gym import bench_gym

    return bench_gym(
        _setting_names(args),
        budget=args.budget if args.budget is not None else 300.0,
        polish=args.polish,
        seed=args.seed,
        seeds=args.seeds if args.seeds is not None else 1,
        log=log,
    )


def _gym_table(args: argparse.Namespace, result: Any) -> str:
    from ..benches.gym import format_gym_table

    return str(format_gym_table(result))


def _fidelity(args: argparse.Namespace, log: Log) -> Any:
    from ..benches.fidelity import bench_fidelity

    return bench_fidelity(_setting_names(args), seed=args.seed, log=log)


def _fidelity_table(args: argparse.Namespace, result: Any) -> str:
    from ..benches.fidelity import format_fidelity_table

    return format_fidelity_table(result)


def _cluster(args: argparse.Namespace, log: Log) -> Any:
    from ..benches.cluster import bench_cluster

    address = None if args.cluster in (None, "none") else cluster_address(args.cluster)
    return _on_cluster(lambda: bench_cluster(address, log=log))


def _cluster_table(args: argparse.Namespace, result: Any) -> str:
    from ..benches.cluster import format_cluster_table

    return str(format_cluster_table(result))


# ``bench ui`` measures the workstation, a layer above this one: cli.py adds its entry.
def _ui(args: argparse.Namespace, log: Log) -> Any:
    from ..benches.ui import bench_ui

    return bench_ui(log=log)


def _ui_table(args: argparse.Namespace, result: Any) -> str:
    from ..benches.ui import format_ui_table

    return format_ui_table(result)


BENCHES: dict[str, Bench] = {
    bench.name: bench
    for bench in (
        Bench("jit", _jit, _jit_table),
        Bench("swarm", _swarm, _swarm_table),
        Bench("inference", _inference, _inference_table),
        Bench("repair", _repair, _repair_table),
        Bench("cache", _cache, _cache_table),
        Bench("ui", _ui, _ui_table),
        Bench("evolve", _evolve, _evolve_table),
        Bench("gym", _gym, _gym_table),
        Bench("fidelity", _fidelity, _fidelity_table),
        Bench("cluster", _cluster, _cluster_table),
    )
}
BENCH_NAMES = tuple(BENCHES)


class BenchCommand(Command[Any, Any]):
    name = "bench"
    help = "benchmarks (ratios against a baseline in the same run)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("what", choices=BENCH_NAMES)
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--repeats", type=COUNT, default=None, help="default: 15 (jit), 5 (swarm)"
        )
        parser.add_argument(
            "--file", default=None, help="controller for bench swarm (default: heuristic)"
        )
        parser.add_argument(
            "--seed",
            type=SEED,
            default=0,
            help="bench repair: the corpus's seed; bench evolve --arms and bench gym: the "
            "first run's",
        )
        parser.add_argument(
            "--per-class", type=COUNT, default=1, help="broken programs per error class"
        )
        parser.add_argument(
            "--conditions",
            default="3.0:0.8,1.62:1.0",
            metavar="G:T,...",
            help="bench evolve: gravity:turbulence pairs (default 3.0:0.8,1.62:1.0)",
        )
        parser.add_argument(
            "--budget",
            type=SECONDS,
            default=None,
            metavar="SECONDS",
            help="bench evolve: seconds per arm (default 60); bench gym: per setting (default 300)",
        )
        parser.add_argument(
            "--settings",
            default=None,
            metavar="NAME,...",
            help="bench gym and bench fidelity: which settings (stock, wind, heavy-wind; "
            "default all)",
        )
        parser.add_argument(
            "--polish",
            type=float_in(0.0, 0.9),
            default=ENV_POLISH_SHARE,
            metavar="SHARE",
            help="bench gym: share of the budget polishing in the environment "
            "(default %(default)s)",
        )
        parser.add_argument(
            "--evaluations",
            type=EVALUATIONS,
            default=None,
            metavar="N",
            help="bench evolve: bound the searching arms by N training evaluations instead "
            "of seconds (repeatable)",
        )
        parser.add_argument(
            "--arms",
            default=None,
            metavar="A,B,...",
            help="bench evolve: an ablation over seeds of these arms instead (symbolic, "
            "random, guide, guide-plain, write; +bandit: a cost-aware bandit chooses the "
            "operators; +memory: edits that helped in earlier runs return as examples; "
            "+screen: a short tuning on 48 landers first), with significance tests "
            "between them",
        )
        parser.add_argument(
            "--seeds",
            type=int_in(1, 1000),
            default=None,
            metavar="K",
            help="bench evolve --arms: runs per arm, seeds --seed .. --seed+K-1 (default 5); "
            "bench gym: runs per setting, the same seeds (default 1)",
        )
        parser.add_argument(
            "--no-llm",
            action="store_true",
            help="bench evolve: skip the arms that need the models; bench cache: evolve the "
            "cold path without them",
        )
        add_cluster_flag(parser)  # bench evolve: its arms fly there; bench cluster: that one
        add_model_flags(parser)

    def main(self, args: argparse.Namespace) -> int:
        bench = BENCHES.get(args.what)
        if bench is None:
            raise CommandError(f"unknown benchmark {args.what!r}", kind="")

        def log(message: str) -> None:
            if not args.json:
                print(message, file=sys.stderr, flush=True)

        result = bench.measure(args, log)
        print(json.dumps(result, indent=2) if args.json else bench.table(args, result))
        return EXIT_OK


COMMAND = BenchCommand()
