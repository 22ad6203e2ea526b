"""``neurojit evolve``, and the workstation's F9: evolve controllers (CMA-ES on the
constants, symbolic and LLM mutations of the structure, validated on unseen landers).

The request carries the conditions (``Environment``) and the search's options
(``EvolveOptions``) whole: their defaults are the options' own, and a new option is a
field of ``EvolveOptions`` plus one ``option(...)`` line in ``add_arguments`` here.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..evolve.results import (
    ENV_POLISH_SHARE,
    BestSoFar,
    EvolutionEvent,
    EvolutionResult,
    EvolveOptions,
    FailedCandidate,
    GenerationEnded,
    SearchLog,
)
from ..sim.model import Environment
from .args import (
    COUNT,
    EVALUATIONS,
    SECONDS,
    SEED,
    THREADS,
    add_cluster_flag,
    add_condition_flags,
    add_model_flags,
    agent_overrides,
    cluster_address,
    conditions_given,
    environment_from,
    float_in,
    int_in,
    read_program,
)
from .base import (
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE_ERROR,
    AgentToken,
    Command,
    CommandError,
    Context,
    Emit,
    Event,
    LocalContext,
    Request,
    warn,
)


@dataclass(frozen=True)
class EvolveReply:
    result: EvolutionResult | None  # None: the search did not start (``refused`` says why)
    # why not: an objective it does not know, or a Gymnasium environment that cannot be
    # made or whose spaces do not fit (one line)
    refused: str | None = None


@dataclass(frozen=True)
class EvolveRequest(Request[EvolveReply], op="evolve"):
    """Evolve controllers for ``environment`` from ``text`` (the workstation's buffer, if
    not empty), ``seeds`` and, unless ``with_default_seeds`` is off, the samples and the
    registry's controllers for nearby conditions (``evolve_seeds``), streaming
    ``EvolutionProgress`` and, with ``options.use_llm``, ``AgentToken``. A
    ``CancelRequest`` stops it with the best so far. With ``options.env_id`` the
    environment is made first: one it cannot make is a refused reply, not an error."""

    text: str | None = None
    path: str | None = None
    seeds: tuple[tuple[str, str], ...] = ()  # more seed programs: (path, text)
    environment: Environment = field(default_factory=Environment)
    options: EvolveOptions = field(default_factory=EvolveOptions)
    agents: dict[str, Any] | None = None  # per-role overrides, as Agents.from_config takes
    with_default_seeds: bool = True
    use_registry: bool = True  # seed from it and offer it the winner
    registry: str | None = None  # its folder; None: the default one


@dataclass(frozen=True)
class EvolutionProgress(Event, topic="evolution"):
    """One of the search's events, in the field of its kind, the others None (a field per
    kind rather than one of the union type, so that ``from_wire`` knows its type). A tuned
    seed's ``BestSoFar`` carries the seed as written in ``parent_text``."""

    generation: GenerationEnded | None = None
    best: BestSoFar | None = None
    failure: FailedCandidate | None = None
    log: SearchLog | None = None

    @classmethod
    def of(cls, event: EvolutionEvent) -> EvolutionProgress:
        """The message that carries ``event``."""
        if isinstance(event, GenerationEnded):
            return cls(generation=event)
        if isinstance(event, BestSoFar):
            return cls(best=event)
        if isinstance(event, FailedCandidate):
            return cls(failure=event)
        return cls(log=event)


def evolve_seeds(request: EvolveRequest, registry: Any) -> tuple[list[tuple[str, str]], str | None]:
    """The seed programs, as (path, text), and the path of the workstation's buffer among
    them (None: none is): the buffer first, then ``request.seeds``, then (unless
    ``with_default_seeds`` is off) the samples and the registry's nearby controllers that
    are not the same text."""
    from ..evolve.runner import default_seeds

    given = list(request.seeds)
    editor_path = None
    if request.text and request.text.strip():
        editor_path = request.path or "editor.mlir"
        given.insert(0, (editor_path, request.text))
    texts = {text for _, text in given}
    defaults = default_seeds(request.environment, registry) if request.with_default_seeds else []
    return given + [(path, text) for path, text in defaults if text not in texts], editor_path


# argparse's dest for a flag that sets an EvolveOptions field: "option:<field>"
OPTION = "option:"


def option(parser: argparse.ArgumentParser, *flags: str, field: str, **kwargs: Any) -> None:
    """A flag that sets ``EvolveOptions.<field>``, whose default is the field's."""
    kwargs.setdefault("default", getattr(EvolveOptions, field))
    if "action" not in kwargs and "choices" not in kwargs:
        kwargs.setdefault("metavar", field.upper())  # not argparse's "OPTION:FIELD"
    parser.add_argument(*flags, dest=OPTION + field, **kwargs)


class Evolve(Command[EvolveRequest, EvolveReply]):
    name = "evolve"
    help = (
        "evolve controllers: CMA-ES on the constants, symbolic and LLM mutations of the "
        "structure, validated on unseen landers"
    )
    request = EvolveRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "files",
            nargs="*",
            metavar="FILE",
            help="seed programs (default: the samples and stored controllers for the "
            "nearest conditions)",
        )
        add_condition_flags(parser)
        option(
            parser,
            "--budget",
            field="budget_s",
            type=SECONDS,
            default=None,  # EvolveOptions's, unless another bound is given
            metavar="SECONDS",
            help=f"stop after this long (default {EvolveOptions.budget_s:g} s unless "
            "--generations or --evaluations is given)",
        )
        option(
            parser,
            "--generations",
            field="generations",
            type=COUNT,
            help="stop after this many generations (same --seed and --generations: the "
            "same result)",
        )
        option(
            parser,
            "--evaluations",
            field="evaluations",
            type=EVALUATIONS,
            metavar="N",
            help="stop once N training evaluations are done (same --seed and "
            "--evaluations: the same result, on any machine)",
        )
        parser.add_argument(
            "--replay",
            metavar="RUN.json",
            default=None,
            help="run a recorded search again to the same best: its conditions, options "
            "and seed programs from RUN.json (evolve --json, or a registry entry's JSON)",
        )
        option(
            parser, "--population", field="population", type=COUNT, help="programs kept per island"
        )
        option(parser, "--islands", field="islands", type=int_in(1, 64))
        option(parser, "--seed", field="seed", type=SEED)
        parser.add_argument(
            "--env",
            default=None,
            metavar="ID",
            help="a Gymnasium environment whose spaces fit (Box(8) observation, Box(2) "
            "action) chooses among the finalists and validates the winner, on episodes the "
            "search never flew; the native swarm still trains, in the environment's twin "
            "(the model with its mechanics: Box2D's LunarLander, NeuroJIT/LunarLander-v0) "
            "unless --gravity or --turbulence is given",
        )
        parser.add_argument(
            "--env-arg",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a gymnasium.make argument for --env (repeatable); VALUE true/false, a "
            "number or text",
        )
        option(
            parser,
            "--objective",
            field="objective",
            choices=("landed", "return"),
            help="landed: landed rate, then the return (default); return: the mean episode "
            "return, then its CVaR-10 (the training fitness becomes the native mean score, "
            "as it is with --env for either objective)",
        )
        option(
            parser,
            "--gym-episodes",
            field="gym_validation_episodes",
            type=COUNT,
            metavar="N",
            help="--env: validation episodes (default %(default)s)",
        )
        option(
            parser,
            "--polish",
            field="gym_polish_share",
            type=float_in(0.0, 0.9),
            default=None,
            metavar="SHARE",
            help="--env: spend this share of --budget tuning the winner's constants with "
            f"CMA-ES on the environment's own episodes (default {ENV_POLISH_SHARE} when a "
            "time budget bounds the run, 0 (none) with --generations or --evaluations)",
        )
        option(
            parser,
            "--polish-episodes",
            field="gym_polish_episodes",
            type=COUNT,
            metavar="N",
            help="--polish: fresh training episodes each polish generation flies "
            "(default %(default)s)",
        )
        option(
            parser,
            "--polish-generations",
            field="gym_polish_generations",
            type=COUNT,
            default=None,
            metavar="N",
            help=f"--polish: at most N CMA-ES generations (default "
            f"{EvolveOptions.gym_polish_generations}); a run without --budget flies all N",
        )
        option(
            parser,
            "--no-llm",
            field="use_llm",
            action="store_false",
            help="symbolic mutations only (no model is loaded)",
        )
        option(
            parser,
            "--llm-mode",
            field="llm_mode",
            choices=("guide", "write"),
            help="guide: the model picks a change that a symbolic edit makes (default); "
            "write: the synthesis agent writes it",
        )
        option(
            parser,
            "--operator-choice",
            field="operator_choice",
            choices=("uniform", "bandit"),
            help="uniform: operators at random (default); bandit: by measured fitness gain "
            "per second",
        )
        option(
            parser,
            "--swarm-threads",
            field="threads",
            type=THREADS,
            help="threads flying the landers (default: every core)",
        )
        parser.add_argument("-o", "--output", help="write the best program here")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--registry", help="registry folder (default ~/.neurojit/registry)")
        parser.add_argument(
            "--no-cache", action="store_true", help="neither seed from nor store into the registry"
        )
        add_cluster_flag(parser)
        add_model_flags(parser)

    @staticmethod
    def options_from(args: argparse.Namespace) -> EvolveOptions:
        """The options the flags set (``option``), the others EvolveOptions's defaults."""
        values = {
            name.removeprefix(OPTION): value
            for name, value in vars(args).items()
            if name.startswith(OPTION)
        }
        timed = values["budget_s"] is not None or not (
            values["generations"] or values["evaluations"]
        )
        if values["budget_s"] is None and timed:
            del values["budget_s"]  # the default budget bounds the search
        if args.env is not None:
            from ..evolve.gym_judging import env_fields
            from ..gym.environments import EnvSpec, FlightError

            try:
                values |= env_fields(EnvSpec.parse(args.env, args.env_arg))
            except FlightError as error:
                raise CommandError(str(error), EXIT_USAGE_ERROR) from None
            # the native swarm trains in the environment's twin unless told the conditions
            values["native_twin"] = not conditions_given(args)
            if values["gym_polish_share"] is None:  # a run the clock bounds polishes
                values["gym_polish_share"] = ENV_POLISH_SHARE if timed else 0.0
        elif args.env_arg or values["gym_polish_share"]:
            flag = "--env-arg" if args.env_arg else "--polish"
            raise CommandError(f"{flag} needs --env", EXIT_USAGE_ERROR)
        else:
            del values["gym_polish_share"]
        if values["gym_polish_generations"] is None:
            del values["gym_polish_generations"]
        elif not values.get("gym_polish_share"):
            raise CommandError("--polish-generations needs --polish", EXIT_USAGE_ERROR)
        return EvolveOptions(cluster=args.cluster, **values)

    def request_from(self, args: argparse.Namespace) -> EvolveRequest:
        options = self.options_from(args)
        seeds = tuple((path, read_program(path)) for path in args.files)
        return EvolveRequest(
            seeds=seeds,
            environment=environment_from(args),
            options=options,
            agents=agent_overrides(args) if options.use_llm else None,
            with_default_seeds=not seeds,
            use_registry=not args.no_cache,
            registry=args.registry,
        )

    def run(self, request: EvolveRequest, emit: Emit, context: Context) -> EvolveReply:
        """The registry keeps the winner only if it beats what is stored and every sample.
        An objective it does not know or an environment it cannot make is a refused
        reply (one line), before any search."""
        from ..evolve.evaluation import OBJECTIVES
        from ..evolve.runner import run_evolution

        options = request.options
        if options.objective not in OBJECTIVES:
            return EvolveReply(
                None, refused=f"objective {options.objective!r}: give landed or return"
            )
        if options.env_id is not None:  # made once up front: a bad one is one line
            from ..evolve.gym_judging import check_env, env_spec
            from ..gym.environments import FlightError

            spec = env_spec(options)
            assert spec is not None
            try:
                check_env(spec)
            except FlightError as error:
                return EvolveReply(None, refused=str(error))
        options = replace(options, cluster=cluster_address(options.cluster) or "none")
        registry = context.registry(request.registry) if request.use_registry else None
        seeds, editor_path = evolve_seeds(request, registry)
        as_written: dict[str, str] = {}
        for seed_path, seed_text in seeds:
            as_written.setdefault(seed_path, seed_text)

        def forward(event: EvolutionEvent) -> None:
            if isinstance(event, BestSoFar) and not event.parent_text and event.lineage:
                # a tuned seed has no parent: its diff is against the seed as written
                event = replace(event, parent_text=as_written.get(event.lineage[0].source, ""))
            emit(EvolutionProgress.of(event))

        from ..agents import ModelError
        from ..cluster import ClusterError

        agents = context.agents(request.agents) if options.use_llm else None
        try:
            with context.cancellation() as cancel:
                result = run_evolution(
                    request.environment,
                    options,
                    seeds=seeds or None,
                    registry=registry,
                    agents=agents,
                    on_event=forward,
                    on_token=lambda role, piece: emit(AgentToken(role, piece)),
                    cancel=cancel,
                    editor_path=editor_path,
                )
        except ModelError as error:
            raise CommandError(str(error), kind="") from None
        except ClusterError as error:
            raise CommandError(str(error)) from None
        return EvolveReply(result)

    def emit_for(self, args: argparse.Namespace) -> Emit:
        from ..evolve.report import progress_line

        def show(event: Event) -> None:
            if args.json or not isinstance(event, EvolutionProgress):
                return
            if event.generation is not None:
                print(progress_line(event.generation), file=sys.stderr, flush=True)
            elif event.best is not None and event.best.generation > 0:
                best = event.best
                print(
                    f"  new best {best.id}: {best.description} (fitness {best.fitness:.2f})",
                    file=sys.stderr,
                    flush=True,
                )

        return show

    def present(self, args: argparse.Namespace, request: EvolveRequest, reply: EvolveReply) -> int:
        from ..evolve.report import summary

        result = reply.result
        if result is None:  # refused: bad input the parser cannot see
            raise CommandError(reply.refused or "refused", EXIT_USAGE_ERROR)
        if result.best is not None and args.output:
            Path(args.output).write_text(result.best.source)
            result = replace(result, best=replace(result.best, path=args.output))
        print(json.dumps(result.to_json(), indent=2) if args.json else summary(result))
        return EXIT_OK if result.status == "ok" else EXIT_RUNTIME

    def main(self, args: argparse.Namespace) -> int:
        if args.replay:
            return self.replay(args)
        return super().main(args)

    def replay(self, args: argparse.Namespace) -> int:
        """``evolve --replay RUN.json``: the recorded run again (its conditions, options
        and seed programs; bounded by its evaluation count instead of the clock)."""
        from ..agents import ModelError
        from ..evolve import run_evolution
        from ..evolve.replay import ReplayError, load_replay

        if args.files:
            raise CommandError(
                "evolve --replay takes its seed programs from the run's JSON", EXIT_USAGE_ERROR
            )
        context = LocalContext()
        registry = None if args.no_cache else context.registry(args.registry)
        try:
            replay = load_replay(args.replay, registry)
        except ReplayError as error:
            raise CommandError(str(error), EXIT_USAGE_ERROR) from None
        for warning in replay.warnings:
            warn(warning)
        options = replace(replay.options, threads=getattr(args, OPTION + "threads"))
        agents = context.agents(agent_overrides(args)) if options.use_llm else None
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
            raise CommandError(str(error), kind="") from None
        finally:
            context.close()
        return self.present(args, EvolveRequest(), EvolveReply(result))


COMMAND = Evolve()
