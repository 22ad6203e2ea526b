"""One evolution as the CLI and the engine run it: seeds, the search, and memory.

Seeds are the user's files if given, else the built-in samples and the stored
controllers for the nearest conditions (the registry's memory of earlier runs). With a
registry, the winner is stored only if it beats, on the validation landers, both what
is stored for these conditions and every built-in sample (``memory.admission``), with
its lineage and its training and validation scores.
"""

from __future__ import annotations

from pathlib import Path

from ..compiler import Compiler
from ..paths import samples_dir
from ..sim import model
from .evaluation import validate
from .search import EvolutionResult, EvolveOptions, evolve

SAMPLE_NAMES = ("heuristic", "pid", "pd", "mlp")


def samples() -> list[tuple[str, str]]:
    folder = samples_dir()
    return [(str(folder / f"{name}.mlir"), (folder / f"{name}.mlir").read_text())
            for name in SAMPLE_NAMES if (folder / f"{name}.mlir").is_file()]


def default_seeds(env: model.Environment, registry=None, nearby: int = 3) -> list[tuple[str, str]]:
    seeds = samples()
    if registry is not None:
        for entry in registry.nearby(env, nearby, with_strategy=False):
            seeds.append((f"registry:{entry.key[:12]}", entry.source))
    return seeds


def run_evolution(env: model.Environment, options: EvolveOptions,
                  seeds: list[tuple[str, str]] | None = None, registry=None, agents=None,
                  on_event=None, on_token=None, cancel=None) -> EvolutionResult:
    """Evolve controllers for ``env``. ``agents`` (``agents.Agents``) enables LLM
    mutations unless ``options.use_llm`` is off; ``on_token(role, piece)`` hears them."""
    seeds = seeds or default_seeds(env, registry)
    llm = None
    if agents is not None and options.use_llm:
        from .llm import LLMMutation

        llm = LLMMutation(agents, on_token=on_token)
    result = evolve(seeds, env, options, llm=llm, on_event=on_event, cancel=cancel)
    if registry is not None and result.best is not None and result.status == "ok":
        result.best["registry"] = remember_if_better(result, env, registry, agents)
    return result


def remember_if_better(result: EvolutionResult, env: model.Environment, registry,
                       agents=None) -> dict:
    """Store the winner if it beats the stored entry and every sample on the same
    validation landers. Returns {"stored": bool, "key", "reason", "rivals"}."""
    from ..agents.pipeline import model_identities
    from ..memory import cache_key, remember
    from ..memory.admission import admit

    best = result.best
    options = result.options
    compiler = Compiler()
    identities = model_identities(agents) if agents is not None else {"reasoning": "none",
                                                                       "synthesis": "none"}
    key, key_data = cache_key(env, identities)

    def scores(text: str, path: str) -> dict:
        report = validate(text, path, env, options["seed"], options["validation_agents"],
                          compiler, options["threads"])
        return {k: report.to_json()[k] for k in ("success_rate", "mean_score", "cvar10_score",
                                                 "failure")}

    rivals = {Path(path).name: scores(text, path) for path, text in samples()}
    stored = registry.best(key)
    if stored is not None:
        rivals[f"the stored entry {key[:12]}"] = scores(stored.source, stored.file or "stored.mlir")
    admitted, reason = admit(best["validation"], rivals)
    if admitted:
        path = f"evolved-{best['id']}.mlir"
        program = compiler.compile(best["source"], path, require_control=True)
        remember(registry, key, key_data, best["source"], path, program,
                 scores={**{k: best["validation"][k] for k in ("success_rate", "mean_score",
                                                               "cvar10_score")},
                         "agents": best["validation"]["agents"],
                         "seed": best["validation"]["seeds"][0],
                         "train": best["train"], "validation": best["validation"]},
                 provenance={"evolved": True, "lineage": best["lineage"],
                             "seed": options["seed"], "generations": result.generations,
                             "models": identities})
    return {"stored": admitted, "key": key, "reason": reason, "rivals": rivals}
