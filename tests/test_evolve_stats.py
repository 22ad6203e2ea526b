"""The ablation statistics (evolve/statistics.py) and the operator bandit
(evolve/bandit.py): pure functions on scripted numbers, no flights."""

import math

import numpy as np
import pytest

from neurojit_tui.evolve.bandit import OperatorBandit, stalled
from neurojit_tui.evolve.results import GenerationSummary
from neurojit_tui.evolve.statistics import (
    bootstrap_median_difference,
    compare,
    evaluations_to_target,
    fitness_curve,
    improve_rate,
    smallest_two_sided_p,
    summarize,
    wilson_interval,
)

# -- compare -------------------------------------------------------------------------------------


def test_a_clearly_better_arm_is_significant():
    rng = np.random.default_rng(1)
    better, worse = rng.normal(1.0, 0.1, 10), rng.normal(0.0, 0.1, 10)
    result = compare(better, worse)
    assert result.p_value < 0.05
    assert result.significant()
    assert result.probability_of_superiority == 1.0
    assert result.cliffs_delta == 1.0
    assert 0.8 < result.median_difference < 1.2
    assert 0.0 < result.ci_low <= result.median_difference <= result.ci_high
    assert result.note == ""
    # the other way round: the same p, the difference and superiority mirrored
    mirrored = compare(worse, better)
    assert mirrored.p_value == pytest.approx(result.p_value)
    assert mirrored.probability_of_superiority == 0.0
    assert mirrored.median_difference == pytest.approx(-result.median_difference)


def test_arms_drawn_from_the_same_distribution_are_not_significant():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.0, 1.0, 10), rng.normal(0.0, 1.0, 10)
    result = compare(a, b)
    assert result.p_value > 0.05
    assert result.ci_low < 0.0 < result.ci_high


def test_identical_samples_give_p_one():
    values = [99.9, 100.0, 98.7, 100.0, 99.5]
    result = compare(values, list(reversed(values)))
    assert result.p_value == 1.0
    assert result.median_difference == 0.0
    assert result.probability_of_superiority == 0.5
    assert "identical" in result.note


def test_one_value_everywhere_gives_p_one():
    result = compare([100.0, 100.0], [100.0, 100.0, 100.0])
    assert result.p_value == 1.0
    assert result.note


def test_a_single_run_is_not_enough():
    result = compare([1.0], [0.0, 0.1, 0.2])
    assert result.p_value == 1.0
    assert "not enough" in result.note
    assert result.median_difference == pytest.approx(0.9)


def test_no_runs():
    result = compare([], [1.0])
    assert result.p_value == 1.0 and result.note == "no runs"
    assert math.isnan(result.median_difference)


def test_too_few_seeds_are_called_out():
    # 3 vs 3: every run of a above every run of b is still p = 0.1
    assert smallest_two_sided_p(3, 3) == pytest.approx(0.1)
    result = compare([3.0, 4.0, 5.0], [0.0, 1.0, 2.0])
    assert result.p_value == pytest.approx(0.1)
    assert "cannot go below" in result.note
    assert smallest_two_sided_p(10, 10) < 1e-4


def test_ties_are_handled():
    # fitness piles up at 100% landed: many ties, and a is still better
    a = [100.0] * 8 + [99.9, 99.8]
    b = [99.0] * 5 + [100.0, 98.0, 97.0, 99.5, 99.9]
    result = compare(a, b)
    assert 0.0 < result.p_value < 0.05
    assert 0.5 < result.probability_of_superiority < 1.0


def test_failed_runs_count_as_the_worst():
    # a run with no number (NaN) is -inf: the arm with it loses those pairs
    a = [1.0, 2.0, 3.0, float("nan")]
    result = compare(a, [1.5, 2.5, 3.5, 0.5])
    assert result.probability_of_superiority == pytest.approx(6 / 16)
    assert math.isfinite(result.p_value)
    both_failed = compare([-math.inf, -math.inf, 1.0], [-math.inf, -math.inf, 2.0])
    assert both_failed.median_difference == 0.0  # -inf - -inf: equally the worst
    assert not math.isnan(both_failed.ci_low) and not math.isnan(both_failed.ci_high)


def test_the_bootstrap_is_deterministic_for_a_seed():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 0.5, 8), rng.normal(0.5, 0.5, 8)
    first = bootstrap_median_difference(a, b, seed=7)
    assert bootstrap_median_difference(a, b, seed=7) == first
    assert compare(a, b, seed=7) == compare(a, b, seed=7)
    assert bootstrap_median_difference(a, b, seed=8) != first
    low, high = first
    assert low < high


# -- summarize, evaluations to target, rates -----------------------------------------------------


def test_summarize():
    spread = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (spread.n, spread.median, spread.q1, spread.q3) == (5, 3.0, 2.0, 4.0)
    assert (spread.minimum, spread.maximum, spread.iqr, spread.non_finite) == (1.0, 5.0, 2.0, 0)
    assert "median 3.0" in spread.describe()
    with_failure = summarize([1.0, 2.0, float("nan")])
    assert with_failure.minimum == -math.inf and with_failure.non_finite == 1
    assert with_failure.median == 1.0 and not math.isnan(with_failure.q1)
    assert summarize([]).n == 0 and summarize([]).describe() == "no runs"


def test_evaluations_to_target():
    history = [(0, 40.0), (100, 80.0), (250, 99.0), (400, 99.5), (700, 100.0)]
    assert evaluations_to_target(history, 99.0) == 250
    assert evaluations_to_target(history, 10.0) == 0
    assert evaluations_to_target(history, 100.5) is None
    assert evaluations_to_target([(0, -math.inf), (10, float("nan")), (20, 5.0)], 1.0) == 20
    assert evaluations_to_target([], 1.0) is None
    summaries = [GenerationSummary(g, 50.0 + g, 40.0, float(g), 100 * g) for g in range(4)]
    assert evaluations_to_target(fitness_curve(summaries), 52.0) == 200


def test_improve_rate_with_a_wilson_interval():
    rate = improve_rate(20, 3)
    assert rate.rate == pytest.approx(0.15)
    assert rate.low < 0.15 < rate.high
    # the textbook values for 3/20 at 95%
    assert (rate.low, rate.high) == pytest.approx((0.0524, 0.3604), abs=1e-3)
    assert improve_rate(14, 0).low == 0.0 and improve_rate(14, 0).high > 0.1
    assert improve_rate(5, 5).high == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert math.isnan(improve_rate(0, 0).rate) and improve_rate(0, 0).describe() == "none tried"
    assert "3/20" in rate.describe()
    with pytest.raises(ValueError):
        improve_rate(3, 4)


# -- the bandit ----------------------------------------------------------------------------------


def _play(bandit, rates, costs, picks, seed=0, noise=0.05):
    """Play ``picks`` rounds: arm a's child improves by rates[a] * cost, with noise."""
    rng, world = np.random.default_rng(seed), np.random.default_rng(seed + 1000)
    chosen = []
    for _ in range(picks):
        arm = bandit.choose(rng)
        cost = costs[arm] * (0.8 + 0.4 * world.random())
        reward = rates[arm] * cost + noise * world.standard_normal()
        bandit.record(arm, reward, cost)
        chosen.append(arm)
    return chosen


def test_the_bandit_converges_to_the_best_arm():
    arms = ["add-term", "drop-term", "crossover", "retune", "llm"]
    rates = {arm: 0.1 for arm in arms} | {"crossover": 1.0}
    costs = dict.fromkeys(arms, 1.0)
    chosen = _play(OperatorBandit(arms), rates, costs, 1000)
    assert set(chosen[: len(arms)]) == set(arms)  # every arm once, first
    assert chosen[-200:].count("crossover") > 0.7 * 200
    assert all(chosen.count(arm) >= 2 for arm in arms)  # the others are still explored


def test_a_cheap_arm_beats_an_expensive_one_with_the_same_reward():
    # each child improves by 0.5 either way; the model's takes ten times the seconds
    bandit = OperatorBandit(["llm", "add-term"])
    rng = np.random.default_rng(0)
    chosen = []
    for _ in range(300):
        arm = bandit.choose(rng)
        bandit.record(arm, 0.5, 10.0 if arm == "llm" else 1.0)
        chosen.append(arm)
    assert chosen[-100:].count("add-term") > 70
    stats = bandit.stats()
    assert stats["add-term"].rate == pytest.approx(0.5)
    assert stats["llm"].rate == pytest.approx(0.05)


def test_the_bandit_tries_every_arm_and_is_deterministic():
    arms = [f"op-{i}" for i in range(6)]
    bandit = OperatorBandit(arms)
    first = bandit.choose(np.random.default_rng(5))  # choosing records nothing
    rng = np.random.default_rng(5)
    tried = []
    for _ in range(len(arms)):
        arm = bandit.choose(rng)
        bandit.record(arm, 0.0, 1.0)  # nothing ever improves
        tried.append(arm)
    assert sorted(tried) == arms and tried[0] == first
    # the same generator gives the same choices
    again, rng = OperatorBandit(arms), np.random.default_rng(5)
    replay = []
    for _ in range(len(arms)):
        arm = again.choose(rng)
        again.record(arm, 0.0, 1.0)
        replay.append(arm)
    assert replay == tried
    # with nothing improving, exploration spreads the picks evenly
    rng = np.random.default_rng(6)
    for _ in range(60):
        bandit.record(bandit.choose(rng), 0.0, 1.0)
    pulls = [s.pulls for s in bandit.stats().values()]
    assert max(pulls) - min(pulls) <= 1


def test_bandit_rewards_are_clipped_and_costs_checked():
    bandit = OperatorBandit(["a", "b"])
    bandit.record("a", -3.0, 2.0)  # a worse child earns nothing, loses nothing
    bandit.record("a", -math.inf, 1.0)  # nor does a failed one
    bandit.record("b", float("nan"), 0.0)  # a free child's cost is floored
    stats = bandit.stats()
    assert stats["a"].reward == 0.0 and stats["a"].cost_s == 3.0 and stats["a"].pulls == 2
    assert stats["b"].cost_s > 0.0
    with pytest.raises(KeyError):
        bandit.record("c", 1.0, 1.0)
    with pytest.raises(ValueError):
        bandit.record("a", 1.0, -1.0)
    with pytest.raises(ValueError):
        bandit.record("a", math.inf, 1.0)
    with pytest.raises(ValueError):
        OperatorBandit(["a", "a"])


def test_stalled():
    assert not stalled([1.0, 2.0, 3.0], window=3)  # not enough generations yet
    assert stalled([1.0, 5.0, 5.0, 5.0, 5.0], window=3)
    assert not stalled([1.0, 5.0, 5.0, 5.0, 5.1], window=3)
    assert stalled([1.0, 5.0, 5.0, 5.0, 5.1], window=3, min_improvement=0.5)
    assert stalled([5.0, 4.0, 4.5, 4.9], window=3)  # lower than before is no progress
    assert not stalled([-math.inf, -math.inf, 1.0], window=1)
    assert stalled([-math.inf, float("nan"), -math.inf], window=2)
    with pytest.raises(ValueError):
        stalled([1.0], window=0)
