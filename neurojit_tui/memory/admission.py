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


def _rank(scores: dict) -> tuple:
    def number(key):
        value = scores.get(key)
        return value if value is not None and math.isfinite(value) else -math.inf

    if scores.get("failure"):
        return (-math.inf, -math.inf, -math.inf)
    return (number("success_rate"), number("cvar10_score"), number("mean_score"))


def admit(candidate: dict, rivals: dict[str, dict]) -> tuple[bool, str]:
    """(admitted, why). ``candidate`` and each rival: validation scores
    (``success_rate``, ``cvar10_score``, ``mean_score``, optional ``failure``) on the
    same landers; ``rivals`` names them (the stored entry, each sample)."""
    mine = _rank(candidate)
    if mine[0] == -math.inf:
        return False, "the candidate did not fly the validation landers"
    for name, scores in rivals.items():
        if _rank(scores) >= mine:
            theirs = scores.get("success_rate") or 0.0
            return False, (f"not better than {name} on the validation landers "
                           f"(success {candidate.get('success_rate', 0.0):.1%} vs {theirs:.1%}, "
                           f"CVaR-10 {candidate.get('cvar10_score') or -math.inf:.1f} vs "
                           f"{scores.get('cvar10_score') if scores.get('cvar10_score') is not None else -math.inf:.1f})")
    return True, "better than " + (", ".join(rivals) if rivals else "nothing stored")
