"""Comparing the arms of an ablation over seeds: is one arm's result better than
another's, by how much, and how sure can we be?

One run of a search is one sample: an arm (say "LLM guides" or "symbolic only") flown
with seeds 0..9 gives ten final fitnesses, and two arms are compared as two samples:
a Mann-Whitney U test (no assumption that fitness is normal; it is not, it piles up
near 100% landed), a bootstrap interval of the difference of the medians and the
probability of superiority (how often a run of one arm beats a run of the other).

Non-finite values: a run that produced no number (NaN) counts as the worst possible,
like -inf (a search whose every candidate failed has fitness -inf); +inf stays the best.
Every function here is pure and deterministic: the bootstrap takes its seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.stats import mannwhitneyu

from .results import GenerationSummary

FloatArray = NDArray[np.float64]

# Below this many runs in an arm no test can say anything (with one run per arm the
# smallest possible two-sided p is 1).
MIN_RUNS = 2


def _clean(values: Iterable[float]) -> FloatArray:
    """The values as floats, NaN replaced by -inf (a run without a number is the worst)."""
    array = np.asarray(list(values), dtype=np.float64)
    return np.where(np.isnan(array), -np.inf, array)


def _quantiles(values: FloatArray, qs: list[float]) -> FloatArray:
    """Quantiles, interpolated when every value is finite; with an infinity among them,
    without interpolation (interpolating towards -inf gives NaN)."""
    method: Literal["linear", "inverted_cdf"] = (
        "linear" if bool(np.isfinite(values).all()) else "inverted_cdf"
    )
    return np.asarray(np.quantile(values, qs, method=method), dtype=np.float64)


def _difference(a: FloatArray | float, b: FloatArray | float) -> FloatArray:
    """a - b, where the same infinity on both sides differs by 0, not NaN."""
    with np.errstate(invalid="ignore"):  # inf - inf, mapped to 0 below
        diff = np.asarray(np.subtract(a, b), dtype=np.float64)
    return np.where(np.isnan(diff), 0.0, diff)


# -- one arm ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """How one arm's runs are spread. Quantiles are NaN when there are no runs."""

    n: int
    median: float
    q1: float  # 25th percentile
    q3: float  # 75th percentile
    minimum: float
    maximum: float
    non_finite: int  # runs at +-inf (NaN counted as -inf)

    @property
    def iqr(self) -> float:
        return float(_difference(self.q3, self.q1))

    def describe(self, digits: int = 1) -> str:
        if self.n == 0:
            return "no runs"
        f = f"{{:.{digits}f}}"
        text = (
            f"median {f.format(self.median)} (IQR {f.format(self.q1)} to {f.format(self.q3)}, "
            f"min {f.format(self.minimum)}, max {f.format(self.maximum)}, n={self.n})"
        )
        return text + (f", {self.non_finite} not finite" if self.non_finite else "")


def summarize(values: Iterable[float]) -> Spread:
    """Median, quartiles, min and max of one arm's runs."""
    array = _clean(values)
    if len(array) == 0:
        nan = math.nan
        return Spread(0, nan, nan, nan, nan, nan, 0)
    q1, median, q3 = _quantiles(array, [0.25, 0.5, 0.75])
    return Spread(
        n=len(array),
        median=float(median),
        q1=float(q1),
        q3=float(q3),
        minimum=float(array.min()),
        maximum=float(array.max()),
        non_finite=int((~np.isfinite(array)).sum()),
    )


# -- two arms --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Arm a against arm b. Positive differences mean a's values are higher."""

    n_a: int
    n_b: int
    median_a: float
    median_b: float
    median_difference: float  # median(a) - median(b)
    ci_low: float  # bootstrap interval of median(a) - median(b)
    ci_high: float
    confidence: float  # of the interval, e.g. 0.95
    p_value: float  # two-sided Mann-Whitney U
    # P(a run of a beats a run of b) + P(tie) / 2: 0.5 is no effect, 1 is "a always wins"
    probability_of_superiority: float
    # the smallest two-sided p these sample sizes can give at all (no ties): with 3 runs
    # per arm it is 0.1, so no difference there can ever be significant at 0.05
    smallest_possible_p: float
    note: str  # "" or why the numbers say little (too few runs, identical samples)

    @property
    def cliffs_delta(self) -> float:
        """P(a > b) - P(a < b), in [-1, 1]."""
        return 2.0 * self.probability_of_superiority - 1.0

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha

    def describe(self, digits: int = 1) -> str:
        f = f"{{:+.{digits}f}}"
        text = (
            f"median difference {f.format(self.median_difference)} "
            f"({self.confidence:.0%} CI {f.format(self.ci_low)} to {f.format(self.ci_high)}), "
            f"p = {self.p_value:.3g}, P(a > b) = {self.probability_of_superiority:.2f}, "
            f"n = {self.n_a} vs {self.n_b}"
        )
        return text + (f"; {self.note}" if self.note else "")


def smallest_two_sided_p(n_a: int, n_b: int) -> float:
    """The exact Mann-Whitney test's smallest two-sided p for these sample sizes: every
    run of one arm above every run of the other is 1 of C(n_a + n_b, n_a) orderings."""
    if n_a < 1 or n_b < 1:
        return 1.0
    return min(1.0, 2.0 / math.comb(n_a + n_b, n_a))


def _superiority(a: FloatArray, b: FloatArray) -> float:
    """P(A > B) + P(A = B) / 2 over all pairs (the U statistic over n_a * n_b)."""
    greater = (a[:, None] > b[None, :]).sum()
    ties = (a[:, None] == b[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(a) * len(b)))


def bootstrap_median_difference(
    a: Iterable[float],
    b: Iterable[float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of median(a) - median(b): each arm resampled with
    replacement on its own. Deterministic for a seed."""
    a_values, b_values = _clean(a), _clean(b)
    if len(a_values) == 0 or len(b_values) == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    a_draws = a_values[rng.integers(len(a_values), size=(resamples, len(a_values)))]
    b_draws = b_values[rng.integers(len(b_values), size=(resamples, len(b_values)))]
    differences = _difference(np.median(a_draws, axis=1), np.median(b_draws, axis=1))
    tail = (1.0 - confidence) / 2.0
    low, high = _quantiles(differences, [tail, 1.0 - tail])
    return float(low), float(high)


def compare(
    a: Iterable[float],
    b: Iterable[float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Arm a against arm b (one value per seed each): two-sided Mann-Whitney U p-value,
    bootstrap interval of the difference of medians, probability of superiority.

    Ties are handled by the test's tie correction. With fewer than ``MIN_RUNS`` runs in
    an arm, or identical samples (the same values, in any order), p is 1 and ``note``
    says why."""
    a_values, b_values = _clean(a), _clean(b)
    n_a, n_b = len(a_values), len(b_values)
    if n_a == 0 or n_b == 0:
        nan = math.nan
        return Comparison(n_a, n_b, nan, nan, nan, nan, nan, confidence, 1.0, 0.5, 1.0, "no runs")
    median_a, median_b = float(np.median(a_values)), float(np.median(b_values))
    low, high = bootstrap_median_difference(a_values, b_values, confidence, resamples, seed)
    note = ""
    if n_a < MIN_RUNS or n_b < MIN_RUNS:
        p_value = 1.0
        note = f"not enough runs to test ({n_a} vs {n_b}; at least {MIN_RUNS} per arm)"
    elif np.array_equal(np.sort(a_values), np.sort(b_values)):
        p_value, note = 1.0, "identical samples"
    elif len(np.unique(np.concatenate([a_values, b_values]))) == 1:
        p_value, note = 1.0, "every run has the same value"
    else:
        # scipy's ranks treat +-inf as ordinary extreme values, which is what we want;
        # "auto" is exact for small samples without ties, asymptotic with tie correction
        # otherwise
        p_value = float(mannwhitneyu(a_values, b_values, alternative="two-sided").pvalue)
        smallest = smallest_two_sided_p(n_a, n_b)
        if smallest >= 0.05:
            note = f"with {n_a} vs {n_b} runs p cannot go below {smallest:.3g}: run more seeds"
    return Comparison(
        n_a=n_a,
        n_b=n_b,
        median_a=median_a,
        median_b=median_b,
        median_difference=float(_difference(median_a, median_b)),
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        p_value=min(1.0, p_value),
        probability_of_superiority=_superiority(a_values, b_values),
        smallest_possible_p=smallest_two_sided_p(n_a, n_b),
        note=note,
    )


# -- over a run ------------------------------------------------------------------------------


def fitness_curve(history: Sequence[GenerationSummary]) -> list[tuple[int, float]]:
    """(evaluations so far, best fitness) per generation of a search's history."""
    return [(row.evaluations, row.best_fitness) for row in history]


def cvar_curve(history: Sequence[GenerationSummary]) -> list[tuple[int, float]]:
    """(evaluations so far, the best's training CVaR-10) per generation; -inf where the
    search had none."""
    return [
        (row.evaluations, row.best_cvar10 if row.best_cvar10 is not None else -math.inf)
        for row in history
    ]


def evaluations_to_target(history: Sequence[tuple[int, float]], target: float) -> int | None:
    """The first evaluation count (in the history's order) at which the best fitness
    reached ``target``; None if it never did. To compare arms on it, count a None as
    ``math.inf`` (never reaching the target is worse than any count)."""
    for evaluations, best in history:
        if not math.isnan(best) and best >= target:
            return evaluations
    return None


@dataclass(frozen=True)
class Rate:
    """``successes`` of ``trials`` (say, LLM children that improved the best) with a
    Wilson score interval, which stays inside [0, 1] and is sound for small counts and
    for rates at 0 or 1, unlike the normal approximation."""

    trials: int
    successes: int
    rate: float  # NaN when nothing was tried
    low: float
    high: float
    confidence: float

    def describe(self) -> str:
        if self.trials == 0:
            return "none tried"
        return (
            f"{self.successes}/{self.trials} = {self.rate:.1%} "
            f"({self.confidence:.0%} CI {self.low:.1%} to {self.high:.1%})"
        )


def wilson_interval(trials: int, successes: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion; (0, 1) for no trials."""
    if trials == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def improve_rate(tried: int, improved: int, confidence: float = 0.95) -> Rate:
    """How often an operator's children improved the best, with a Wilson interval."""
    if tried < 0 or improved < 0 or improved > tried:
        raise ValueError(f"improved {improved} of {tried} tried: need 0 <= improved <= tried")
    low, high = wilson_interval(tried, improved, confidence)
    rate = improved / tried if tried else math.nan
    return Rate(tried, improved, rate, low, high, confidence)


__all__ = [
    "Comparison",
    "MIN_RUNS",
    "Rate",
    "Spread",
    "bootstrap_median_difference",
    "compare",
    "evaluations_to_target",
    "cvar_curve",
    "fitness_curve",
    "improve_rate",
    "smallest_two_sided_p",
    "summarize",
    "wilson_interval",
]
