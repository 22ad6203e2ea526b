"""The engine process: real work through it, and a crashed or hung engine is survived."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from neurojit_tui.engine import EngineClient, EngineCrashed, EngineError, EngineTimeout

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


def test_engine_checks_compiles_and_flies_in_its_own_process(engine):
    assert engine.call("ping", timeout=60)["pid"] != os.getpid()
    (diagnostic,) = engine.call("check", text=BROKEN, path="pd.mlir", timeout=60)
    assert (diagnostic["line"], diagnostic["col"]) == (11, 10)
    assert engine.call("compile", text=PD, path="pd.mlir", timeout=60)["ok"]
    report = engine.call("swarm", text=(SAMPLES / "heuristic.mlir").read_text(),
                         path="heuristic.mlir", agents=50, timeout=120)
    assert report["landed"] > 40
    with pytest.raises(EngineError, match="unknown engine request"):
        engine.call("no_such_request", timeout=30)


def test_the_workstations_engine_runs_at_idle_priority_and_still_works():
    """The workstation's engine (its settings from the app) computes only on CPU time
    nothing else wants, and so do the threads it starts (a swarm run's)."""
    from neurojit_tui.ui.app import ENGINE_IDLE_PRIORITY, ENGINE_NICENESS

    client = EngineClient(niceness=ENGINE_NICENESS, idle_priority=ENGINE_IDLE_PRIORITY).start()
    try:
        pid = client.call("ping", timeout=60)["pid"]
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE
        assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0) + 10
        report = client.call("swarm", text=PD, path="pd.mlir", agents=50, timeout=120)
        assert report["agents"] == 50
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        assert threads and all(os.sched_getscheduler(t) == os.SCHED_IDLE for t in threads)
    finally:
        client.close()


def test_engine_killed_mid_job_is_reported_and_restarted(engine):
    first_pid = engine.call("ping", timeout=60)["pid"]
    outcome = {}

    def long_job():
        try:
            engine.call("debug_hang", seconds=60, timeout=120)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcome["error"] = error

    worker = threading.Thread(target=long_job)
    worker.start()
    time.sleep(0.5)
    os.kill(first_pid, signal.SIGKILL)
    worker.join(timeout=30)
    assert isinstance(outcome["error"], EngineCrashed) and "SIGKILL" in str(outcome["error"])
    # the next request gets a fresh engine that works
    assert engine.call("ping", timeout=60)["pid"] != first_pid
    assert engine.call("check", text=PD, path="pd.mlir", timeout=60) == []
    assert engine.restarts == 1 and "SIGKILL" in engine.restart_reasons[0]


def test_segfault_in_native_code_kills_only_the_engine(engine):
    with pytest.raises(EngineCrashed, match="SIGSEGV"):
        engine.call("debug_segfault", timeout=60)
    assert engine.call("check", text=BROKEN, path="pd.mlir", timeout=60)[0]["line"] == 11


def test_hung_engine_times_out_and_is_replaced(engine):
    pid = engine.call("ping", timeout=60)["pid"]
    with pytest.raises(EngineTimeout):
        engine.call("debug_hang", seconds=600, timeout=1.0)
    assert engine.call("ping", timeout=60)["pid"] != pid


def test_call_right_after_an_engine_dies_goes_to_a_fresh_one(engine):
    """The reader thread retires a dead engine a moment after it dies; a call made in that
    moment must not be sent to the dead engine (CI once saw it fail with EngineCrashed)."""
    for _ in range(5):
        pid = engine.call("ping", timeout=60)["pid"]
        os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):  # the reader thread reaped it already
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # dead; maybe not yet reaped
        assert engine.call("ping", timeout=60)["pid"] != pid
    assert engine.restarts == 5


def test_client_side_never_loads_native_engines():
    code = ("import sys; from neurojit_tui.engine import EngineClient; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('mlir', 'llama_cpp', 'llvmlite')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_repair_session_in_the_engine_streams_labelled_tokens():
    """The repair stepper's back end: a session in the engine, one attempt by the real
    (small) synthesis model, its tokens streamed to the client as they come."""
    tokens = []
    client = EngineClient(on_event=lambda i, kind, data: tokens.append(data) if kind == "token" else None)
    client.start()
    try:
        operand_count = PD.replace('"tensorlang.add"(%law, %bias) : (tensor<2xf64>, tensor<2xf64>)',
                                   '"tensorlang.add"(%law) : (tensor<2xf64>)')
        state = client.call("repair_start", timeout=120, text=operand_count, path="pd.mlir",
                            agents={"synthesis": {"model": "smollm2-135m", "max_tokens": 64}})
        assert state["status"] == "in_progress"
        state = client.call("repair_step", timeout=300, session=state["session"], action="propose")
        (attempt,) = state["attempts"]
        assert attempt["tier"] == "synthesis" and attempt["agent"].startswith("SmolLM2")
        assert tokens and {t["agent"] for t in tokens} == {"synthesis"}
        assert "".join(t["text"] for t in tokens).strip()
    finally:
        client.close()
