"""When the registry may take a controller: only when it is better than what it would
replace.

A candidate for a condition is admitted only if, on the *same validation landers*, it
beats both the entry stored for that condition (if any) and every built-in sample.
The caller flies all of them (this package does not simulate); ``admit`` compares
their scores with the swarm's robust ranking: success rate, then CVaR-10, then the
mean score. Ties go to what is already there.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..compiler.driver import Compiler
    from ..sim.model import Environment
    from .registry import Registry

# Validation scores as ``validation_scores`` makes them (JSON: success_rate, mean_score,
# cvar10_score, failure, agents, seed); a caller's own may hold a subset.
Scores = dict[str, Any]


def _rank(scores: Scores) -> tuple[float, float, float]:
    def number(key: str) -> float:
        value = scores.get(key)
        return value if value is not None and math.isfinite(value) else -math.inf

    if scores.get("failure"):
        return (-math.inf, -math.inf, -math.inf)
    return (number("success_rate"), number("cvar10_score"), number("mean_score"))


def admit(candidate: Scores, rivals: dict[str, Scores]) -> tuple[bool, str]:
    """(admitted, why). ``candidate`` and each rival: validation scores
    (``success_rate``, ``cvar10_score``, ``mean_score``, optional ``failure``) on the
    same landers; ``rivals`` names them (the stored entry, each sample)."""
    mine = _rank(candidate)
    if mine[0] == -math.inf:
        return False, "the candidate did not fly the validation landers"
    for name, scores in rivals.items():
        if _rank(scores) >= mine:
            theirs = scores.get("success_rate") or 0.0
            return False, (
                f"not better than {name} on the validation landers "
                f"(success {candidate.get('success_rate', 0.0):.1%} vs {theirs:.1%}, "
                f"CVaR-10 {candidate.get('cvar10_score') or -math.inf:.1f} vs "
                f"{scores.get('cvar10_score') if scores.get('cvar10_score') is not None else -math.inf:.1f})"
            )
    return True, "better than " + (", ".join(rivals) if rivals else "nothing stored")


VALIDATION_AGENTS = 1000


def validation_scores(
    text: str,
    path: str,
    env: Environment,
    seed: int,
    agents: int = VALIDATION_AGENTS,
    compiler: Compiler | None = None,
    threads: int | None = None,
) -> Scores:
    """``text`` flown on the validation landers of ``seed`` (never a search's own)."""
    from ..sim.swarm import validate, validation_seed

    report = validate(text, path, env, seed, agents, compiler, threads)
    return {
        "success_rate": report.success_rate,
        "mean_score": report.mean_score,
        "cvar10_score": report.cvar10_score,
        "failure": report.failure,
        "agents": agents,
        "seed": validation_seed(seed),
    }


def sample_rivals(
    env: Environment,
    seed: int,
    agents: int = VALIDATION_AGENTS,
    compiler: Compiler | None = None,
    threads: int | None = None,
) -> dict[str, Scores]:
    """Every built-in controller sample's validation scores, by file name."""
    from ..paths import controller_samples

    return {
        path.name: validation_scores(
            path.read_text(), str(path), env, seed, agents, compiler, threads
        )
        for path in controller_samples()
    }


def remember_if_better(
    registry: Registry,
    env: Environment,
    key: str,
    key_data: dict[str, Any],
    text: str,
    path: str,
    compiler: Compiler,
    seed: int = 0,
    agents: int = VALIDATION_AGENTS,
    candidate: Scores | None = None,
    scores: dict[str, Any] | None = None,
    strategy: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Store ``text`` for ``key`` only if, on the same validation landers, it beats
    what is stored there and every sample. ``candidate``: its validation scores if the
    caller has them. Returns {"stored", "key", "reason", "validation", "rivals"}."""
    from . import remember

    candidate = candidate or validation_scores(text, path, env, seed, agents, compiler, threads)
    rivals = sample_rivals(env, seed, agents, compiler, threads)
    stored = registry.best(key)
    if stored is not None:
        rivals[f"the stored entry {key[:12]}"] = validation_scores(
            stored.source, stored.file or "stored.mlir", env, seed, agents, compiler, threads
        )
    admitted, reason = admit(candidate, rivals)
    if admitted:
        program = compiler.compile(text, path, require_control=True)
        remember(
            registry,
            key,
            key_data,
            text,
            path,
            program,
            scores={
                **(scores or {}),
                **{k: candidate[k] for k in ("success_rate", "mean_score", "cvar10_score")},
                "validation": candidate,
            },
            strategy=strategy,
            provenance=provenance,
        )
    return {
        "stored": admitted,
        "key": key,
        "reason": reason,
        "validation": candidate,
        "rivals": rivals,
    }


def not_worse_than_samples(
    text: str,
    path: str,
    env: Environment,
    compiler: Compiler,
    seed: int = 0,
    agents: int = VALIDATION_AGENTS,
) -> tuple[bool, str]:
    """For answering a known condition from memory: the stored controller must be at
    least as good as the best sample on the validation landers."""
    mine = validation_scores(text, path, env, seed, agents, compiler)
    rivals = sample_rivals(env, seed, agents, compiler)
    if not rivals:
        return True, "there is no sample to compare with"
    best_name = max(rivals, key=lambda name: _rank(rivals[name]))
    if _rank(mine) >= _rank(rivals[best_name]):
        return True, f"at least as good as {best_name}"
    return False, (
        f"worse than {best_name} on the validation landers (success "
        f"{mine['success_rate']:.1%} vs {rivals[best_name]['success_rate']:.1%})"
    )
