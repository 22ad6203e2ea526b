"""The engine process: real work through it, and a crashed or hung engine is survived."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest

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
    from neurojit_tui.ui.app import ENGINE_IDLE_PRIORITY, ENGINE_NICENESS

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
    from neurojit_tui.compiler.diagnostics import Diagnostic
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
        protocol.EvolutionProgress("best", {"id": "c-1", "lineage": [{"id": "c-1"}]}),
    ]
    for value in values:
        assert protocol.from_wire(type(value), protocol.to_wire(value)) == value, value
    request = protocol.EvolveRequest(text=PD, budget_s=None, generations=2)
    assert protocol.read_request(protocol.request_message(4, request)) == request
    with pytest.raises(protocol.UnknownRequest, match="unknown engine request 'registry'"):
        protocol.read_request({"id": 5, "op": "registry", "args": {}})
