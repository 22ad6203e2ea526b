"""Agents and the repair loop: loop logic on a scripted backend, then the real models."""

import json
import subprocess
import sys
import threading

import pytest

from neurojit_tui.agents import (
    SMOLLM2,
    LlamaBackend,
    ModelConfig,
    ModelError,
    ReasoningAgent,
    RepairSession,
    ScriptedBackend,
    SynthesisAgent,
    replay,
)
from neurojit_tui.agents.grammar import LineGrammar, SymbolTable, full_grammar_sample
from neurojit_tui.agents.synthesis import example_program
from neurojit_tui.compiler import dialect as tl

from .conftest import SAMPLES

PD = (SAMPLES / "pd.mlir").read_text()
OPERAND_COUNT = PD.replace(
    '"tensorlang.add"(%law, %bias) : (tensor<2xf64>, tensor<2xf64>)',
    '"tensorlang.add"(%law) : (tensor<2xf64>)',
)
STRATEGY_JSON = '{"family": "pd", "kp": 0.5, "kd": 1.0, "ki": 0.0, "rationale": "soft descent"}'


def _lines_of(program: str) -> list[str]:
    body = program.split("{\n", 1)[1].rsplit("}", 1)[0]
    return [line + "\n" for line in body.split("\n") if line.strip()]


# -- grammar -------------------------------------------------------------------------------


def test_grammar_is_generated_from_the_dialect_table():
    symbols = SymbolTable()
    symbols.types.update(
        {
            "%v0": "tensor<2x8xf64>",
            "%v1": "tensor<2xf64>",
            "%v2": "tensor<2xi1>",
            "%v3": "f64",
            "%v4": "tensor<8x2xf64>",
        }
    )
    text = LineGrammar(symbols).text()
    for op in tl.OPS:
        if op.shape_rule != tl.ShapeRule.ASSERT:
            assert f'\\"{op.full_name}\\"' in text, op.name
    assert '"  %v5 = " op' in text and '"  return "' in text
    # values are offered only with their own type
    assert 'val-tensor-2x8xf64- ::= "%v0"' in text


def test_return_is_offered_only_when_an_action_exists():
    assert '"  return "' not in full_grammar_sample()


# -- loop logic on a scripted backend -----------------------------------------------------


def test_symbolic_tier_repairs_structural_errors_without_any_model(compiler):
    broken = PD.replace("tensorlang.matvec", "tensorlang.matvek").replace(
        "(%law, %bias)", "(%lwa, %bias)"
    )
    session = RepairSession(broken, "pd.mlir", compiler=compiler)
    assert session.auto() == "repaired"
    assert session.tiers == ["symbolic", "symbolic"] and session.text == PD
    assert "matvek" in session.attempts[0].diff and session.program is not None


def test_structural_error_without_fix_it_goes_straight_to_synthesis(compiler):
    lines = _lines_of(example_program())
    synthesis = ScriptedBackend(lines[3:], identity="scripted-synthesis")  # after kept lines
    reasoning = ScriptedBackend([], identity="scripted-reasoning")
    session = RepairSession(
        OPERAND_COUNT,
        "pd.mlir",
        SynthesisAgent(synthesis),
        ReasoningAgent(reasoning),
        compiler=compiler,
    )
    attempt = session.propose()
    assert attempt.tier == "synthesis" and attempt.verifies
    assert not reasoning.prompts  # the bypass: the reasoning agent was not asked
    assert "Repair: pd.mlir:12:8: error: op expects exactly 2 operands" in synthesis.prompts[0]
    assert all(g and "root ::=" in g for g in synthesis.grammars)
    session.accept()
    assert session.status == "repaired"


def test_runtime_failure_goes_through_the_reasoning_agent_first_then_hot_swaps(compiler):
    from neurojit_tui.compiler import ControllerSlot

    slot = ControllerSlot(compiler.compile(PD, "pd.mlir", require_control=True), "pd-v1")
    reasoning = ScriptedBackend([STRATEGY_JSON])
    synthesis = ScriptedBackend(_lines_of(example_program()))
    session = RepairSession(
        PD,
        "pd.mlir",
        SynthesisAgent(synthesis),
        ReasoningAgent(reasoning),
        compiler=compiler,
        failure="assert failed: altitude at pd.mlir:9:3",
        slot=slot,
    )
    assert session.status == "in_progress"
    attempt = session.propose()
    assert attempt.tier == "reasoning+synthesis"
    assert "assert failed: altitude" in reasoning.prompts[0]
    assert "pd controller, gains kp=0.5 kd=1" in synthesis.prompts[0]
    assert slot.current_id == "pd-v1"
    session.accept()
    assert session.status == "repaired" and slot.current_id == "pd.mlir#repair-1"


def test_stepping_reject_edit_retry_budget_and_replay(compiler, tmp_path):
    # Uses a value that does not exist, again and again: the loop guard stops it.
    wrong_line = '  %v3 = "tensorlang.neg"(%v9) : (tensor<2xf64>) -> tensor<2xf64>\n'
    synthesis = ScriptedBackend([wrong_line] * 40)
    session = RepairSession(
        OPERAND_COUNT,
        "pd.mlir",
        SynthesisAgent(synthesis),
        ReasoningAgent(ScriptedBackend([])),
        max_attempts=3,
        compiler=compiler,
    )
    first = session.propose()
    assert not first.verifies
    with pytest.raises(RuntimeError):
        session.propose()  # the pending attempt must be decided first
    session.reject()
    assert session.text == OPERAND_COUNT
    edited = session.edit_and_retry(PD)
    assert edited.tier == "user" and edited.verifies
    session.accept()
    assert session.status == "repaired" and session.text == PD

    log = tmp_path / "repair.json"
    session.save(log)
    again = replay(json.loads(log.read_text()), compiler)
    assert [a.decision for a in again.attempts] == ["rejected", "accepted"]
    assert again.text == PD and again.status == "repaired"

    same_error = '  %v3 = "tensorlang.add"(%v2) : (tensor<2xf64>) -> tensor<2xf64>\n'
    stuck = RepairSession(
        OPERAND_COUNT,
        "pd.mlir",
        SynthesisAgent(ScriptedBackend([same_error] * 80)),
        ReasoningAgent(ScriptedBackend([])),
        max_attempts=2,
        compiler=compiler,
    )
    assert stuck.auto() == "failed" and len(stuck.attempts) == 2


def test_monolithic_mode_asks_the_reasoning_model_without_grammar(compiler):
    reasoning = ScriptedBackend(["Here is the fix:\n" + PD + "\nDone."])
    session = RepairSession(
        OPERAND_COUNT,
        "pd.mlir",
        SynthesisAgent(ScriptedBackend([])),
        ReasoningAgent(reasoning),
        mode="monolithic",
        compiler=compiler,
    )
    assert session.auto() == "repaired"
    assert session.tiers == ["monolithic"] and reasoning.grammars == [None]


# -- the real models ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm2():
    return LlamaBackend(ModelConfig(model=SMOLLM2, temperature=0.3, seed=1, max_tokens=64))


@pytest.mark.slow
def test_streaming_delivers_tokens_and_cancel_stops(smollm2):
    pieces = []
    generation = smollm2.generate("The Moon's gravity is", max_tokens=24, on_token=pieces.append)
    assert "".join(pieces) == generation.text and len(pieces) >= 5
    cancel = threading.Event()

    seen = []

    def stop_after_three(piece):
        seen.append(piece)
        if len(seen) == 3:
            cancel.set()

    cut = smollm2.generate(
        "Count: one, two,", max_tokens=48, on_token=stop_after_three, cancel=cancel
    )
    assert cut.cancelled and cut.completion_tokens <= 4


@pytest.mark.slow
def test_grammar_constrained_lines_always_parse(smollm2, compiler):
    """Whatever the model samples, every line it wrote parses and verifies; at most the
    closing return (added when the model ran out of lines) can be wrong."""
    result = SynthesisAgent(smollm2, max_lines=4).write(None)
    lines = result.text.splitlines()
    assert len(lines) >= 4 and result.completion_tokens > 0
    closing = len(lines) - 1  # the return line, 1-based
    diagnostics = compiler.check(result.text, "gen.mlir", require_control=True)
    assert all(d.line == closing for d in diagnostics), [d.format() for d in diagnostics]


@pytest.mark.slow
def test_reasoning_agent_returns_a_structured_strategy(smollm2):
    from neurojit_tui.sim import Environment

    result = ReasoningAgent(smollm2).strategy(Environment())
    assert result.strategy is not None or result.error
    if result.strategy:
        assert result.strategy.family in ("pd", "pid", "heuristic", "mlp")


def test_bad_model_paths_fail_with_the_path_named(tmp_path):
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelError, match=str(missing)):
        LlamaBackend(ModelConfig(model=str(missing)))
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x00garbage" * 100)
    with pytest.raises(ModelError, match=str(corrupt)):
        LlamaBackend(ModelConfig(model=str(corrupt)))
    broken = tmp_path / "broken.mlir"
    broken.write_text(OPERAND_COUNT)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "neurojit_tui.cli",
            "repair",
            str(broken),
            "--synthesis-model",
            str(corrupt),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0 and str(corrupt) in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_real_broken_program_repaired_end_to_end_by_the_embedded_synthesis_model(tmp_path):
    """An operand-count error has no symbolic fix-it: the Gemma synthesis agent rewrites
    from the error on, under the grammar, and the result verifies and compiles."""
    broken = tmp_path / "broken.mlir"
    broken.write_text(OPERAND_COUNT)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "neurojit_tui.cli",
            "repair",
            str(broken),
            "--json",
            "--max-attempts",
            "3",
            "--log",
            str(tmp_path / "log.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    result = json.loads(run.stdout)
    assert run.returncode == 0 and result["status"] == "repaired", run.stderr
    assert result["tiers"][0] == "synthesis"
    log = json.loads((tmp_path / "log.json").read_text())
    assert log["attempts"][0]["agent"].startswith("gemma-3-270m")


def test_agent_settings_from_config_file_and_flags(tmp_path, monkeypatch):
    from neurojit_tui.agents.config import load_agent_configs
    from neurojit_tui.cli import _agent_overrides, build_parser

    monkeypatch.setenv("NEUROJIT_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text(
        '[synthesis]\nmodel = "smollm2-135m"\ntemperature = 0.1\n[reasoning]\nn_ctx = 4096\n'
    )
    args = build_parser().parse_args(
        [
            "repair",
            "x.mlir",
            "--threads",
            "1",
            "--agent-set",
            "synthesis.temperature=0.2",
            "--agent-set",
            "reasoning.seed=7",
        ]
    )
    configs = load_agent_configs(_agent_overrides(args))
    assert configs["synthesis"].model == "smollm2-135m" and configs["synthesis"].temperature == 0.2
    assert configs["reasoning"].n_ctx == 4096 and configs["reasoning"].seed == 7
    assert configs["reasoning"].n_threads == configs["synthesis"].n_threads_batch == 1
    (tmp_path / "config.toml").write_text("[synthesis]\ntemprature = 0.1\n")
    with pytest.raises(ModelError, match="config.toml.*temprature"):
        load_agent_configs()
