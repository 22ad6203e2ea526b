"""The engine process: real work through it, and a crashed or hung engine is survived."""

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest

from neurojit_tui.compiler.diagnostics import Diagnostic
from neurojit_tui.engine import EngineClient, EngineCrashed, EngineError, EngineTimeout
from neurojit_tui.engine.protocol import (
    AgentToken,
    CheckReply,
    CheckRequest,
    CompileRequest,
    DebugHangRequest,
    DebugSegfaultRequest,
    Done,
    PingRequest,
    RepairStartRequest,
    RepairStepRequest,
    Request,
    SwarmRequest,
)
from neurojit_tui.evolve.results import (
    BestProgram,
    BestSoFar,
    EvolutionResult,
    EvolveOptions,
    FailedCandidate,
    GenerationEnded,
    GenerationSummary,
    LineageStep,
    OperatorStats,
    RegistryVerdict,
    SearchLog,
    SelectionScores,
    TrainingScores,
    ValidationScores,
)
from neurojit_tui.sim.model import Environment
from neurojit_tui.sim.report import Outcomes

from .conftest import SAMPLES

PD = (SAMPLES / "pd.mlir").read_text()
BROKEN = PD.replace("tensorlang.matvec", "tensorlang.matvek")


@pytest.fixture
def engine():
    restarts = []
    client = EngineClient(on_restart=restarts.append).start()
    client.restart_reasons = restarts
    yield client
    client.close()


@dataclass(frozen=True)
class NoSuchRequest(Request[Done], op="no_such_request"):
    pass


@dataclass(frozen=True)
class RegistryHelperRequest(Request[Done], op="registry"):
    """Names a public helper method of the engine's handlers: not a request."""


def test_engine_checks_compiles_and_flies_in_its_own_process(engine):
    assert engine.call(PingRequest(), timeout=60).pid != os.getpid()
    reply = engine.call(CheckRequest(BROKEN, "pd.mlir"), timeout=60)
    assert isinstance(reply, CheckReply)
    (diagnostic,) = reply.diagnostics
    assert (diagnostic.line, diagnostic.col) == (11, 10)
    compiled = engine.call(CompileRequest(PD, "pd.mlir"), timeout=60)
    assert compiled.ok and compiled.timings.jit_s > 0
    assert not engine.call(CompileRequest(BROKEN, "pd.mlir"), timeout=60).ok
    report = engine.call(
        SwarmRequest((SAMPLES / "heuristic.mlir").read_text(), "heuristic.mlir", agents=50),
        timeout=120,
    ).report
    assert report.landed > 40 and report.ok
    broken = engine.call(SwarmRequest(BROKEN, "pd.mlir", agents=5), timeout=120).report
    assert broken.failure == "does not compile" and broken.diagnostics[0].line == 11
    # the engine answers its requests only: no other method of it can be called
    for request in (NoSuchRequest(), RegistryHelperRequest()):
        with pytest.raises(EngineError, match="unknown engine request"):
            engine.call(request, timeout=30)


def test_the_workstations_engine_runs_at_idle_priority_and_still_works():
    """The workstation's engine (its settings from the app) computes only on CPU time
    nothing else wants, and so do the threads it starts (a swarm run's)."""
    from neurojit_tui.ui.engine_jobs import ENGINE_IDLE_PRIORITY, ENGINE_NICENESS

    client = EngineClient(niceness=ENGINE_NICENESS, idle_priority=ENGINE_IDLE_PRIORITY).start()
    try:
        pid = client.call(PingRequest(), timeout=60).pid
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE
        assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0) + 10
        report = client.call(SwarmRequest(PD, "pd.mlir", agents=50), timeout=120).report
        assert report.agents == 50
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        assert threads and all(os.sched_getscheduler(t) == os.SCHED_IDLE for t in threads)
    finally:
        client.close()


def test_engine_killed_mid_job_is_reported_and_restarted(engine):
    first_pid = engine.call(PingRequest(), timeout=60).pid
    outcome = {}

    def long_job():
        try:
            engine.call(DebugHangRequest(seconds=60), timeout=120)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcome["error"] = error

    worker = threading.Thread(target=long_job)
    worker.start()
    time.sleep(0.5)
    os.kill(first_pid, signal.SIGKILL)
    worker.join(timeout=30)
    assert isinstance(outcome["error"], EngineCrashed) and "SIGKILL" in str(outcome["error"])
    # the next request gets a fresh engine that works
    assert engine.call(PingRequest(), timeout=60).pid != first_pid
    assert engine.call(CheckRequest(PD, "pd.mlir"), timeout=60).diagnostics == ()
    assert engine.restarts == 1 and "SIGKILL" in engine.restart_reasons[0]


def test_segfault_in_native_code_kills_only_the_engine(engine):
    with pytest.raises(EngineCrashed, match="SIGSEGV"):
        engine.call(DebugSegfaultRequest(), timeout=60)
    assert engine.call(CheckRequest(BROKEN, "pd.mlir"), timeout=60).diagnostics[0].line == 11


def test_hung_engine_times_out_and_is_replaced(engine):
    pid = engine.call(PingRequest(), timeout=60).pid
    with pytest.raises(EngineTimeout):
        engine.call(DebugHangRequest(seconds=600), timeout=1.0)
    assert engine.call(PingRequest(), timeout=60).pid != pid


def test_call_right_after_an_engine_dies_goes_to_a_fresh_one(engine):
    """The reader thread retires a dead engine a moment after it dies; a call made in that
    moment must not be sent to the dead engine (CI once saw it fail with EngineCrashed)."""
    for _ in range(5):
        pid = engine.call(PingRequest(), timeout=60).pid
        os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):  # the reader thread reaped it already
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # dead; maybe not yet reaped
        assert engine.call(PingRequest(), timeout=60).pid != pid
    assert engine.restarts == 5


def test_client_side_never_loads_native_engines():
    code = (
        "import sys; from neurojit_tui.engine import EngineClient, protocol; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('mlir', 'llama_cpp', 'llvmlite')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_repair_session_in_the_engine_streams_labelled_tokens():
    """The repair stepper's back end: a session in the engine, one attempt by the real
    (small) synthesis model, its tokens streamed to the client as they come."""
    tokens = []
    client = EngineClient(
        on_event=lambda request_id, event: (
            tokens.append(event) if isinstance(event, AgentToken) else None
        )
    )
    client.start()
    try:
        operand_count = PD.replace(
            '"tensorlang.add"(%law, %bias) : (tensor<2xf64>, tensor<2xf64>)',
            '"tensorlang.add"(%law) : (tensor<2xf64>)',
        )
        state = client.call(
            RepairStartRequest(
                operand_count,
                "pd.mlir",
                agents={"synthesis": {"model": "smollm2-135m", "max_tokens": 64}},
            ),
            timeout=120,
        )
        assert state.status == "in_progress"
        state = client.call(RepairStepRequest(state.session, "propose"), timeout=300)
        (attempt,) = state.attempts
        assert attempt.tier == "synthesis" and attempt.agent.startswith("SmolLM2")
        assert tokens and {t.agent for t in tokens} == {"synthesis"}
        assert "".join(t.text for t in tokens).strip()
    finally:
        client.close()


def test_every_request_has_one_handler_and_every_message_survives_the_pipe():
    """The engine's handler table names every request type of the protocol (the main
    loop answers shutdown itself), and requests, replies and events come back from
    their plain form (what the pipe carries) as they went in."""
    from neurojit_tui.compiler.jit import AssertViolation
    from neurojit_tui.engine import protocol, server
    from neurojit_tui.sim.report import SwarmReport

    table = server.Handlers().table()
    assert set(protocol.REQUESTS.values()) - set(table) == {protocol.ShutdownRequest}
    error = Diagnostic(
        "pd.mlir",
        11,
        10,
        "error",
        "unregistered operation",
        (Diagnostic("pd.mlir", 11, 10, "note", "see here"),),
    )
    report = SwarmReport(
        "pd.mlir",
        100,
        landed=3,
        diagnostics=[error],
        assert_violation=AssertViolation("y > 1", "pd.mlir", 5, 3),
        score_histogram={"edges": [0.0, 1.0], "counts": [100]},
    )
    values = [
        protocol.CheckRequest(PD, "pd.mlir", controller=False),
        protocol.CheckReply((error,)),
        protocol.SwarmReply(report),
        protocol.RepairState(
            1,
            "in_progress",
            PD,
            (error,),
            (
                protocol.RepairAttempt(
                    1, "symbolic", "compiler", 0.5, "pending", "fixed it", "--- a", (error,)
                ),
            ),
        ),
        protocol.SynthesizeReply(
            "ok", 1.0, "miss", PD, (protocol.SynthesizedCandidate("c.mlir", report),), False
        ),
        protocol.LanderFrame(
            0.0,
            5.6,
            0.1,
            -1.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.9,
            12.0,
            40,
            0,
            (0.8, 0.0),
            "pd.mlir#1",
            -0.1,
            "flying",
            False,
        ),
        protocol.EvolutionProgress(log=SearchLog("seed pd.mlir: training fitness 91.74")),
    ]
    for value in values:
        assert protocol.from_wire(type(value), protocol.to_wire(value)) == value, value
    # the conditions and the options whole; a Gymnasium environment's arguments keep
    # their kinds (bool, int, float, text)
    request = protocol.EvolveRequest(
        text=PD,
        seeds=(("pid.mlir", PD),),
        environment=Environment(gravity=3.0, turbulence=0.8),
        options=EvolveOptions(
            budget_s=None,
            generations=2,
            env_id="LunarLanderContinuous-v3",
            env_args=(("enable_wind", True), ("render_mode", "rgb_array"), ("wind_power", 15.5)),
            objective="return",
        ),
    )
    assert protocol.read_request(protocol.request_message(4, request)) == request
    refused = protocol.EvolveReply(None, refused="cannot make Gymnasium environment 'X-v0'")
    assert protocol.from_wire(protocol.EvolveReply, protocol.to_wire(refused)) == refused
    with pytest.raises(protocol.UnknownRequest, match="unknown engine request 'registry'"):
        protocol.read_request({"id": 5, "op": "registry", "args": {}})


LINEAGE = (
    LineageStep("c-2", ("c-1",), "perturb", "scale a gain", 1, "k1", (0.5, 1.5), "", 91.75),
    LineageStep("c-1", (), "seed", "seed pd.mlir", 0, "k1", (0.4, 1.5), "pd.mlir", 91.74),
)


def _evolution_result():
    """An evolution's result with every part filled in, as the search makes it."""
    scores = {"success_rate": 0.9, "mean_score": 200.0, "cvar10_score": -20.0, "agents": 1000}
    best = BestProgram(
        "c-2",
        None,
        PD,
        91.75,
        TrainingScores(0.9, 205.0, None, 128, 3),
        ValidationScores(0.87, 193.6, -57.7, 1000, (1592590338,), 870, 100, 20, 10, None),
        SelectionScores(0.9, 201.0, -30.0, 1000, 1592655875, ("c-2", "c-1")),
        LINEAGE,
        RegistryVerdict(True, "ab" * 32, "better than pd.mlir", scores, {"pd.mlir": scores}),
    )
    return EvolutionResult(
        "ok",
        2.4,
        2,
        867,
        361.25,
        best,
        (
            GenerationSummary(0, 91.74, 91.74, 1.0, 481),
            GenerationSummary(1, 91.75, -math.inf, 1.7, 867),
        ),
        (
            FailedCandidate(
                0,
                "seed",
                "seed bad.mlir",
                (),
                "does not compile",
                (Diagnostic("bad.mlir", 2, 3, "error", "'func.return' op has 0 operands"),),
            ),
        ),
        ("pd.mlir", "bad.mlir"),
        Environment(gravity=3.0, turbulence=0.8),
        EvolveOptions(generations=2, budget_s=None, use_llm=False),
        0.8,
        3,
        {"perturb": OperatorStats(tried=2, kept=1, improved=1), "llm": OperatorStats(failed=1)},
        {},
    )


def test_an_evolution_s_events_and_result_survive_the_pipe_and_json():
    """Each of the search's events and its result come back from the pipe's plain form,
    and from that as JSON, equal to what went in (a dict of dataclasses, nested
    tuples, an -inf and a None among them)."""
    from neurojit_tui.engine import protocol

    train = Outcomes(128, 117, 8, 2, 1, 0.914, 205.0, -22.1, 310.5)
    events = [
        GenerationEnded(GenerationSummary(1, 91.75, 91.74, 1.7, 867), 510.0, "c-2"),
        BestSoFar("c-2", 91.75, PD, train, LINEAGE, PD, "scale a gain", 1),
        FailedCandidate(2, "llm", "a proposal", ("c-2",), "no landers flew"),
        SearchLog("generation 2: crossover not applicable to c-2"),
    ]
    values = [protocol.EvolutionProgress.of(event) for event in events]
    values.append(protocol.EvolveReply(_evolution_result()))
    for value in values:
        wire = protocol.to_wire(value)
        assert protocol.from_wire(type(value), wire) == value
        assert protocol.from_wire(type(value), json.loads(json.dumps(wire))) == value
    message = protocol.event_message(7, values[1])
    assert message["event"] == "evolution" and protocol.read_event(message).best == events[1]
    assert [value.log for value in values[:4]] == [None, None, None, events[3]]
