"""bench evolve --arms: the same search with different proposers, over seeds, with
significance tests; the random control arm; the failure table in the model's prompt."""

import json
import math

from neurojit_tui.evolve.ablation import bench_ablation, format_ablation_table, proposals
from neurojit_tui.evolve.llm import RandomGuide, failure_table_text
from neurojit_tui.evolve.search import evolve

from .test_cli_input import neurojit, one_line_error
from .test_evolve import HARSH, sample, small_options


def test_the_random_arm_proposes_from_the_grammar_and_is_tallied_as_random():
    seeds = [("pd.mlir", sample("pd")), ("heuristic.mlir", sample("heuristic"))]
    result = evolve(
        seeds, HARSH, small_options(generations=4, llm_rate=1.0, use_llm=True), llm=RandomGuide()
    )
    stats = result.operators["random"]
    assert stats.tried == 8  # every child, two islands x four generations
    assert "llm" not in result.operators
    tried, improved = proposals(result, "random")
    assert (tried, improved) == (stats.tried, stats.improved_parent)
    assert 0 <= improved <= tried


def test_the_ablation_reports_each_arm_over_seeds_and_tests_each_pair():
    result = bench_ablation(
        [(3.0, 0.8)],
        ["symbolic", "random"],
        seeds=2,
        evaluations=250,
        validation_agents=64,
        log=lambda m: None,
    )
    (condition,) = result["conditions"]
    for arm in ("symbolic", "random"):
        row = condition["arms"][arm]
        assert row["final_success"]["n"] == 2 and 0 <= row["final_success"]["median"] <= 1
        assert math.isfinite(row["final_cvar10"]["median"])
        assert len(row["evals_to_target"]) == 2
        assert row["improve_rate"]["trials"] >= row["improve_rate"]["successes"] >= 0
    pair = condition["pairs"]["symbolic vs random"]
    assert 0 <= pair["p_value"] <= 1
    assert "too few" in pair["success"]["note"] or pair["success"]["smallest_possible_p"] > 0.05
    json.dumps(result)  # the --json output
    assert "symbolic vs random: landed p =" in format_ablation_table(result)


def test_model_arms_without_the_models_are_one_line_and_exit_2():
    line = one_line_error(
        neurojit("bench", "evolve", "--arms", "symbolic,guide", "--no-llm"), exit_code=2
    )
    assert "need the models" in line
    line = one_line_error(neurojit("bench", "evolve", "--arms", "symbolic,oracle"), exit_code=2)
    assert "unknown arm 'oracle'" in line


def test_the_model_sees_how_the_parent_fails():
    table = failure_table_text(sample("pd"), HARSH, seed=0)
    assert "48 landers" in table and "worst: lander" in table
    assert any(kind in table for kind in ("hard touchdown", "tip-over", "timeout", "drift out"))


def test_the_bandit_tries_every_operator_then_weighs_them_by_gain_per_second():
    seeds = [("pd.mlir", sample("pd")), ("heuristic.mlir", sample("heuristic"))]
    options = small_options(generations=8, use_llm=True, operator_choice="bandit")
    result = evolve(seeds, HARSH, options, llm=RandomGuide())
    tried = {name: stats.tried for name, stats in result.operators.items()}
    assert sum(tried.values()) == 16  # two islands x eight generations
    assert set(tried) >= {"random", "retune"}  # every arm first, before any weighing
    assert not result.replay.replayable and "bandit" in result.replay.note
