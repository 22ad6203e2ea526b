"""Autonomous evolution: parametric kernels, tuning, mutations, the search, memory."""

import json
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurojit_tui.evolve import EvolveOptions, evolve, remember_if_better
from neurojit_tui.evolve.evaluation import PopulationEvaluator
from neurojit_tui.evolve.mutations import (
    SYMBOLIC_OPERATORS,
    AddObservationTerm,
    AddState,
    Crossover,
    NotApplicable,
    mutate,
)
from neurojit_tui.evolve.program import ControlProgram, features, state_slots_in_use
from neurojit_tui.evolve.results import BestSoFar, GenerationEnded, SearchLog
from neurojit_tui.memory import Registry, rebuild_with
from neurojit_tui.memory.admission import admit
from neurojit_tui.sim import model
from neurojit_tui.sim.native import NativeSwarm
from neurojit_tui.sim.swarm import evaluate, population_outcomes

from .conftest import SAMPLES

SAMPLE_NAMES = ("heuristic", "pid", "pd", "mlp")
HARSH = model.Environment(gravity=3.0, turbulence=0.8)


def sample(name):
    return (SAMPLES / f"{name}.mlir").read_text()


def small_options(**overrides):
    """A search small enough for a 2-core CI machine."""
    base = dict(
        generations=2,
        budget_s=None,
        population=2,
        islands=2,
        seed=3,
        use_llm=False,
        train_agents=64,
        selection_agents=128,
        validation_agents=128,
        cma_popsize=6,
        seed_tune_generations=3,
        child_tune_generations=2,
        migrate_every=1,
    )
    return EvolveOptions(**(base | overrides))


# -- parametric compilation ------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_parametric_kernel_agrees_with_the_recompiled_program(name, compiler):
    """For the same numbers, flying the parametric kernel with a parameter vector and
    compiling the written-back text give the same trajectories' ends (1e-9)."""
    text = sample(name)
    kernel = NativeSwarm(text, f"{name}.mlir", compiler, parametric=True)
    table = kernel.parameters
    rng = np.random.default_rng(7)
    thetas = table.initial * (
        1 + 0.2 * rng.standard_normal((3, len(table)))
    ) + 0.01 * rng.standard_normal((3, len(table)))
    run = kernel.run_population(HARSH, thetas, 40, seed=5, threads=2)
    for c in range(3):
        written = table.write_back(text, thetas[c])
        assert compiler.parameters(written, "w.mlir").values == list(thetas[c])
        reference = NativeSwarm(written, "w.mlir", compiler).run(HARSH, 40, 5, threads=1)
        for field in ("score", "x", "y", "vx", "vy", "outcome", "steps", "fuel", "mem0"):
            np.testing.assert_allclose(
                run.state[field][c],
                reference.state[field],
                rtol=0,
                atol=1e-9,
                err_msg=f"{name} candidate {c} {field}",
            )
        report = evaluate(written, "w.mlir", HARSH, agents=40, seed=5, compiler=compiler)
        assert population_outcomes(run)[c].landed == report.landed


def test_parameters_come_from_constants_dense_elements_and_clamp_bounds_only(compiler):
    table = compiler.parameters(sample("heuristic"), "heuristic.mlir")
    kinds = [s.kind for s in table.sites]
    assert kinds.count("clamp.lo") == kinds.count("clamp.hi") == 2
    assert "dense" in kinds and "scalar" in kinds
    # indices, slice offsets and shapes are not parameters: heuristic has 12 numbers to tune
    assert len(table) == 12
    assert table.values[:3] == [0.5, -0.4, 0.4]


GENERIC = """func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %k = "arith.constant"() {value = 0x3FE0000000000000 : f64} : () -> f64
  %w = "tensorlang.constant"() {value = dense<[[1.5e-3, -2.0], [3.0, 4.0]]> : tensor<2x2xf64>} : () -> tensor<2x2xf64>
  %s = "tensorlang.slice"(%obs) {offsets = array<i64: 2>, sizes = array<i64: 2>} : (tensor<8xf64>) -> tensor<2xf64>
  %u = "tensorlang.matvec"(%w, %s) : (tensor<2x2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %kt = "tensorlang.broadcast"(%k) : (f64) -> tensor<2xf64>
  %v = "tensorlang.mul"(%u, %kt) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %a = "tensorlang.clamp"(%v) {lo = -1.0 : f64, hi = 1.0 : f64} : (tensor<2xf64>) -> tensor<2xf64>
  return %a, %mem : tensor<2xf64>, tensor<4xf64>
}
"""

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(st.lists(finite, min_size=7, max_size=7))
def test_write_back_round_trips_any_value_in_any_literal_form(values):
    from neurojit_tui.compiler import Compiler

    compiler = _shared_compiler()
    table = compiler.parameters(GENERIC, "generic.mlir")
    assert table.values == [0.5, 1.5e-3, -2.0, 3.0, 4.0, -1.0, 1.0]
    values = table.constrain(values)  # a clamp's bounds in order, as the verifier wants
    assert values[5] <= values[6]
    written = table.write_back(GENERIC, values)
    again = compiler.parameters(written, "generic.mlir")
    assert again.values == [float(v) for v in values]
    assert again.structure_key(written) == table.structure_key(GENERIC)
    assert isinstance(compiler, Compiler)


_COMPILER = []


def _shared_compiler():
    from neurojit_tui.compiler import Compiler

    if not _COMPILER:
        _COMPILER.append(Compiler())
    return _COMPILER[0]


def test_structure_key_tells_structures_apart(compiler):
    heuristic = compiler.parameters(sample("heuristic"), "h.mlir")
    pid = compiler.parameters(sample("pid"), "p.mlir")
    assert heuristic.structure_key(sample("heuristic")) != pid.structure_key(sample("pid"))


# -- mutations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("parent", ["heuristic", "pid", "pd"])
@pytest.mark.parametrize(
    "operator", [op for op in SYMBOLIC_OPERATORS if op.name != "crossover"], ids=lambda op: op.name
)
def test_a_symbolic_child_compiles_and_starts_out_flying_like_its_parent(
    parent, operator, compiler
):
    text = sample(parent)
    child, description = mutate(operator, text, np.random.default_rng(11))
    assert compiler.check(child, "child.mlir", require_control=True) == [], child
    assert description
    if operator.name == "drop-term":
        return  # a dropped term changes behaviour on purpose
    a = evaluate(text, "p.mlir", HARSH, agents=32, seed=2, compiler=compiler)
    b = evaluate(child, "c.mlir", HARSH, agents=32, seed=2, compiler=compiler)
    assert (a.landed, a.crashed, round(a.mean_score, 9)) == (
        b.landed,
        b.crashed,
        round(b.mean_score, 9),
    )


def test_crossover_blends_two_structures_channel_wise(compiler):
    child, _ = Crossover().apply(sample("heuristic"), np.random.default_rng(0), sample("mlp"))
    assert compiler.check(child, "x.mlir", require_control=True) == []
    assert features(child).ops > features(sample("heuristic")).ops
    with pytest.raises(NotApplicable):
        Crossover().apply(sample("pid"), np.random.default_rng(0), sample("pid"))


def _flown_by_reference(compiler, text, obs, mem):
    from neurojit_tui.compiler.reference import ReferenceProgram

    module, diagnostics = compiler.parse(text, "p.mlir", require_control=True)
    assert module is not None, diagnostics
    (action, mem_out), failure = ReferenceProgram(module, "p.mlir").call("control", obs, mem)
    assert failure is None
    return action, mem_out


def test_a_slot_only_copied_through_to_itself_is_free_state():
    # PID reads mem[0:2] for its integrals and passes mem[2:4] through untouched.
    assert state_slots_in_use(ControlProgram.parse(sample("pid"))) == {0, 1}
    assert state_slots_in_use(ControlProgram.parse(sample("heuristic"))) == set()
    # The same pass-through, but feeding mem[3] into the action: now it is in use.
    reads_three = sample("pid").replace(
        "%lateral = arith.negf %lat_pd : f64",
        '%m3 = "tensorlang.extract"(%mem) {index = array<i64: 3>} : (tensor<4xf64>) -> f64\n'
        "  %lat_m = arith.addf %lat_pd, %m3 : f64\n"
        "  %lateral = arith.negf %lat_m : f64",
    )
    assert state_slots_in_use(ControlProgram.parse(reads_three)) == {0, 1, 3}
    # Copied into another slot (mem[2] -> next mem[3]): mem[2] changes the next state.
    swapped = (
        sample("pid")
        .replace(
            '"tensorlang.concat"(%integrals, %rest)',
            '"tensorlang.concat"(%integrals, %rest_swapped)',
        )
        .replace(
            "  %integrals =",
            '  %r2 = "tensorlang.slice"(%rest) {offsets = array<i64: 0>, sizes = array<i64: 1>}'
            " : (tensor<2xf64>) -> tensor<1xf64>\n"
            '  %r3 = "tensorlang.slice"(%rest) {offsets = array<i64: 1>, sizes = array<i64: 1>}'
            " : (tensor<2xf64>) -> tensor<1xf64>\n"
            '  %rest_swapped = "tensorlang.concat"(%r3, %r2)'
            " : (tensor<1xf64>, tensor<1xf64>) -> tensor<2xf64>\n"
            "  %integrals =",
        )
    )
    assert state_slots_in_use(ControlProgram.parse(swapped)) == {0, 1, 2, 3}


def test_crossover_of_two_stateful_parents_keeps_each_state_in_its_own_slots(compiler):
    pid = sample("pid")  # state in mem[0:2]
    rng = np.random.default_rng(0)
    for _ in range(20):  # an integral of the heuristic kept in mem[2] or mem[3]
        stateful, _ = AddState("integral").apply(sample("heuristic"), rng)
        # its gain starts at 0 (the state is kept but not yet used): give it one
        stateful = stateful.replace("%s1_g = arith.constant 0.0", "%s1_g = arith.constant 0.5")
        slots = state_slots_in_use(ControlProgram.parse(stateful))
        if slots & {2, 3}:
            break
    assert slots and not slots & {0, 1}
    child, description = Crossover().apply(pid, np.random.default_rng(1), stateful)
    from_pid = 0 if "main engine from the first" in description else 1
    assert compiler.check(child, "x.mlir", require_control=True) == []
    data = np.random.default_rng(5)
    obs = data.normal(size=(16, 8))
    mem = data.normal(size=(16, 4))
    pid_action, pid_mem = _flown_by_reference(compiler, pid, obs, mem)
    other_action, other_mem = _flown_by_reference(compiler, stateful, obs, mem)
    action, mem_out = _flown_by_reference(compiler, child, obs, mem)
    np.testing.assert_array_equal(action[:, from_pid], pid_action[:, from_pid])
    np.testing.assert_array_equal(action[:, 1 - from_pid], other_action[:, 1 - from_pid])
    np.testing.assert_array_equal(mem_out[:, [0, 1]], pid_mem[:, [0, 1]])
    kept = sorted(slots)
    np.testing.assert_array_equal(mem_out[:, kept], other_mem[:, kept])


def test_features_say_what_a_program_reads():
    assert features(sample("pd")).observations == tuple(range(8))  # a matvec reads all of obs
    assert features(sample("heuristic")).observations == (0, 1, 2, 3, 4, 5, 6, 7)
    assert not features(sample("heuristic")).uses_mem and features(sample("pid")).uses_mem
    child, _ = AddObservationTerm().apply(sample("heuristic"), np.random.default_rng(1))
    assert ControlProgram.parse(child).action != ControlProgram.parse(sample("heuristic")).action


# -- the search ----------------------------------------------------------------------------------


def seeds(*names):
    return [(f"{n}.mlir", sample(n)) for n in names]


def test_same_seed_and_generations_give_the_same_best():
    first = evolve(seeds("heuristic", "pd"), HARSH, small_options())
    second = evolve(seeds("heuristic", "pd"), HARSH, small_options())
    assert first.status == second.status == "ok"
    assert first.best.source == second.best.source
    assert [h.best_fitness for h in first.history] == [h.best_fitness for h in second.history]
    assert first.generations == 2 and len(first.history) == 3
    assert first.evaluations == second.evaluations > 0
    other = evolve(seeds("heuristic", "pd"), HARSH, small_options(seed=4))
    assert other.best.source != first.best.source


def test_the_search_improves_on_its_seed_and_reports_unseen_validation_landers():
    result = evolve(
        seeds("heuristic"),
        HARSH,
        small_options(
            generations=3, population=3, seed_tune_generations=6, child_tune_generations=3
        ),
    )
    best = result.best
    seed_fitness = result.history[0].best_fitness
    assert result.history[-1].best_fitness >= seed_fitness
    # the winner is one of the training's best few, chosen again on the selection landers
    assert best.fitness <= result.history[-1].best_fitness
    assert best.id in best.selection.finalists and best.selection.agents == 128
    assert best.validation.agents == 128
    assert len({best.validation.seeds[0], best.train.seed, best.selection.seed}) == 3
    assert best.lineage[-1].mutation == "seed"


def test_the_training_set_grows_once_the_best_lands_it_all():
    """At the Moon heuristic.mlir lands nearly every lander: once the best lands all 8
    training landers, they are doubled and every living program is flown again."""
    logs = []
    result = evolve(
        seeds("heuristic"),
        model.Environment(),
        small_options(generations=1, islands=1, train_agents=8, max_train_agents=16),
        on_event=lambda event: isinstance(event, SearchLog) and logs.append(event.message),
    )
    assert result.history[0].best_fitness > 100.0  # all 8 landed
    assert [line for line in logs if "training set grows to 16" in line]
    assert result.best.train.agents == 16


class BrokenLLM:
    """An LLM mutation whose program does not compile."""

    def propose(self, parent, env, seed, cancel=None):
        return parent.text.replace("return ", "return %missing, "), "LLM: broken on purpose"


def _proposal(change, observation="vx", engine="main"):
    return json.dumps(
        {"change": change, "observation": observation, "engine": engine, "rationale": "why"}
    )


def _guided_llm(*replies):
    from neurojit_tui.agents import Agents, ReasoningAgent, SynthesisAgent
    from neurojit_tui.agents.backend import ScriptedBackend
    from neurojit_tui.evolve.llm import LLMMutation

    synthesis = ScriptedBackend([], identity="scripted-synthesis")  # must not be asked
    agents = Agents(ReasoningAgent(ScriptedBackend(list(replies))), SynthesisAgent(synthesis))
    return LLMMutation(agents, mode="guide"), synthesis


def test_a_guided_llm_change_is_made_by_its_symbolic_operator(compiler):
    from neurojit_tui.evolve.database import Individual

    llm, synthesis = _guided_llm(
        _proposal("add a term", "vx", "main"),
        _proposal("add an integral state", "angle", "lateral"),
        _proposal("change the gain"),
        _proposal("add a filtered state", "left leg"),
        _proposal("gate on leg contact"),
        _proposal("limit the output", engine="lateral"),
    )
    from neurojit_tui.sim.report import Outcomes

    text = sample("pid")
    report = evaluate(text, "p.mlir", HARSH, agents=16, seed=2, compiler=compiler)
    train = Outcomes(16, report.landed, 16 - report.landed, 0, 0, report.landed / 16, 1.0, 0.0, 9)
    parent = Individual("c-1", text, "k", [], 0.0, train, features(text), [], "seed", "", 0)
    term, description = llm.propose(parent, HARSH, seed=1)
    assert description.startswith("LLM: add a term on vx for the main engine")
    assert '%a1_o = "tensorlang.extract"(%obs) {index = array<i64: 2>}' in term  # vx: obs[2]
    integral, _ = llm.propose(parent, HARSH, seed=2)
    assert '%s1_o = "tensorlang.extract"(%obs) {index = array<i64: 4>}' in integral  # angle
    assert llm.propose(parent, HARSH, seed=3)[0] == text  # change the gain: re-tune as is
    with pytest.raises(NotApplicable, match="0/1 flag"):
        llm.propose(parent, HARSH, seed=4)
    gated, _ = llm.propose(parent, HARSH, seed=5)
    limited, _ = llm.propose(parent, HARSH, seed=6)
    assert '"tensorlang.min"' in limited and "dense<[1.0, 1.0]>" in limited
    for child in (term, integral, gated, limited):
        assert compiler.check(child, "c.mlir", require_control=True) == []
        flown = evaluate(child, "c.mlir", HARSH, agents=16, seed=2, compiler=compiler)
        assert (flown.landed, round(flown.mean_score, 9)) == (
            report.landed,
            round(report.mean_score, 9),
        )  # a new term starts at gain 0: the child flies like its parent
    assert synthesis.prompts == []  # the synthesis agent wrote nothing


def test_a_child_that_does_not_compile_is_recorded_with_its_diagnostics():
    bad_seed = ("bad.mlir", "func.func @control(%obs: tensor<8xf64>) {\n  return\n}\n")
    result = evolve(
        seeds("heuristic") + [bad_seed],
        HARSH,
        small_options(use_llm=True, llm_rate=1.0, islands=1),
        llm=BrokenLLM(),
    )
    reasons = [(f.mutation, f.reason) for f in result.failures]
    assert ("seed", "does not compile") in reasons
    assert ("llm", "does not compile") in reasons
    llm_failure = next(f for f in result.failures if f.mutation == "llm")
    assert llm_failure.diagnostics and llm_failure.diagnostics[0].line > 0
    assert result.operators["llm"].failed == 2
    assert result.best is not None  # the search goes on with what flies


def test_cancel_stops_the_search():
    cancel = threading.Event()
    events = []

    def on_event(event):
        events.append(type(event))
        if isinstance(event, GenerationEnded) and event.summary.generation >= 1:
            cancel.set()

    result = evolve(
        seeds("heuristic"), HARSH, small_options(generations=50), on_event=on_event, cancel=cancel
    )
    assert result.status == "cancelled" and result.generations <= 2
    assert BestSoFar in events and GenerationEnded in events


def test_population_evaluator_compiles_a_structure_once(compiler):
    evaluator = PopulationEvaluator(HARSH, agents=16, compiler=compiler)
    text = sample("heuristic")
    first = evaluator.structure(text, "a.mlir")
    table = first.parameters
    again = evaluator.structure(table.write_back(text, table.initial * 1.5), "b.mlir")
    assert again is first
    outcomes = evaluator.fly(first, np.stack([table.initial, table.initial * 1.1]))
    assert len(outcomes) == 2 and evaluator.evaluations == 2


def test_bench_evolve_runs_its_arms_on_one_budget_and_measures_throughput():
    from neurojit_tui.benches.evolve import bench_evolve, format_evolve_table

    result = bench_evolve(
        [(3.0, 0.8)], budget=1.0, validation_agents=64, log=lambda m: None, throughput_seconds=0.3
    )
    arms = [row["arm"] for row in result["conditions"][0]["arms"]]
    assert arms == ["heuristic", "cma-heuristic", "evolve-symbolic"]  # no models given
    assert all(row["success_rate"] is not None for row in result["conditions"][0]["arms"])
    t = result["throughput"]
    assert t["parametric_evaluations_per_s"] > 0 and t["recompile_evaluations_per_s"] > 0
    assert "evolve-symbolic" in format_evolve_table(result)


def test_bench_evolve_synthesize_arm_keeps_the_best_program_the_models_wrote(tmp_path):
    from neurojit_tui.agents.synthesis import example_program
    from neurojit_tui.benches.evolve import _synthesize_arm

    from .conftest import body_lines, scripted_agents

    agents = scripted_agents(
        ['{"family": "pd", "kp": 0.5, "kd": 1.0, "ki": 0.0, "rationale": "soft"}'],
        body_lines(example_program()),
    )
    text, tried, note = _synthesize_arm(agents, HARSH, budget=0.0, seed=0)
    assert tried == 1 and "tensorlang" in text


# -- memory ---------------------------------------------------------------------------------------


def test_admission_compares_success_then_cvar():
    good = {"success_rate": 0.99, "cvar10_score": 200.0, "mean_score": 250.0}
    assert admit(good, {"a": {"success_rate": 0.9, "cvar10_score": 250.0, "mean_score": 0}})[0]
    assert not admit(good, {"a": {"success_rate": 0.99, "cvar10_score": 210.0, "mean_score": 0}})[0]
    assert not admit(good, {"a": dict(good)})[0]  # a tie keeps what is there
    assert not admit({"success_rate": 1.0, "failure": "x"}, {})[0]


def test_the_registry_refuses_a_controller_worse_than_a_sample_or_the_stored_one(
    tmp_path, compiler
):
    registry = Registry(tmp_path / "registry", rebuild=rebuild_with(compiler))
    env = model.Environment()  # the Moon, where heuristic.mlir lands nearly all
    worse = evolve(seeds("pd"), env, small_options(generations=0, seed_tune_generations=0))
    verdict = remember_if_better(worse, env, registry)
    assert not verdict.stored and "heuristic.mlir" in verdict.reason
    assert registry.best(verdict.key) is None
    better = evolve(
        seeds("heuristic"),
        env,
        small_options(generations=1, seed_tune_generations=8, validation_agents=300),
    )
    verdict = remember_if_better(better, env, registry)
    if verdict.stored:  # then the same program again is not better than itself
        registry.flush()
        entry = registry.best(verdict.key)
        assert entry.provenance["lineage"] and entry.scores["validation"]["agents"] == 300
        assert not remember_if_better(better, env, registry).stored
    else:  # tuning on 64 training landers did not beat heuristic on the unseen ones
        assert "not better than" in verdict.reason


def test_the_reasoning_agent_hears_how_the_parent_fails_in_words():
    from neurojit_tui.evolve.llm import failure_summary
    from neurojit_tui.sim.report import Outcomes

    crashing = Outcomes(128, 3, 100, 20, 5, 3 / 128, -90.5, float("-inf"), 300.0)
    text = failure_summary(crashing)
    assert "On 128 landers it lands 3, crashes 100, leaves the screen 20" in text
    assert "still flying at the time limit 5" in text
    assert "mean score -90" in text and "worst-10% score 0" in text  # -inf said as 0


# -- the command line --------------------------------------------------------------------------


def test_cli_evolve_on_seeds_that_do_not_compile_says_why(tmp_path):
    broken = tmp_path / "broken.mlir"
    broken.write_text(sample("pd").replace("tensor<2xf64>)", "tensor<3xf64>)", 1))
    proc = subprocess.run(
        [sys.executable, "-m", "neurojit_tui.cli", "evolve", str(broken), "--budget", "5"]
        + ["--no-llm", "--no-cache"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "no candidate flew" in proc.stdout
    assert f"seed {broken}: does not compile" in proc.stdout
    assert f"{broken}:" in proc.stdout and "error:" in proc.stdout  # its diagnostics


def test_cli_evolve_prints_json_and_writes_the_best(tmp_path):
    out = tmp_path / "best.mlir"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neurojit_tui.cli",
            "evolve",
            str(SAMPLES / "heuristic.mlir"),
            "--gravity",
            "3",
            "--turbulence",
            "0.8",
            "--generations",
            "1",
            "--population",
            "2",
            "--islands",
            "1",
            "--no-llm",
            "--no-cache",
            "--json",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for key in (
        "status",
        "seconds",
        "generations",
        "evaluations",
        "evaluations_per_s",
        "best",
        "history",
    ):
        assert key in data
    for part in ("train", "validation"):
        assert set(data["best"][part]) >= {"success_rate", "mean_score", "cvar10_score"}
    assert data["best"]["validation"]["seeds"] and data["best"]["lineage"]
    assert data["best"]["path"] == str(out) and out.read_text() == data["best"]["source"]
    assert {"generation", "best_fitness", "median_fitness", "seconds"} <= set(data["history"][0])


@pytest.mark.slow
@pytest.mark.parametrize("llm_mode", ["guide", "write"])
def test_a_real_model_evolve_of_two_generations_completes(tmp_path, monkeypatch, llm_mode):
    """The embedded models propose structure (every child an LLM proposal); in the
    "write" mode the synthesis agent writes each change."""
    from neurojit_tui.agents import Agents
    from neurojit_tui.evolve import run_evolution

    monkeypatch.setenv("NEUROJIT_HOME", str(tmp_path))
    agents = Agents.from_config(
        {"reasoning": {"max_tokens": 120}, "synthesis": {"max_tokens": 120}}
    )
    tokens = []
    result = run_evolution(
        HARSH,
        small_options(use_llm=True, llm_rate=1.0, islands=1, llm_mode=llm_mode),
        seeds=seeds("pd"),
        agents=agents,
        on_token=lambda role, piece: tokens.append(role),
    )
    assert result.status == "ok" and result.generations == 2
    llm = result.operators["llm"]
    assert llm.tried == 2
    assert "reasoning" in tokens
    if llm_mode == "write":
        assert "synthesis" in tokens
    llm_children = [f for f in result.failures if f.mutation == "llm"]
    assert llm.kept + llm.failed + llm.not_applicable <= 2
    assert all(f.reason for f in llm_children)
