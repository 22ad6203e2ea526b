"""Autonomous evolution of controllers: parametric swarm kernels, CMA-ES on the
constants, a program database with LLM and symbolic mutations, honest validation.

Public API::

    options = EvolveOptions(budget_s=120, seed=0, use_llm=False)
    result = run_evolution(env, options, registry=registry, agents=agents,
                           on_event=lambda event: ...)      # EvolutionResult
    result.best.source, result.best.validation.success_rate

The events (``GenerationEnded``, ``BestSoFar``, ``FailedCandidate``, ``SearchLog``) and
the result are the plain dataclasses of ``results.py``.

Layers: this package uses compiler, sim, memory and agents; the engine and the CLI use
it. It never imports textual.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes
from .results import EvolutionResult, EvolveOptions

if TYPE_CHECKING:  # what mypy reads for the lazy names below
    from .runner import default_seeds, remember_if_better, run_evolution, samples
    from .search import Evolution, evolve

# Names that need MLIR load it on first use: the UI process reads an evolution's events
# and result (``results``) and must never load MLIR (tests/test_architecture.py).
_LAZY = {
    "Evolution": "search",
    "evolve": "search",
    "default_seeds": "runner",
    "remember_if_better": "runner",
    "run_evolution": "runner",
    "samples": "runner",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


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
