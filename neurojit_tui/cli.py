"""The ``neurojit`` command line.

``neurojit check|compile|run|bench|demo ...`` work headless; ``neurojit [FILE]`` is
reserved for the workstation UI. Every command uses the same engine packages as the UI.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from .bounded import bounded_float
from .sim.model import GRAVITY_RANGE, TURBULENCE_RANGE

EXIT_OK = 0
EXIT_DIAGNOSTICS = 1  # the program has errors
EXIT_RUNTIME = 2  # it ran, and an assert failed
EXIT_USAGE = 64
EXIT_USAGE_ERROR = 2  # bad arguments or input files (argparse's status too)


# Far above any TensorLang program; what is larger (or endless, like /dev/zero) is not one.
MAX_PROGRAM_BYTES = 16 * 2**20


def _read(path: str) -> str:
    """The text of a program file; for one that cannot be read, is not UTF-8 or is too
    large, a one-line ``FILE: error: ...`` and exit status 1."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_PROGRAM_BYTES + 1)
    except OSError as error:
        raise SystemExit(f"{path}: error: cannot read it: {error.strerror or error}") from None
    if len(data) > MAX_PROGRAM_BYTES:
        raise SystemExit(
            f"{path}: error: larger than {MAX_PROGRAM_BYTES // 2**20} MiB, "
            f"so not a TensorLang program"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SystemExit(
            f"{path}: error: not UTF-8 text (byte 0x{data[error.start]:02x} on "
            f"line {line}, offset {error.start}); TensorLang files are UTF-8"
        ) from None


# -- numbers on the command line: argparse refuses what is out of range, saying the range --


def _int_in(low: int, high: int):
    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{value} is out of range: give an integer from {low:,} to {high:,}"
            )
        return value

    return integer


def _float_in(low: float, high: float, low_open: bool = False):
    def number(text: str) -> float:
        try:
            return bounded_float(text, low, high, low_open)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return number


AGENTS = _int_in(1, 10**9)  # the memory guard (_check_swarm_memory) has the last word
SEED_MAX = 2**63 - 1
SEED = _int_in(0, SEED_MAX)  # the noise generator's seed is an unsigned 64-bit number
MODEL_SEED = _int_in(0, 2**32 - 1)  # llama.cpp's seed is 32 bits
STEPS = _int_in(1, 10**7)
THREADS = _int_in(1, 1024)
WORKERS = _int_in(0, 1024)
COUNT = _int_in(1, 10**6)  # candidates, attempts, repeats, episodes...
EVALUATIONS = _int_in(1, 10**12)  # training evaluations of a search
GRAVITY = _float_in(*GRAVITY_RANGE)  # m/s^2
TURBULENCE = _float_in(*TURBULENCE_RANGE)
SECONDS = _float_in(0.0, 10.0**7, low_open=True)
FPS = _float_in(0.0, 1000.0, low_open=True)


def _print_diagnostics(diagnostics, as_json: bool) -> None:
    if as_json:
        print(json.dumps([d.to_json() for d in diagnostics], indent=2))
    else:
        for d in diagnostics:
            print(d.format(), file=sys.stderr)


def cmd_check(args) -> int:
    from .compiler import Compiler

    compiler = Compiler()
    diagnostics = []
    for path in args.files:
        diagnostics += compiler.check(_read(path), path, require_control=args.controller)
    _print_diagnostics(diagnostics, args.json)
    if not args.json and not diagnostics:
        print(f"{len(args.files)} file(s) verified", file=sys.stderr)
    return EXIT_DIAGNOSTICS if any(d.severity == "error" for d in diagnostics) else EXIT_OK


def cmd_compile(args) -> int:
    from .compiler import CompileError, Compiler

    compiler = Compiler(tier=args.tier)
    text = _read(args.file)
    try:
        if args.emit == "mlir-lowered":
            print(
                compiler.lower(
                    text,
                    args.file,
                    stop_after_tensorlang=True,
                    print_ir_after_all=args.print_ir_after_all,
                ).ir_after_tensorlang
            )
        elif args.emit == "llvm-dialect":
            print(
                compiler.lower(text, args.file, print_ir_after_all=args.print_ir_after_all).module
            )
        else:
            program = compiler.compile(text, args.file, print_ir_after_all=args.print_ir_after_all)
            if args.emit == "obj":
                out = args.output or str(Path(args.file).with_suffix(".o").name)
                program.dump_object(out)
                print(f"wrote {out}", file=sys.stderr)
            t = program.timings
            print(
                f"{args.file}: compiled {', '.join('@' + n for n in program.signatures)} "
                f"(parse+verify {t.parse_verify_s * 1e3:.1f} ms, lower {t.lower_s * 1e3:.1f} ms, "
                f"JIT {t.jit_s * 1e3:.1f} ms)",
                file=sys.stderr,
            )
    except CompileError as error:
        _print_diagnostics(error.diagnostics, False)
        return EXIT_DIAGNOSTICS
    return EXIT_OK


def _to_json(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.bool_)):
        return value.item()
    return value


def cmd_run(args) -> int:
    from .compiler import CompileError, Compiler

    try:
        values = [json.loads(a) for a in args.arg]
    except json.JSONDecodeError as error:
        raise SystemExit(f"neurojit: --arg is not valid JSON: {error}") from None
    try:
        program = Compiler().compile(_read(args.file), args.file)
    except CompileError as error:
        _print_diagnostics(error.diagnostics, False)
        return EXIT_DIAGNOSTICS
    try:
        results, violation = program.call(args.entry, *values)
    except (KeyError, ValueError, TypeError, OverflowError) as error:  # arguments that do not fit
        raise SystemExit(f"neurojit: {error.args[0]}") from None
    print(
        json.dumps(
            {
                "entry": args.entry,
                "results": [_to_json(r) for r in results],
                "assert_violation": violation.to_json() if violation else None,
            }
        )
    )
    if violation:
        print(violation.format(), file=sys.stderr)
        return EXIT_RUNTIME
    return EXIT_OK


# An upper bound of a swarm run's memory: per lander (its state and parameters, and the
# temporaries that set them up) and once per process (MLIR, the compiled kernel).
# tests/test_cli_input.py measures a real run against it.
SWARM_BYTES_PER_AGENT = 256
SWARM_BASE_BYTES = 512 * 2**20


def _check_swarm_memory(agents: int) -> None:
    """Refuse, before anything is allocated, a swarm that does not fit in the memory
    available now (it would push the machine into swapping or the kernel's OOM killer)."""
    import psutil

    need = SWARM_BASE_BYTES + agents * SWARM_BYTES_PER_AGENT
    available = psutil.virtual_memory().available
    if need > available:
        fit = max(0, (available - SWARM_BASE_BYTES) // SWARM_BYTES_PER_AGENT)
        raise SystemExit(
            f"neurojit: error: a swarm of {agents:,} landers needs about "
            f"{need / 2**30:.1f} GiB of memory and {available / 2**30:.1f} GiB is "
            f"available; at most {fit:,} landers fit"
        )


def _cluster_address(args) -> str | None:
    """The Ray cluster a command flies on: ``--cluster``, else ``[cluster] address`` of
    the config file; None: this machine. One that does not answer is refused here,
    before the command does anything (this does not import Ray)."""
    from .cluster import ClusterError, resolve_address
    from .cluster.config import concrete_address, probe

    try:
        address = resolve_address(args.cluster)
        if address is not None:
            probe(concrete_address(address))
        return address
    except ClusterError as error:
        raise SystemExit(f"neurojit: error: {error}") from None


def _on_cluster(work):
    """``work()``, with a cluster that cannot be used (unreachable, every worker lost) as
    one line naming its address: exit 1, no traceback, nothing kept from the run."""
    from .cluster import ClusterError

    try:
        return work()
    except ClusterError as error:
        raise SystemExit(f"neurojit: error: {error}") from None


def _environment(args, warn: bool = True):
    """The conditions the flags ask for; with ``warn``, a warning on stderr if no
    controller can land under them (the run still goes ahead: its numbers say so too)."""
    from .sim import Environment

    env = Environment(gravity=args.gravity, turbulence=args.turbulence)
    if warn and (reason := env.impossible()) is not None:
        print(f"neurojit: warning: {reason}", file=sys.stderr)
    return env


def cmd_swarm(args) -> int:
    from .sim import evaluate

    _check_swarm_memory(args.agents)
    env = _environment(args)
    text = _read(args.file)
    address = _cluster_address(args)
    if address is None:
        report = evaluate(
            text,
            args.file,
            env,
            agents=args.agents,
            seed=args.seed,
            threads=args.threads,
            max_steps=args.max_steps,
            timeout_s=args.timeout,
        )
    else:
        from .cluster.scheduler import RayCluster
        from .cluster.swarm import evaluate_on_cluster

        def fly():
            cluster = RayCluster(address)
            try:
                return evaluate_on_cluster(
                    cluster,
                    text,
                    args.file,
                    env,
                    args.agents,
                    args.seed,
                    args.max_steps,
                    args.timeout,
                )
            finally:
                cluster.close()

        report = _on_cluster(fly)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    elif report.ok:
        print(
            f"{args.file}: {report.agents} landers, seed {report.seed}, gravity "
            f"{env.gravity:g} m/s^2, turbulence {env.turbulence:g}\n"
            f"  landed {report.landed}  crashed {report.crashed}  out of bounds "
            f"{report.out_of_bounds}  still flying {report.timed_out}\n"
            f"  success rate {report.success_rate:.0%}  mean score {report.mean_score:.1f}  "
            f"worst {report.worst_score:.1f}  CVaR-10 {report.cvar10_score:.1f}  "
            f"solved (>= 200) {report.solved}\n"
            f"  {report.seconds * 1e3:.1f} ms, {report.agent_steps_per_s / 1e6:.1f} M "
            f"agent-steps/s on {report.threads} thread(s)"
        )
    if not report.ok:
        if not args.json:
            print(f"{args.file}: candidate failed: {report.failure}", file=sys.stderr)
            _print_diagnostics(report.diagnostics, False)
            if report.assert_violation is not None:
                print(report.assert_violation.format(), file=sys.stderr)
        return EXIT_DIAGNOSTICS if report.failure == "does not compile" else EXIT_RUNTIME
    return EXIT_OK


def _agent_overrides(args) -> dict:
    """CLI flags that override the config file, per agent role."""
    shared = {"n_threads": args.threads, "n_threads_batch": args.threads, "seed": args.model_seed}
    overrides = {
        "reasoning": {"model": args.reasoning_model, **shared},
        "synthesis": {"model": args.synthesis_model, **shared},
    }
    for setting in args.agent_set or []:
        name, _, value = setting.partition("=")
        role, _, key = name.partition(".")
        if role not in overrides or not key or not value:
            raise SystemExit(
                f"neurojit: --agent-set wants ROLE.KEY=VALUE with ROLE reasoning "
                f"or synthesis, got {setting!r}"
            )
        try:
            overrides[role][key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[role][key] = value  # a path or a model name
    return overrides


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


def cmd_synthesize(args) -> int:
    from .agents import ModelError
    from .agents.pipeline import synthesize
    from .paths import neurojit_home

    _check_swarm_memory(args.agents)
    agents = _agents(args)
    env = _environment(args)
    out_dir = args.out_dir or str(neurojit_home() / "candidates" / time_stamp())
    log = (lambda message: None) if args.json else (lambda m: print(m, file=sys.stderr))
    registry = None if args.no_cache else _registry(args)
    try:
        if args.from_nearby:
            from .agents.pipeline import cross_generation

            if registry is None:
                raise SystemExit("neurojit: --from-nearby needs the registry (drop --no-cache)")
            run = cross_generation(
                agents,
                env,
                registry,
                parents=args.from_nearby,
                agents_in_swarm=args.agents,
                seed=args.seed,
                out_dir=out_dir,
                log=log,
            )
        else:
            run = synthesize(
                agents,
                env,
                candidates=args.candidates,
                agents_in_swarm=args.agents,
                seed=args.seed,
                out_dir=out_dir,
                log=log,
                registry=registry,
            )
    except ModelError as error:
        raise SystemExit(f"neurojit: {error}") from None
    if registry is not None:
        registry.flush()
    if args.json:
        print(json.dumps(run.to_json(), indent=2))
    elif run.best:
        print(
            f"best: {run.best.path} (success {run.best.success_rate:.0%}, mean score "
            f"{run.best.mean_score:.1f}) in {run.seconds:.3f} s; cache: {run.cache}"
        )
    else:
        print(f"no candidate flew ({len(run.candidates)} tried, {run.seconds:.1f} s)")
    return EXIT_OK if run.status == "ok" else EXIT_RUNTIME


def cmd_evolve(args) -> int:
    from .evolve import EvolveOptions, run_evolution
    from .evolve.report import progress_line
    from .evolve.results import BestSoFar, EvolutionEvent, GenerationEnded

    if args.replay:
        return _replay_evolution(args)
    gym_fields: dict = {}
    if args.env is not None:
        from .evolve.gym_judging import check_env, env_fields
        from .gym.environments import EnvSpec, FlightError

        try:  # made once up front: a bad environment is one line before any search
            spec = EnvSpec.parse(args.env, args.env_arg)
            check_env(spec)
        except FlightError as error:
            return _usage_error(str(error))
        gym_fields = env_fields(spec)
    elif args.env_arg or args.polish:
        return _usage_error(("--env-arg" if args.env_arg else "--polish") + " needs --env")
    seeds = [(path, _read(path)) for path in args.files]
    env = _environment(args)
    if args.generations is None and args.budget is None and args.evaluations is None:
        args.budget = 120.0
    options = EvolveOptions(
        generations=args.generations,
        budget_s=args.budget,
        evaluations=args.evaluations,
        population=args.population,
        islands=args.islands,
        seed=args.seed,
        use_llm=not args.no_llm,
        llm_mode=args.llm_mode,
        threads=args.threads_swarm,
        cluster=_cluster_address(args) or "none",
        objective=args.objective,
        gym_validation_episodes=args.gym_episodes,
        gym_polish_share=args.polish,
        gym_polish_episodes=args.polish_episodes,
        **gym_fields,
    )
    registry = None if args.no_cache else _registry(args)
    agents = None if args.no_llm else _agents(args)

    def show(event: EvolutionEvent) -> None:
        if args.json:
            return
        if isinstance(event, GenerationEnded):
            print(progress_line(event), file=sys.stderr, flush=True)
        elif isinstance(event, BestSoFar) and event.generation > 0:
            print(
                f"  new best {event.id}: {event.description} (fitness {event.fitness:.2f})",
                file=sys.stderr,
                flush=True,
            )

    from .agents import ModelError

    try:
        result = _on_cluster(
            lambda: run_evolution(
                env, options, seeds=seeds or None, registry=registry, agents=agents, on_event=show
            )
        )
    except ModelError as error:
        raise SystemExit(f"neurojit: {error}") from None
    return _report_evolution(args, result, registry)


def _report_evolution(args, result, registry) -> int:
    from .evolve.report import summary

    if registry is not None:
        registry.flush()
    if result.best is not None and args.output:
        Path(args.output).write_text(result.best.source)
        result = replace(result, best=replace(result.best, path=args.output))
    print(json.dumps(result.to_json(), indent=2) if args.json else summary(result))
    return EXIT_OK if result.status == "ok" else EXIT_RUNTIME


def _replay_evolution(args) -> int:
    """``evolve --replay RUN.json``: the recorded run again (its conditions, options and
    seed programs; bounded by its evaluation count instead of the clock)."""
    from .agents import ModelError
    from .evolve import run_evolution
    from .evolve.replay import ReplayError, load_replay

    if args.files:
        return _usage_error("evolve --replay takes its seed programs from the run's JSON")
    registry = None if args.no_cache else _registry(args)
    try:
        replay = load_replay(args.replay, registry)
    except ReplayError as error:
        return _usage_error(str(error))
    for warning in replay.warnings:
        print(f"neurojit: warning: {warning}", file=sys.stderr)
    options = replace(replay.options, threads=args.threads_swarm)
    agents = _agents(args) if options.use_llm else None
    if not args.json:
        bound = (
            f"{options.evaluations} evaluations"
            if options.evaluations is not None
            else f"{options.generations} generations"
        )
        print(
            f"replaying {args.replay}: seed {options.seed}, {bound}, "
            f"{len(replay.seeds)} seed program(s)",
            file=sys.stderr,
        )
    try:
        result = run_evolution(
            replay.env, options, seeds=replay.seeds, registry=registry, agents=agents
        )
    except ModelError as error:
        raise SystemExit(f"neurojit: {error}") from None
    return _report_evolution(args, result, registry)


def _usage_error(message: str) -> int:
    """Bad input the parser cannot see: one line on stderr, exit status 2 (as argparse)."""
    print(f"neurojit: error: {message}", file=sys.stderr)
    return EXIT_USAGE_ERROR


def _registry(args):
    from .compiler import Compiler
    from .memory import Registry, rebuild_with

    return Registry(args.registry, rebuild=rebuild_with(Compiler()))


def cmd_registry(args) -> int:
    registry = _registry(args)
    if args.action == "ls":
        entries = registry.entries()
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "key": e.key,
                            "file": e.file,
                            "scores": e.scores,
                            "condition": e.key_data.get("condition"),
                            "created": e.created,
                        }
                        for e in entries
                    ],
                    indent=2,
                )
            )
        for e in entries if not args.json else []:
            c = e.key_data.get("condition", {})
            print(
                f"{e.key}  gravity {c.get('gravity')}  turbulence {c.get('turbulence')}  "
                f"success {e.scores.get('success_rate')}  {e.file}"
            )
    elif args.action == "show":
        if not args.key:
            raise SystemExit("neurojit: registry show needs a KEY")
        entry = registry.best(args.key)
        if entry is None:
            print(f"neurojit: no valid entry {args.key}", file=sys.stderr)
            return EXIT_DIAGNOSTICS
        print(json.dumps(entry.to_json(), indent=2) if args.json else entry.source)
    elif args.action == "verify":
        result = registry.verify()
        print(
            json.dumps(result, indent=2)
            if args.json
            else f"checked {result['checked']} version(s); problems: {len(result['problems'])}"
        )
        for problem in result["problems"] if not args.json else []:
            print("  " + problem)
        return EXIT_OK if not result["problems"] else EXIT_DIAGNOSTICS
    elif args.action == "gc":
        result = registry.gc()
        print(json.dumps(result) if args.json else f"removed {result['removed']} file(s)")
    for warning in registry.warnings if args.action != "verify" else []:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


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


def cmd_gym(args) -> int:
    from .compiler import CompileError, Compiler
    from .gym.environments import EnvSpec, FlightError
    from .gym.fly import fly
    from .gym.judge import Judge, default_workers

    try:
        spec = EnvSpec.parse(args.env, args.env_arg)
    except FlightError as error:
        print(f"neurojit: error: {error}", file=sys.stderr)
        return EXIT_RUNTIME
    try:
        program = Compiler().compile(_read(args.file), args.file, require_control=True)
    except CompileError as error:
        _print_diagnostics(error.diagnostics, False)
        return EXIT_DIAGNOSTICS
    seeds = [args.seed + episode for episode in range(args.episodes)]
    if seeds[-1] > SEED_MAX:
        print(
            f"neurojit: error: --seed {args.seed}: episode seeds pass {SEED_MAX}", file=sys.stderr
        )
        return EXIT_RUNTIME
    workers = default_workers() if args.workers is None else args.workers
    try:
        if workers == 0:
            report, _ = fly(program, spec, seeds=seeds, max_steps=args.max_steps)
        else:
            with Judge(spec, workers=workers, max_steps=args.max_steps) as judge:
                report = judge.fly(program, seeds)
    except FlightError as error:
        print(f"neurojit: error: {error}", file=sys.stderr)
        return EXIT_RUNTIME
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        returns = report.returns
        print(
            f"{args.file} in {spec.label()}: {report.episodes} episode(s), seed {args.seed}"
            f"{'' if len(seeds) == 1 else f'..{seeds[-1]}'}, "
            f"mean return {report.mean_return:.1f} (min {min(returns):.1f}, max "
            f"{max(returns):.1f}), CVaR-10 {report.cvar10:.1f}, landed {report.landed:.0%}, "
            f"solved {report.solved:.0%}, {report.seconds:.2f} s"
        )
    if report.violation is not None:
        print(report.violation.format(), file=sys.stderr)
        return EXIT_RUNTIME
    return EXIT_OK


def cmd_lsp(args) -> int:
    from .lsp.server import serve

    return serve(controller=args.controller)


class _EmitKinds:
    """``compile --emit``'s choices, read from the compiler driver only when argparse checks
    a value or prints help: importing the driver loads MLIR, which the processes that
    only build this parser (the workstation's UI, the language server) must not do."""

    @staticmethod
    def _kinds():
        from .compiler.driver import EMIT_KINDS

        return EMIT_KINDS

    def __contains__(self, kind) -> bool:
        return kind in self._kinds()

    def __iter__(self):
        return iter(self._kinds())


def _add_cluster_flag(p) -> None:
    p.add_argument(
        "--cluster",
        metavar="auto|ADDRESS",
        default=None,
        help="fly on a Ray cluster: auto (the one started on this machine) or the "
        "head's HOST:PORT; none: this machine, whatever ~/.neurojit/config.toml "
        "says ([cluster] address)",
    )


def _add_model_flags(p) -> None:
    p.add_argument("--reasoning-model", help="embedded model name or GGUF path")
    p.add_argument("--synthesis-model", help="embedded model name or GGUF path")
    p.add_argument(
        "--threads", type=THREADS, default=None, help="llama.cpp threads (default: physical cores)"
    )
    p.add_argument("--model-seed", type=MODEL_SEED, default=None)
    p.add_argument(
        "--agent-set",
        action="append",
        metavar="ROLE.KEY=VALUE",
        help="any agent setting, e.g. synthesis.temperature=0.2 or "
        "reasoning.n_ctx=4096 (repeatable)",
    )


def _add_condition_flags(p) -> None:
    """--gravity and --turbulence: the conditions the landers fly in (the Moon's unless
    given), for every command that flies them."""
    from .sim.model import Environment

    moon = Environment()
    p.add_argument(
        "--gravity", type=GRAVITY, default=moon.gravity, help="m/s^2 (default: the Moon's, 1.62)"
    )
    p.add_argument(
        "--turbulence", type=TURBULENCE, default=moon.turbulence, help="0 = calm (default 1)"
    )


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one line (argparse also prints the usage above it), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .sim.model import MAX_STEPS

    parser = _Parser(
        prog="neurojit", description="NeuroJIT Workstation: TensorLang JIT compiler tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="parse and verify TensorLang files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print diagnostics as a JSON list")
    p.add_argument(
        "--controller", action="store_true", help="also require @control with the controller ABI"
    )
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("compile", help="lower and JIT-compile a TensorLang file")
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--emit",
        choices=_EmitKinds(),
        metavar="KIND",
        help="print lowered IR or write an object file (%(choices)s)",
    )
    p.add_argument("-o", "--output", help="object file path for --emit obj")
    p.add_argument(
        "--print-ir-after-all",
        action="store_true",
        help="print the IR after every pass (to stderr)",
    )
    p.add_argument(
        "--tier",
        default="quick",
        choices=("quick", "full"),
        help="quick: a short LLVM pipeline and fast code generation (default); full: LLVM -O3",
    )
    p.set_defaults(handler=cmd_compile)

    p = sub.add_parser("run", help="JIT-compile a file and call a function")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--entry", required=True, metavar="NAME", help="function to call (without @)")
    p.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="JSON",
        help="one argument as JSON (a number or nested list); repeat per argument",
    )
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("swarm", help="fly a swarm of landers with a controller and score it")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--agents", type=AGENTS, default=100)
    p.add_argument("--seed", type=SEED, default=0)
    _add_condition_flags(p)
    p.add_argument("--threads", type=THREADS, default=None, help="default: every core")
    p.add_argument("--max-steps", type=STEPS, default=MAX_STEPS)
    p.add_argument("--timeout", type=SECONDS, default=None, metavar="SECONDS")
    p.add_argument("--json", action="store_true")
    _add_cluster_flag(p)
    p.set_defaults(handler=cmd_swarm)

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

    p = sub.add_parser(
        "synthesize",
        help="reasoning -> synthesis -> compile -> swarm; keep the most robust candidate",
    )
    _add_condition_flags(p)
    p.add_argument("--candidates", type=COUNT, default=3)
    p.add_argument("--agents", type=AGENTS, default=100, help="landers per swarm evaluation")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--out-dir", help="where candidates go (default ~/.neurojit/candidates/TIME)")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--registry", help="registry folder (default ~/.neurojit/registry or $NEUROJIT_REGISTRY)"
    )
    p.add_argument("--no-cache", action="store_true", help="neither consult nor fill the registry")
    p.add_argument(
        "--from-nearby",
        type=_int_in(0, 1000),
        default=0,
        metavar="K",
        help="cross-generation: breed a child from K stored controllers for the "
        "nearest conditions; the swarm decides if it beats them",
    )
    _add_model_flags(p)
    p.set_defaults(handler=cmd_synthesize)

    p = sub.add_parser(
        "evolve",
        help="evolve controllers: CMA-ES on the constants, symbolic "
        "and LLM mutations of the structure, validated on unseen "
        "landers",
    )
    p.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="seed programs (default: the samples and stored controllers for the "
        "nearest conditions)",
    )
    _add_condition_flags(p)
    p.add_argument(
        "--budget",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="stop after this long (default 120 s unless --generations is given)",
    )
    p.add_argument(
        "--generations",
        type=COUNT,
        default=None,
        help="stop after this many generations (same --seed and --generations: the same result)",
    )
    p.add_argument(
        "--evaluations",
        type=EVALUATIONS,
        default=None,
        metavar="N",
        help="stop once N training evaluations are done (same --seed and --evaluations: "
        "the same result, on any machine)",
    )
    p.add_argument(
        "--replay",
        metavar="RUN.json",
        default=None,
        help="run a recorded search again to the same best: its conditions, options and "
        "seed programs from RUN.json (evolve --json, or a registry entry's JSON)",
    )
    p.add_argument("--population", type=COUNT, default=4, help="programs kept per island")
    p.add_argument("--islands", type=_int_in(1, 64), default=2)
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument(
        "--env",
        default=None,
        metavar="ID",
        help="a Gymnasium environment whose spaces fit (Box(8) observation, Box(2) "
        "action) chooses among the finalists and validates the winner, on episodes the "
        "search never flew; the native swarm still trains",
    )
    p.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a gymnasium.make argument for --env (repeatable); VALUE true/false, a number or text",
    )
    p.add_argument(
        "--objective",
        choices=("landed", "return"),
        default="landed",
        help="landed: landed rate, then the return (default); return: the mean episode "
        "return, then its CVaR-10 (the training fitness becomes the native mean score)",
    )
    p.add_argument(
        "--gym-episodes",
        type=COUNT,
        default=1000,
        metavar="N",
        help="--env: validation episodes (default 1000)",
    )
    p.add_argument(
        "--polish",
        type=_float_in(0.0, 0.9),
        default=0.0,
        metavar="SHARE",
        help="--env: spend this share of --budget tuning the winner's constants with CMA-ES "
        "on the environment's own episodes (default 0: none)",
    )
    p.add_argument(
        "--polish-episodes",
        type=COUNT,
        default=32,
        metavar="N",
        help="--polish: training episodes each candidate flies (default 32)",
    )
    p.add_argument(
        "--no-llm", action="store_true", help="symbolic mutations only (no model is loaded)"
    )
    p.add_argument(
        "--llm-mode",
        choices=("guide", "write"),
        default="guide",
        help="guide: the model picks a change that a symbolic edit makes (default); "
        "write: the synthesis agent writes it",
    )
    p.add_argument(
        "--swarm-threads",
        dest="threads_swarm",
        type=THREADS,
        default=None,
        help="threads flying the landers (default: every core)",
    )
    p.add_argument("-o", "--output", help="write the best program here")
    p.add_argument("--json", action="store_true")
    p.add_argument("--registry", help="registry folder (default ~/.neurojit/registry)")
    p.add_argument(
        "--no-cache", action="store_true", help="neither seed from nor store into the registry"
    )
    _add_cluster_flag(p)
    _add_model_flags(p)
    p.set_defaults(handler=cmd_evolve)

    p = sub.add_parser("registry", help="browse and check the controller registry")
    p.add_argument("action", choices=["ls", "show", "verify", "gc"])
    p.add_argument("key", nargs="?")
    p.add_argument("--registry", help="registry folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_registry)

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
    # evolve's --env, --env-arg and --objective, for F9 (Ctrl+O changes them too)
    p.add_argument(
        "--env",
        default=None,
        metavar="ID",
        help="F9 evolves judged in this Gymnasium environment (as evolve --env): it "
        "chooses among the finalists and validates the winner",
    )
    p.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a gymnasium.make argument for --env (repeatable); VALUE true/false, a number or text",
    )
    p.add_argument(
        "--objective",
        choices=("landed", "return"),
        default="landed",
        help="what F9's evolutions rank by (as evolve --objective; default landed)",
    )
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

    p = sub.add_parser("gym", help="fly a TensorLang controller in a Gymnasium environment")
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--env",
        required=True,
        metavar="ID",
        help="a Gymnasium environment id whose spaces fit (Box(8) observation, "
        "Box(2) action), e.g. NeuroJIT/LunarLander-v0 or LunarLanderContinuous-v3",
    )
    p.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a gymnasium.make argument (repeatable); VALUE true/false, a number or text, "
        "e.g. --env-arg enable_wind=true --env-arg wind_power=15",
    )
    p.add_argument("--episodes", type=COUNT, default=1)
    p.add_argument(
        "--seed",
        type=SEED,
        default=0,
        help="episode i is reset with seed S+i (default 0)",
    )
    p.add_argument(
        "--workers",
        type=WORKERS,
        default=None,
        metavar="N",
        help="worker processes stepping the environments (default: one per core; "
        "0: every episode in this process)",
    )
    p.add_argument(
        "--max-steps",
        type=STEPS,
        default=10_000,
        help="per episode, for an environment without a time limit (default 10000)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_gym)

    p = sub.add_parser("samples", help="list the built-in TensorLang samples, or copy them")
    p.add_argument("--copy", metavar="DIR", help="copy them into DIR (existing files are kept)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_samples)
    return parser


def cmd_ui(args) -> int:
    from .gym.environments import EnvSpec, FlightError

    spec = None
    if args.env is not None:
        try:  # the words only: the engine makes the environment when F9 asks for it
            spec = EnvSpec.parse(args.env, args.env_arg)
        except FlightError as error:
            return _usage_error(str(error))
    elif args.env_arg:
        return _usage_error("--env-arg needs --env")
    _check_workstation_start(args.file)
    from .ui.app import run_app
    from .ui.conditions import EvolutionTarget

    return run_app(
        args.file,
        fps=args.fps,
        theme=args.theme,
        layout=args.layout,
        conditions=_environment(args, warn=False),  # the workstation warns on its screen
        target=EvolutionTarget(spec, args.objective),
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
    except OSError as error:  # a path given on the command line that cannot be used
        where = f"{error.filename}: " if error.filename else ""
        print(f"neurojit: error: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_DIAGNOSTICS
    except KeyboardInterrupt:
        return 130  # the shell's code for Ctrl+C


if __name__ == "__main__":
    sys.exit(main())
