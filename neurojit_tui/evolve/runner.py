"""One evolution as the CLI and the engine run it: seeds, the search, and memory.

Seeds are the user's files if given, else the built-in samples and the stored
controllers for the nearest conditions (the registry's memory of earlier runs). With a
registry, the winner is stored only if it beats, on the validation landers, both what
is stored for these conditions and every built-in sample (``memory.admission``), with
its lineage and its training and validation scores. A run that stops on an error (a
cluster that lost every worker) stores nothing.

With a Gymnasium environment (``options.env_id``) one judge serves the whole run: the
search's selection and validation, then admission, which flies the stored entry for the
environment's key and every sample on the winner's validation episodes.

The training flights go to a Ray cluster when ``options.cluster`` names one, else when
``~/.neurojit/config.toml`` does (``[cluster] address``; ``"none"`` in the options
keeps a run local).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, replace

from ..cluster import resolve_address
from ..compiler import Compiler
from ..paths import controller_samples
from ..sim import model
from .results import (
    EvolutionEvent,
    EvolutionResult,
    EvolveOptions,
    RegistryVerdict,
    SeedProgram,
)
from .search import evolve

REGISTRY_PREFIX = "registry:"
EDITOR = "editor"  # the origin of the workstation's buffer


def samples() -> list[tuple[str, str]]:
    """The built-in controller samples as (path, text) seeds."""
    return [(str(path), path.read_text()) for path in controller_samples()]


def registry_label(key: str) -> str:
    """How a seed taken from the registry is named (in the JSON, the pane, the log)."""
    return f"{REGISTRY_PREFIX}{key[:12]}"


def default_seeds(
    env: model.Environment, registry=None, nearby: int = 3, gym: str | None = None
) -> list[tuple[str, str]]:
    """The samples, then the stored controllers for the conditions nearest ``env``'s,
    those judged in the Gymnasium environment ``gym`` (``EnvSpec.key()``; None: native
    entries) first."""
    seeds = samples()
    if registry is not None:
        for entry in registry.nearby(env, nearby, with_strategy=False, gym=gym):
            seeds.append((registry_label(entry.key), entry.source))
    return seeds


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def seed_programs(
    seeds: list[tuple[str, str]], registry=None, editor_path: str | None = None
) -> tuple[SeedProgram, ...]:
    """Where each seed came from: a built-in sample, a registry entry (its full key), the
    workstation's buffer (``editor_path``), or a file."""
    sample_paths = {str(path) for path in controller_samples()}
    keys = registry.keys() if registry is not None else []
    programs = []
    for path, text in seeds:
        digest, key = text_sha256(text), None
        if path.startswith(REGISTRY_PREFIX):
            origin = "registry"
            prefix = path.removeprefix(REGISTRY_PREFIX)
            key = next((k for k in keys if k.startswith(prefix)), None)
        elif path in sample_paths:
            origin = "sample"
        elif editor_path is not None and path == editor_path:
            origin = EDITOR
        else:
            origin = "file"
        programs.append(SeedProgram(path, origin, digest, key))
    return tuple(programs)


def run_evolution(
    env: model.Environment,
    options: EvolveOptions,
    seeds: list[tuple[str, str]] | None = None,
    registry=None,
    agents=None,
    on_event: Callable[[EvolutionEvent], None] | None = None,
    on_token=None,
    cancel=None,
    editor_path: str | None = None,
) -> EvolutionResult:
    """Evolve controllers for ``env`` (or, judged in a Gymnasium environment, for its
    twin: ``gym_judging.training_conditions``). ``agents`` (``agents.Agents``) enables LLM
    mutations unless ``options.use_llm`` is off; ``on_token(role, piece)`` hears them.
    ``editor_path``: the seed that is the workstation's buffer, for the replay record.

    The registry keys a run by the conditions the user gave (and the environment), not
    by the twin: a recalibrated twin keeps finding the entries of earlier runs."""
    conditions, spec = env, None
    if options.env_id is not None:  # imported only here: it loads Gymnasium
        from .gym_judging import env_spec, training_conditions

        spec = env_spec(options)
        env = training_conditions(env, options)
    seeds = seeds or default_seeds(conditions, registry, gym=spec.key() if spec else None)
    options = replace(options, cluster=resolve_address(options.cluster))
    llm = None
    if agents is not None and options.use_llm:
        from .llm import LLMMutation

        memory = None
        if registry is not None:
            from ..memory.edits import EditMemory

            memory = EditMemory(registry.root)  # edits that helped, as examples
        llm = LLMMutation(agents, on_token=on_token, mode=options.llm_mode, memory=memory)
    judging = None
    if spec is not None:
        from .gym_judging import GymJudging

        judging = GymJudging(spec)
    try:
        result = evolve(
            seeds, env, options, llm=llm, on_event=on_event, cancel=cancel, judging=judging
        )
        if result.replay is not None:
            origins = seed_programs(seeds, registry, editor_path)
            result = replace(result, replay=replace(result.replay, seeds=origins))
        if registry is not None and result.best is not None and result.status == "ok":
            verdict = remember_if_better(result, conditions, registry, agents, judging)
            result = replace(result, best=replace(result.best, registry=verdict))
    finally:
        if judging is not None:
            judging.close()
    return result


def remember_if_better(
    result: EvolutionResult, env: model.Environment, registry, agents=None, judging=None
) -> RegistryVerdict:
    """Store the winner if it beats the stored entry and every sample on the same
    validation landers (``memory.admission``), with its lineage and both scores. For a
    run judged in a Gymnasium environment (``judging``, a ``gym_judging.GymJudging``;
    made here if not given), the key names the environment besides ``env``, the
    conditions the user gave, and the validation set is its validation episodes."""
    from ..agents.pipeline import model_identities
    from ..memory import NO_MODELS, cache_key

    best, options = result.best, result.options
    assert best is not None, "a search that found nothing has nothing to remember"
    identities = model_identities(agents) if agents is not None else NO_MODELS
    if options.env_id is None:
        key, key_data = cache_key(env, identities)
        validation = {
            k: getattr(best.validation, k)
            for k in ("success_rate", "mean_score", "cvar10_score", "failure", "agents")
        }
        return _admit(result, env, registry, key, key_data, validation, identities)
    from .gym_judging import GymJudging, admission_scores, env_spec, validation_episodes

    spec = env_spec(options)
    assert spec is not None and best.gym_validation is not None
    key, key_data = cache_key(env, identities, spec.key())
    gym = best.gym_validation
    validation = {
        "success_rate": gym.landed,
        "mean_score": gym.mean_return,
        "cvar10_score": gym.cvar10,
        "failure": gym.failure,
        "agents": gym.episodes,
        "episodes": gym.episodes,
        "solved": gym.solved,
    }
    episodes = validation_episodes(options)
    with ExitStack() as stack:
        judge = judging or stack.enter_context(GymJudging(spec))

        def rival_scores(text: str, path: str) -> dict:
            return admission_scores(judge.fly(text, path, episodes))

        return _admit(result, env, registry, key, key_data, validation, identities, rival_scores)


def _admit(
    result: EvolutionResult,
    env: model.Environment,
    registry,
    key: str,
    key_data: dict,
    validation: dict,
    identities: dict,
    rival_scores=None,
) -> RegistryVerdict:
    """``memory.admission.remember_if_better`` for the winner, on the validation set the
    rivals fly on (``rival_scores``; None: the native validation landers)."""
    from ..memory.admission import remember_if_better as admit_and_remember

    best, options = result.best, result.options
    assert best is not None
    verdict = admit_and_remember(
        registry,
        env,
        key,
        key_data,
        best.source,
        f"evolved-{best.id}.mlir",
        Compiler(),
        seed=options.seed,
        agents=options.validation_agents,
        candidate=validation,
        scores={
            "train": asdict(best.train),
            **({"native_validation": asdict(best.validation)} if rival_scores else {}),
        },
        threads=options.threads,
        rival_scores=rival_scores,
        objective=options.objective,
        provenance={
            "evolved": True,
            "lineage": [asdict(step) for step in best.lineage],
            "seed": options.seed,
            "generations": result.generations,
            "models": identities,
            # what `neurojit evolve --replay` needs, as the run's JSON has it
            "replay": asdict(result.replay) if result.replay is not None else None,
            "options": asdict(options),
            "environment": result.environment.to_json(),  # what the swarm trained in
        },
    )
    return RegistryVerdict(**verdict)
