"""bench evolve --arms: the same search with different proposers, over seeds, with
significance tests; the random control arm; the failure table in the model's prompt."""

import json
import math

from neurojit_tui.benches.ablation import bench_ablation, format_ablation_table, proposals
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


def test_edits_that_helped_come_back_for_similar_failures(tmp_path):
    from neurojit_tui.memory.edits import EditMemory, EditRecord

    memory = EditMemory(tmp_path)
    hard = {"hard touchdown": 0.8, "timeout": 0.0}
    drift = {"hard touchdown": 0.0, "drift out": 0.7}
    memory.add(EditRecord(3.0, 0.8, hard, "reads y, vy", "add a term", "vy", "main", 10.0, 50.0))
    memory.add(EditRecord(3.0, 0.8, drift, "reads x", "add a term", "vx", "lateral", 5.0, 9.0))
    memory.add(EditRecord(3.0, 0.8, hard, "reads y", "gate on leg contact", "x", "main", 9, 1))
    (tmp_path / "edits" / "junk.json").write_text("{not a record")
    situation = EditRecord(2.9, 0.8, {"hard touchdown": 0.75}, "reads y", "", "", "", 0, 0)
    (closest,) = memory.similar(situation, count=1)
    assert (closest.change, closest.observation, closest.engine) == ("add a term", "vy", "main")
    assert len(memory.similar(situation, count=5)) == 2  # the edit that hurt is not an example
    assert "raised its fitness from 10.0 to 50.0" in closest.describe()


def test_a_proposal_that_helps_is_remembered_and_shown_next_time(tmp_path):
    from types import SimpleNamespace

    from neurojit_tui.evolve.llm import LLMMutation
    from neurojit_tui.memory.edits import EditMemory
    from neurojit_tui.sim.report import Outcomes

    from .conftest import scripted_agents

    proposal = '{"change": "add a term", "observation": "vy", "engine": "main", "rationale": "r"}'
    agents = scripted_agents([proposal] * 3, [])
    memory = EditMemory(tmp_path)
    llm = LLMMutation(agents, mode="guide", memory=memory)
    train = Outcomes(64, 6, 50, 0, 8, 6 / 64, -80.0, -200.0, 400.0)
    parent = SimpleNamespace(text=sample("pd"), train=train, fitness=9.4)
    child_text, description = llm.propose(parent, HARSH, seed=1)
    assert description.startswith("LLM: add a term on vy for the main engine")
    assert "How it fails:" in agents.reasoning.backend.prompts[0]
    llm.feedback(parent, SimpleNamespace(fitness=5.0))  # worse: not an example
    assert memory.records() == []
    llm.propose(parent, HARSH, seed=2)
    llm.feedback(parent, SimpleNamespace(text=child_text, fitness=30.0))
    (record,) = memory.records()
    assert (record.change, record.observation, record.engine) == ("add a term", "vy", "main")
    assert (record.fitness_before, record.fitness_after) == (9.4, 30.0)
    assert sum(record.failures.values()) > 0  # pd fails at g = 3
    llm.propose(parent, HARSH, seed=3)
    assert "Changes that helped before:" in agents.reasoning.backend.prompts[2]
    assert "raised its fitness from 9.4 to 30.0" in agents.reasoning.backend.prompts[2]


def test_screening_drops_proposals_that_beat_no_parent_on_a_few_landers():
    seeds = [("pd.mlir", sample("pd")), ("heuristic.mlir", sample("heuristic"))]
    options = small_options(generations=6, use_llm=True, llm_rate=1.0, screen_agents=16)
    result = evolve(seeds, HARSH, options, llm=RandomGuide())
    stats = result.operators["random"]
    assert stats.tried == 12 and stats.screened_out >= 1
    assert stats.screened_out + stats.not_applicable + stats.failed <= stats.tried
    unscreened = evolve(
        seeds, HARSH, small_options(generations=6, use_llm=True, llm_rate=1.0), llm=RandomGuide()
    )
    assert unscreened.operators["random"].screened_out == 0
