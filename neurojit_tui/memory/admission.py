"""When the registry may take a controller: only when it is better than what it would
replace.

A candidate for a condition is admitted only if, on the *same validation landers*, it
beats both the entry stored for that condition (if any) and every built-in sample.
The caller flies all of them (this package does not simulate); ``admit`` compares
their scores with the swarm's robust ranking: success rate, then CVaR-10, then the
mean score (or, for the objective "return", the mean score, then CVaR-10, then the
success rate). Ties go to what is already there.

For a search judged in a Gymnasium environment the validation set is that environment's
episodes: the caller's ``rival_scores`` flies each rival on the same episodes as the
candidate (the key names the environment, so never-worse holds per environment).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..compiler.driver import Compiler
    from ..sim.model import Environment
    from .registry import Registry

# Validation scores as ``validation_scores`` makes them (JSON: success_rate, mean_score,
# cvar10_score, failure, agents, seed); a caller's own may hold a subset.
Scores = dict[str, Any]


def _rank(scores: Scores, objective: str = "landed") -> tuple[float, float, float]:
    def number(key: str) -> float:
        value = scores.get(key)
        return value if value is not None and math.isfinite(value) else -math.inf

    if scores.get("failure"):
        return (-math.inf, -math.inf, -math.inf)
    if objective == "return":
        return (number("mean_score"), number("cvar10_score"), number("success_rate"))
    return (number("success_rate"), number("cvar10_score"), number("mean_score"))


def admit(
    candidate: Scores, rivals: dict[str, Scores], objective: str = "landed"
) -> tuple[bool, str]:
    """(admitted, why). ``candidate`` and each rival: validation scores
    (``success_rate``, ``cvar10_score``, ``mean_score``, optional ``failure``) on the
    same landers; ``rivals`` names them (the stored entry, each sample)."""
    mine = _rank(candidate, objective)
    if mine[0] == -math.inf:
        return False, "the candidate did not fly the validation landers"
    for name, scores in rivals.items():
        if _rank(scores, objective) >= mine:
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


# (text, path) -> its validation scores: a caller's own validation set
RivalScores = Callable[[str, str], Scores]


def sample_rivals(
    env: Environment,
    seed: int,
    agents: int = VALIDATION_AGENTS,
    compiler: Compiler | None = None,
    threads: int | None = None,
    rival_scores: RivalScores | None = None,
) -> dict[str, Scores]:
    """Every built-in controller sample's validation scores, by file name
    (``rival_scores``: flown on the caller's validation set instead of the landers)."""
    from ..paths import controller_samples

    def scores(text: str, path: str) -> Scores:
        if rival_scores is not None:
            return rival_scores(text, path)
        return validation_scores(text, path, env, seed, agents, compiler, threads)

    return {path.name: scores(path.read_text(), str(path)) for path in controller_samples()}


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
    rival_scores: RivalScores | None = None,
    objective: str = "landed",
) -> dict[str, Any]:
    """Store ``text`` for ``key`` only if, on the same validation landers, it beats
    what is stored there and every sample. ``candidate``: its validation scores if the
    caller has them. ``rival_scores``: how to fly the rivals on the caller's own
    validation set (a Gymnasium environment's episodes; ``candidate`` is then required),
    ranked by ``objective``. Returns {"stored", "key", "reason", "validation", "rivals"}."""
    from . import remember

    if rival_scores is not None and candidate is None:
        raise ValueError("a caller's own validation set needs the candidate's scores on it")
    candidate = candidate or validation_scores(text, path, env, seed, agents, compiler, threads)
    rivals = sample_rivals(env, seed, agents, compiler, threads, rival_scores)
    stored = registry.best(key)
    if stored is not None:
        stored_path = stored.file or "stored.mlir"
        rivals[f"the stored entry {key[:12]}"] = (
            rival_scores(stored.source, stored_path)
            if rival_scores is not None
            else validation_scores(stored.source, stored_path, env, seed, agents, compiler, threads)
        )
    admitted, reason = admit(candidate, rivals, objective)
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
