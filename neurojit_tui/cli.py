"""The ``neurojit`` command line.

``neurojit check|compile|run|bench|demo ...`` work headless; ``neurojit [FILE]`` is
reserved for the workstation UI. Every command uses the same engine packages as the UI.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .commands import COMMANDS
from .commands.args import (
    AGENTS,
    COUNT,
    EVALUATIONS,
    FPS,
    GRAVITY,
    MAX_PROGRAM_BYTES,
    MODEL_SEED,
    SECONDS,
    SEED,
    STEPS,
    SWARM_BASE_BYTES,
    SWARM_BYTES_PER_AGENT,
    THREADS,
    TURBULENCE,
    WORKERS,
    add_cluster_flag,
    add_condition_flags,
    add_model_flags,
    agent_overrides,
    check_swarm_memory,
    cluster_address,
    environment_from,
    float_in,
    int_in,
    print_diagnostics,
    read_program,
)
from .commands.base import (
    EXIT_DIAGNOSTICS,
    EXIT_OK,
    EXIT_USAGE_ERROR,
    CommandError,
)

__all__ = [
    "AGENTS",
    "COUNT",
    "EVALUATIONS",
    "FPS",
    "GRAVITY",
    "MAX_PROGRAM_BYTES",
    "MODEL_SEED",
    "SECONDS",
    "SEED",
    "STEPS",
    "SWARM_BASE_BYTES",
    "SWARM_BYTES_PER_AGENT",
    "THREADS",
    "TURBULENCE",
    "WORKERS",
    "build_parser",
    "main",
]

EXIT_USAGE = 64

# the names the commands not moved to commands/ yet use
_read = read_program
_int_in = int_in
_float_in = float_in
_print_diagnostics = print_diagnostics
_check_swarm_memory = check_swarm_memory
_agent_overrides = agent_overrides
_add_cluster_flag = add_cluster_flag
_add_model_flags = add_model_flags
_add_condition_flags = add_condition_flags


def _environment(args, warn: bool = True):
    return environment_from(args, warn)


def _cluster_address(args) -> str | None:
    return cluster_address(args.cluster)


def _on_cluster(work):
    """``work()``, with a cluster that cannot be used (unreachable, every worker lost) as
    one line naming its address: exit 1, no traceback, nothing kept from the run."""
    from .cluster import ClusterError

    try:
        return work()
    except ClusterError as error:
        raise SystemExit(f"neurojit: error: {error}") from None


def _agents(args):
    from .agents import Agents, ModelError

    try:
        return Agents.from_config(_agent_overrides(args))
    except ModelError as error:
        raise SystemExit(f"neurojit: {error}") from None


def cmd_repair(args) -> int:
    import time

    from .agents import ModelError, RepairSession

    agents = _agents(args)
    start = time.perf_counter()
    text = _read(args.file)
    session = RepairSession(
        text,
        args.file,
        agents.synthesis,
        agents.reasoning,
        mode=args.mode,
        max_attempts=args.max_attempts,
        time_budget_s=args.time_budget,
    )
    try:
        status = session.auto()
    except ModelError as error:
        raise SystemExit(f"neurojit: {error}") from None
    output = args.output or str(Path(args.file).with_suffix(".repaired.mlir"))
    if status == "repaired":
        Path(output).write_text(session.text)
    if args.log:
        session.save(args.log)
    result = {
        "status": status,
        "attempts": len(session.attempts),
        "tiers": session.tiers,
        "seconds": time.perf_counter() - start,
        "output": output if status == "repaired" else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for a in session.attempts:
            print(
                f"attempt {a.number}: {a.tier:<20} {a.agent:<28} {a.seconds:6.2f} s  "
                f"{a.errors} error(s)  {a.decision}  {a.explanation}",
                file=sys.stderr,
            )
        print(
            f"{args.file}: {status} after {len(session.attempts)} attempt(s) in "
            f"{result['seconds']:.2f} s" + (f"; wrote {output}" if status == "repaired" else "")
        )
        if status != "repaired":
            _print_diagnostics(session.diagnostics, False)
    return EXIT_OK if status == "repaired" else EXIT_DIAGNOSTICS


def _usage_error(message: str) -> int:
    """Bad input the parser cannot see: one line on stderr, exit status 2 (as argparse)."""
    print(f"neurojit: error: {message}", file=sys.stderr)
    return EXIT_USAGE_ERROR


def _registry(args):
    from .compiler import Compiler
    from .memory import Registry, rebuild_with

    return Registry(args.registry, rebuild=rebuild_with(Compiler()))


def time_stamp() -> str:
    import time

    return time.strftime("%Y%m%d-%H%M%S")


def cmd_bench(args) -> int:
    if args.budget is None and args.what == "evolve":
        args.budget = 60.0
    if args.what == "jit":
        from .sim.jit_bench import bench_jit, format_jit_table

        rows = bench_jit(repeats=args.repeats or 15)
        print(json.dumps(rows, indent=2) if args.json else format_jit_table(rows))
        return EXIT_OK
    if args.what == "swarm":
        from .sim.bench import bench_swarm, format_swarm_table

        result = bench_swarm(args.file, repeats=args.repeats or 5)
        print(json.dumps(result, indent=2) if args.json else format_swarm_table(result))
        return EXIT_OK
    if args.what == "inference":
        from .agents.bench import bench_inference, format_inference_table

        rows = bench_inference()
        print(json.dumps(rows, indent=2) if args.json else format_inference_table(rows))
        return EXIT_OK
    if args.what == "cache":
        from .evolve.cache_bench import CacheBenchError, bench_cache, format_cache_table

        log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr))
        try:
            result = bench_cache(None if args.no_llm else _agents(args), log=log)
        except CacheBenchError as error:
            raise SystemExit(f"neurojit: bench cache: {error}") from None
        print(json.dumps(result, indent=2) if args.json else format_cache_table(result))
        return EXIT_OK
    if args.what == "repair":
        from .agents.bench import bench_repair, format_repair_table

        log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr))
        result = bench_repair(_agents(args), seed=args.seed, per_class=args.per_class, log=log)
        print(json.dumps(result, indent=2) if args.json else format_repair_table(result))
        return EXIT_OK
    if args.what == "ui":
        from .ui.bench import bench_ui, format_ui_table

        log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr))
        result = bench_ui(log=log)
        print(json.dumps(result, indent=2) if args.json else format_ui_table(result))
        return EXIT_OK
    if args.what == "evolve" and args.arms:
        return _bench_ablation(args)
    if args.what == "evolve":
        from .evolve.bench import bench_evolve, format_evolve_table

        log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
        conditions, address = _conditions(args.conditions), _cluster_address(args)
        agents = None if args.no_llm else _agents(args)
        result = _on_cluster(
            lambda: bench_evolve(
                conditions,
                budget=args.budget,
                seed=args.seed,
                agents=agents,
                log=log,
                cluster=address,
                evaluations=args.evaluations,
            )
        )
        print(json.dumps(result, indent=2) if args.json else format_evolve_table(result))
        return EXIT_OK
    if args.what == "gym":
        from .evolve.gym_bench import SETTINGS, bench_gym, format_gym_table

        names = [n.strip() for n in args.settings.split(",")] if args.settings else None
        unknown = [n for n in names or [] if n not in {s.name for s in SETTINGS}]
        if unknown:
            return _usage_error(
                f"--settings: unknown setting {unknown[0]!r}; choose from "
                + ", ".join(s.name for s in SETTINGS)
            )
        log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
        result = bench_gym(
            names,
            budget=args.budget if args.budget is not None else 300.0,
            polish=args.polish,
            seed=args.seed,
            log=log,
        )
        print(json.dumps(result, indent=2) if args.json else format_gym_table(result))
        return EXIT_OK
    if args.what == "cluster":
        from .cluster.bench import bench_cluster, format_cluster_table

        log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
        address = None if args.cluster in (None, "none") else _cluster_address(args)
        result = _on_cluster(lambda: bench_cluster(address, log=log))
        print(json.dumps(result, indent=2) if args.json else format_cluster_table(result))
        return EXIT_OK
    raise SystemExit(f"neurojit: unknown benchmark {args.what!r}")


def _bench_ablation(args) -> int:
    """``bench evolve --arms A,B --seeds K``: the same search with different proposers."""
    from .evolve.ablation import (
        AblationError,
        bench_ablation,
        check_arms,
        format_ablation_table,
        needs_models,
    )

    arms = [arm.strip() for arm in args.arms.split(",") if arm.strip()]
    try:
        check_arms(arms, have_models=not args.no_llm)
    except AblationError as error:
        return _usage_error(f"--arms {args.arms!r}: {error}")
    agents = _agents(args) if any(needs_models(arm) for arm in arms) else None
    log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
    result = bench_ablation(
        _conditions(args.conditions),
        arms,
        args.seeds,
        budget=args.budget,
        evaluations=args.evaluations,
        agents=agents,
        first_seed=args.seed,
        log=log,
    )
    print(json.dumps(result, indent=2) if args.json else format_ablation_table(result))
    return EXIT_OK


def _conditions(text: str) -> list[tuple[float, float]]:
    """``G:T,G:T`` (gravity:turbulence pairs) for bench evolve."""
    pairs = []
    for part in text.split(","):
        gravity, _, turbulence = part.partition(":")
        try:
            pairs.append((GRAVITY(gravity), TURBULENCE(turbulence or "1.0")))
        except argparse.ArgumentTypeError as error:
            raise SystemExit(f"neurojit: --conditions {text!r}: {error}") from None
    return pairs


def cmd_demo(args) -> int:
    from .demo import run_demo

    if args.samples:  # the user's folder: each program must be readable text
        folder = Path(args.samples)
        if not folder.is_dir():
            raise SystemExit(f"{folder}: error: not a folder of TensorLang samples")
        for path in sorted(folder.glob("*.mlir")) + sorted(folder.glob("broken/*.mlir")):
            _read(str(path))
    return run_demo(args)


def cmd_samples(args) -> int:
    """List the samples that come with NeuroJIT, or copy them into a folder to start from."""
    import shutil

    from .paths import samples_dir

    folder = samples_dir()
    samples = sorted(folder.glob("*.mlir")) + sorted(folder.glob("broken/*.mlir"))
    if args.copy:
        target = Path(args.copy)
        copied, kept = [], []
        for path in samples:
            destination = target / path.relative_to(folder)
            if destination.exists():  # never over a file the user may have changed
                kept.append(destination)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            copied.append(destination)
        if args.json:
            print(
                json.dumps(
                    {"copied": [str(p) for p in copied], "kept": [str(p) for p in kept]}, indent=2
                )
            )
        else:
            print(
                f"copied {len(copied)} sample(s) to {target}"
                + (f"; kept {len(kept)} file(s) already there" if kept else "")
            )
        return EXIT_OK
    rows = [
        {"name": str(path.relative_to(folder)), "path": str(path), "summary": _first_comment(path)}
        for path in samples
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    width = max((len(r["name"]) for r in rows), default=0)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['summary']}")
    print(
        f"\n{len(rows)} samples in {folder} (broken/: programs that fail verification, each "
        f"with its expected diagnostic); `neurojit samples --copy DIR` copies them"
    )
    return EXIT_OK


def _first_comment(path: Path) -> str:
    for line in _read(str(path)).splitlines():
        if line.startswith("//"):
            return line.lstrip("/ ").strip()
    return ""


def cmd_lsp(args) -> int:
    from .lsp.server import serve

    return serve(controller=args.controller)


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one line (argparse also prints the usage above it), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:

    parser = _Parser(
        prog="neurojit", description="NeuroJIT Workstation: TensorLang JIT compiler tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        p = sub.add_parser(command.name, help=command.help)
        command.add_arguments(p)
        p.set_defaults(handler=command.main)

    p = sub.add_parser(
        "repair",
        help="repair a broken TensorLang controller (symbolic tier, then the local LLM agents)",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--max-attempts", type=COUNT, default=6)
    p.add_argument("--time-budget", type=SECONDS, default=300.0, metavar="SECONDS")
    p.add_argument("--mode", choices=["dual", "monolithic"], default="dual")
    p.add_argument(
        "--output",
        "-o",
        help="where the repaired program goes (default FILE with suffix .repaired.mlir)",
    )
    p.add_argument("--log", metavar="PATH", help="write every attempt as a JSON log")
    p.add_argument("--json", action="store_true")
    _add_model_flags(p)
    p.set_defaults(handler=cmd_repair)

    p = sub.add_parser("bench", help="benchmarks (ratios against a baseline in the same run)")
    p.add_argument(
        "what",
        choices=["jit", "swarm", "inference", "repair", "cache", "ui", "evolve", "gym", "cluster"],
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--repeats", type=COUNT, default=None, help="default: 15 (jit), 5 (swarm)")
    p.add_argument("--file", default=None, help="controller for bench swarm (default: heuristic)")
    p.add_argument("--seed", type=SEED, default=0, help="corpus seed for bench repair")
    p.add_argument("--per-class", type=COUNT, default=1, help="broken programs per error class")
    p.add_argument(
        "--conditions",
        default="3.0:0.8,1.62:1.0",
        metavar="G:T,...",
        help="bench evolve: gravity:turbulence pairs (default 3.0:0.8,1.62:1.0)",
    )
    p.add_argument(
        "--budget",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="bench evolve: seconds per arm (default 60); bench gym: per setting (default 300)",
    )
    p.add_argument(
        "--settings",
        default=None,
        metavar="NAME,...",
        help="bench gym: which settings (stock, wind, heavy-wind; default all)",
    )
    p.add_argument(
        "--polish",
        type=_float_in(0.0, 0.9),
        default=0.5,
        metavar="SHARE",
        help="bench gym: share of the budget polishing in the environment (default 0.5)",
    )
    p.add_argument(
        "--evaluations",
        type=EVALUATIONS,
        default=None,
        metavar="N",
        help="bench evolve: bound the searching arms by N training evaluations instead of "
        "seconds (repeatable)",
    )
    p.add_argument(
        "--arms",
        default=None,
        metavar="A,B,...",
        help="bench evolve: an ablation over seeds of these arms instead (symbolic, random, "
        "guide, guide-plain, write; +bandit: a cost-aware bandit chooses the operators; "
        "+memory: edits that helped in earlier runs return as examples; +screen: a short "
        "tuning on 48 landers first), "
        "with significance tests between them",
    )
    p.add_argument(
        "--seeds",
        type=_int_in(1, 1000),
        default=5,
        metavar="K",
        help="bench evolve --arms: runs per arm, seeds --seed .. --seed+K-1 (default 5)",
    )
    p.add_argument(
        "--no-llm",
        action="store_true",
        help="bench evolve: skip the arms that need the models; bench cache: evolve the "
        "cold path without them",
    )
    _add_cluster_flag(p)  # bench evolve: its arms fly there; bench cluster: measure that one
    _add_model_flags(p)
    p.set_defaults(handler=cmd_bench)

    p = sub.add_parser("ui", help="the workstation (the same as `neurojit [FILE]`), with options")
    p.add_argument("file", nargs="?", default=None, help="TensorLang file to edit")
    p.add_argument(
        "--fps",
        type=FPS,
        default=None,
        help="lander frames per second (default 25, or 10 over SSH)",
    )
    p.add_argument("--theme", default=None, help="dark, light or high-contrast (themes/*.tcss)")
    p.add_argument("--layout", default=None, choices=["auto", "wide", "medium", "compact"])
    _add_condition_flags(p)  # F6, F7, F9 and Shift+F9 fly in them (Ctrl+O changes them)
    p.set_defaults(handler=cmd_ui)

    p = sub.add_parser("demo", help="headless demo: compile the samples, hot-swap a running loop")
    p.add_argument("--samples", default=None, help="folder of TensorLang samples")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("lsp", help="language server for TensorLang on stdin/stdout (for editors)")
    p.add_argument(
        "--controller",
        action="store_true",
        help="hold every file to the controller ABI (as check --controller)",
    )
    p.add_argument(
        "--stdio",
        action="store_true",
        help="accepted for editors that pass it: stdio is the only transport",
    )
    p.set_defaults(handler=cmd_lsp)

    p = sub.add_parser("samples", help="list the built-in TensorLang samples, or copy them")
    p.add_argument("--copy", metavar="DIR", help="copy them into DIR (existing files are kept)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_samples)
    return parser


def cmd_ui(args) -> int:
    _check_workstation_start(args.file)
    from .ui.app import run_app

    return run_app(
        args.file,
        fps=args.fps,
        theme=args.theme,
        layout=args.layout,
        conditions=_environment(args, warn=False),  # the workstation warns on its screen
    )


def _check_workstation_start(path: str | None) -> None:
    """Refuse at once what the workstation cannot work with: a file that exists but is
    not a readable UTF-8 file, and no terminal (a script, CI: the app would wait forever
    for a screen)."""
    if path is not None and Path(path).exists():
        if not Path(path).is_file():
            raise SystemExit(f"{path}: error: not a file")
        _read(path)
    try:
        terminal = sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # a stream closed or replaced
        terminal = False
    if not terminal:
        raise SystemExit(
            "neurojit: error: the workstation needs a terminal (standard input "
            "and output are not one); without one, try `neurojit demo` or "
            "`neurojit --help`"
        )


def _unknown_command(word: str, commands) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(commands), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "commands: " + ", ".join(sorted(commands))
    return (
        f"unknown command {word!r}; {hint} (to edit a file in the workstation, give one "
        f"that exists or a new name ending in .mlir)"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        # `neurojit --gravity 3 [FILE]`: the workstation's own options, given first
        argv = ["ui", *argv]
    elif not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        # `neurojit` or `neurojit FILE`: the workstation, for a file that exists or a new
        # .mlir; any other word is a mistyped command
        if argv and not (Path(argv[0]).exists() or argv[0].endswith(".mlir")):
            parser.error(_unknown_command(argv[0], commands))
        argv = ["ui", *argv]
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CommandError as error:
        print(error.line(), file=sys.stderr)
        return error.status
    except OSError as error:  # a path given on the command line that cannot be used
        where = f"{error.filename}: " if error.filename else ""
        print(f"neurojit: error: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_DIAGNOSTICS
    except KeyboardInterrupt:
        return 130  # the shell's code for Ctrl+C


if __name__ == "__main__":
    sys.exit(main())
