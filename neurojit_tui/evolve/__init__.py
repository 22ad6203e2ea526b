"""Autonomous evolution of controllers: parametric swarm kernels, CMA-ES on the
constants, a program database with LLM and symbolic mutations, honest validation.

Public API::

    options = EvolveOptions(budget_s=120, seed=0, use_llm=False)
    result = run_evolution(env, options, registry=registry, agents=agents,
                           on_event=lambda kind, data: ...)     # EvolutionResult
    result.best["source"], result.best["validation"]["success_rate"]

Layers: this package uses compiler, sim, memory and agents; the engine and the CLI use
it. It never imports textual.
"""

from .runner import default_seeds, remember_if_better, run_evolution, samples
from .search import Evolution, EvolutionResult, EvolveOptions, evolve

__all__ = [
    "Evolution",
    "EvolutionResult",
    "EvolveOptions",
    "default_seeds",
    "evolve",
    "remember_if_better",
    "run_evolution",
    "samples",
]
