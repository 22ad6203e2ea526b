"""Which operator makes the next child: a cost-aware bandit over the operators.

An operator earns what its children improved on their parents' fitness, and pays the
CPU seconds they cost (a model's proposal costs inference, a symbolic edit almost
nothing, both pay for tuning). The bandit plays the operator with the most improvement
per second, plus a UCB1 exploration bonus so that an operator that was unlucky early
is tried again (ShinkaEvolve chooses its LLMs with a bandit of this kind).

Scale: improvement per second has no natural unit, so each arm's rate is divided by
the best arm's before the bonus is added; the bonus then means the same whatever the
fitness scale or the machine's speed.

Deterministic: the only randomness is the numpy Generator passed to ``choose`` (the
order in which untried arms are tried, and ties).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A record's cost is at least this, so that a child that cost (almost) nothing cannot
# make its operator's rate infinite.
MIN_COST_S = 1e-3


@dataclass(frozen=True)
class ArmStats:
    """What one operator has earned and cost so far."""

    pulls: int
    reward: float  # summed improvement (negative improvements count as 0)
    cost_s: float  # summed CPU seconds

    @property
    def rate(self) -> float:
        """Improvement per CPU second (0 before the first pull)."""
        return self.reward / self.cost_s if self.cost_s > 0 else 0.0


class OperatorBandit:
    """UCB1 on improvement per CPU second. ``choose`` the operator for a child, then
    ``record`` how much it improved on its parent and what it cost."""

    def __init__(
        self, arms: Sequence[str], exploration: float = 1.0, min_cost_s: float = MIN_COST_S
    ) -> None:
        """``exploration`` scales the UCB1 bonus sqrt(2 ln N / n) (0: pure greed once
        every arm was tried)."""
        if not arms:
            raise ValueError("a bandit needs at least one arm")
        if len(set(arms)) != len(arms):
            raise ValueError(f"arm names repeat: {list(arms)}")
        self.arms: tuple[str, ...] = tuple(arms)
        self.exploration = exploration
        self.min_cost_s = min_cost_s
        self._pulls = dict.fromkeys(self.arms, 0)
        self._reward = dict.fromkeys(self.arms, 0.0)
        self._cost = dict.fromkeys(self.arms, 0.0)

    @property
    def total_pulls(self) -> int:
        return sum(self._pulls.values())

    def stats(self) -> dict[str, ArmStats]:
        return {a: ArmStats(self._pulls[a], self._reward[a], self._cost[a]) for a in self.arms}

    def scores(self) -> dict[str, float]:
        """Each arm's UCB score: its rate over the best rate, plus the exploration bonus;
        +inf for an arm never tried."""
        stats = self.stats()
        best_rate = max(s.rate for s in stats.values())
        log_total = math.log(max(1, self.total_pulls))
        scores = {}
        for arm, s in stats.items():
            if s.pulls == 0:
                scores[arm] = math.inf
                continue
            # before anything improved, every arm's rate is 0 and only the bonus counts
            exploit = s.rate / best_rate if best_rate > 0 else 0.0
            scores[arm] = exploit + self.exploration * math.sqrt(2.0 * log_total / s.pulls)
        return scores

    def choose(self, rng: np.random.Generator) -> str:
        """The arm to play: an untried one first (at random among them), else the highest
        score, ties broken at random."""
        scores = self.scores()
        top = max(scores.values())
        best = [arm for arm in self.arms if scores[arm] == top]
        return best[int(rng.integers(len(best)))]

    def record(self, arm: str, reward: float, cost_s: float) -> None:
        """One child of ``arm``: ``reward`` is its fitness minus its parent's (a failed
        child's -inf or NaN counts as 0, like any loss; a parent always flew, so +inf is
        a caller's error), ``cost_s`` the CPU seconds it took (proposal, compile,
        tuning)."""
        if arm not in self._pulls:
            raise KeyError(f"unknown arm {arm!r}; arms: {', '.join(self.arms)}")
        if not math.isfinite(cost_s) or cost_s < 0:
            raise ValueError(f"cost {cost_s} s: need a finite, non-negative number of seconds")
        if reward == math.inf:
            raise ValueError("reward +inf: a child's improvement must be finite")
        gain = reward if math.isfinite(reward) and reward > 0 else 0.0
        self._pulls[arm] += 1
        self._reward[arm] += gain
        self._cost[arm] += max(cost_s, self.min_cost_s)


def stalled(history: Sequence[float], window: int, min_improvement: float = 0.0) -> bool:
    """True when the best fitness of the last ``window`` generations is no more than
    ``min_improvement`` above the best before them (the search asks the model then).
    False while there are not more than ``window`` generations. NaN counts as -inf.

    ``history`` is the best fitness per generation, oldest first. When the search grows
    its training set the fitness scale changes; pass the history since then."""
    if window < 1:
        raise ValueError(f"window {window}: need at least one generation")
    if len(history) <= window:
        return False
    values = [-math.inf if math.isnan(v) else v for v in history]
    before, recent = max(values[:-window]), max(values[-window:])
    if recent == -math.inf:
        return True
    return not recent - before > min_improvement


__all__ = ["MIN_COST_S", "ArmStats", "OperatorBandit", "stalled"]
