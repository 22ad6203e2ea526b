"""The engine process: the only process that loads MLIR, the JIT and llama.cpp.

It answers requests from ``EngineClient`` over a pipe. Native code fed untrusted input
(user IR, model output, generated controllers) runs here, so a segfault, an abort or a
hang kills or stalls this process only; the client notices, reports it and starts a new
one. Requests run on worker threads (one MLIR compiler per thread: a ``Compiler`` is not
thread-safe), so a quick request is answered while a long one runs.

Messages (plain dicts, pickled by multiprocessing):
    request  {"id": n, "op": name, "args": {...}}
    event    {"id": n, "event": kind, "data": ...}     (tokens, progress)
    reply    {"id": n, "ok": true, "result": ...} | {"id": n, "ok": false, "error": text}
"""

from __future__ import annotations

import os
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..sim.model import MOON_GRAVITY

_local = threading.local()
LOG_LIMIT_BYTES = 5 * 2**20
FRAME_FIELDS = ("x", "y", "vx", "vy", "angle", "omega", "leg_left", "leg_right", "fuel", "score")


def _plain(value):
    """``value`` with numpy scalars and arrays turned into Python numbers and lists:
    messages to the UI carry plain data only, whatever a search put in its events."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()  # a numpy scalar gives a Python number, an array a list
    return value


def _compiler():
    if getattr(_local, "compiler", None) is None:
        from ..compiler import Compiler

        _local.compiler = Compiler()
    return _local.compiler


class Handlers:
    """One method per request op. Results must be plain data (dicts, lists, numbers)."""

    def __init__(self, send_event):
        self.send_event = send_event
        self._flight = None  # the live lander: {"slot", "stop", "versions"}
        self._flight_lock = threading.Lock()
        self._agents = None
        self._sessions: dict[int, object] = {}  # repair sessions by number
        self._registry = None
        self._registry_lock = threading.Lock()
        # set by ``cancel``: agents stop generating (one event per agent job, so a cancel
        # ends the jobs running now and not the next one)
        self._cancels: set[threading.Event] = set()

    def ping(self, **_):
        return {"pid": os.getpid()}

    def check(self, text: str, path: str, controller: bool = True):
        return [d.to_json() for d in _compiler().check(text, path, require_control=controller)]

    def compile(self, text: str, path: str):
        from ..compiler import CompileError

        try:
            program = _compiler().compile(text, path, require_control=True)
        except CompileError as error:
            return {"ok": False, "diagnostics": [d.to_json() for d in error.diagnostics]}
        t = program.timings
        return {"ok": True, "diagnostics": [], "timings": {
            "parse_verify_s": t.parse_verify_s, "lower_s": t.lower_s, "jit_s": t.jit_s}}

    def swarm(self, text: str, path: str, agents: int = 100, seed: int = 0,
              gravity: float = MOON_GRAVITY, turbulence: float = 1.0,
              timeout_s: float | None = None):
        from ..sim import Environment, evaluate

        env = Environment(gravity=gravity, turbulence=turbulence)
        return evaluate(text, path, env, agents=agents, seed=seed, timeout_s=timeout_s,
                        compiler=_compiler()).to_json()

    # -- the live lander ----------------------------------------------------------------

    def fly(self, text: str, path: str, seed: int = 0, gravity: float = MOON_GRAVITY,
            turbulence: float = 1.0, fps: float = 25.0, episodes: int = 0):
        """Fly landers one after another (agent 0, 1, ...) with ``text``'s controller,
        streaming a "frame" event per step at ``fps``, until ``stop_flight`` or a new
        ``fly`` (or ``episodes`` episodes, if not 0). ``swap`` hot-swaps mid-flight."""
        import time

        from ..compiler import ControllerSlot
        from ..sim import Environment, LiveLander

        program = _compiler().compile(text, path, require_control=True)
        slot = ControllerSlot(program, f"{path}#1")
        stop = threading.Event()
        with self._flight_lock:
            if self._flight is not None:
                self._flight["stop"].set()
            self._flight = {"slot": slot, "stop": stop, "versions": 1, "path": path}
        env = Environment(gravity=gravity, turbulence=turbulence)
        request_id = _local.request_id
        agent, flown = 0, 0
        while not stop.is_set():
            lander = LiveLander(slot, env, seed=seed, agent=agent)
            for frame in lander.frames():
                if stop.is_set():
                    break
                data = {name: frame.state[name] for name in FRAME_FIELDS}
                data.update(step=frame.step, agent=agent, action=list(frame.action),
                            controller=frame.controller_id, wind=frame.wind,
                            outcome=frame.outcome, done=frame.done,
                            violation=frame.violation.format() if frame.violation else None)
                self.send_event(request_id, "frame", data)
                time.sleep(1.0 / fps)
            flown += 1
            if episodes and flown >= episodes:
                break
            stop.wait(1.0)  # show the outcome for a moment
            agent += 1
        return {"episodes": flown}

    def swap(self, text: str, path: str, only_if_flying: bool = False):
        """Compile ``text`` and hot-swap it into the flying lander. With no lander
        flying this fails, or with ``only_if_flying`` answers {"controller": None}."""
        with self._flight_lock:
            flight = self._flight
        if flight is None or flight["stop"].is_set():
            if only_if_flying:
                return {"controller": None}
            raise RuntimeError("no lander is flying (start one first)")
        program = _compiler().compile(text, path, require_control=True)
        flight["versions"] += 1
        controller_id = f"{path}#{flight['versions']}"
        flight["slot"].swap(program, controller_id)
        return {"controller": controller_id}

    def stop_flight(self, **_):
        with self._flight_lock:
            if self._flight is not None:
                self._flight["stop"].set()
                self._flight = None
        return None

    # -- repair sessions (the UI's repair stepper) -------------------------------------------

    def _agents_for(self, overrides: dict | None):
        if self._agents is None or overrides:
            from ..agents import Agents

            self._agents = Agents.from_config(overrides)
        return self._agents

    def _stream(self):
        request_id = _local.request_id
        return lambda role, piece: self.send_event(request_id, "token",
                                                   {"agent": role, "text": piece})

    def _cancel_event(self) -> threading.Event:
        event = threading.Event()
        self._cancels.add(event)
        return event

    def cancel(self, **_):
        """Stop every agent job now running (generation stops at the next token)."""
        cancelled = len(self._cancels)
        for event in list(self._cancels):
            event.set()
        return {"cancelled": cancelled}

    def repair_start(self, text: str, path: str, mode: str = "dual", max_attempts: int = 6,
                     agents: dict | None = None):
        from ..agents import RepairSession

        team = self._agents_for(agents)
        session = RepairSession(text, path, team.synthesis, team.reasoning, mode=mode,
                                max_attempts=max_attempts, compiler=_compiler(),
                                cancel=self._cancel_event())
        number = len(self._sessions) + 1
        self._sessions[number] = session
        return {"session": number, **self._session_state(session)}

    @staticmethod
    def _session_state(session) -> dict:
        return {"status": session.status, "text": session.text,
                "diagnostics": [d.to_json() for d in session.diagnostics],
                "attempts": [a.to_json() for a in session.attempts]}

    def repair_step(self, session: int, action: str, text: str | None = None):
        """``action``: propose | accept | reject | edit | auto."""
        repair = self._sessions[session]
        repair.on_token = self._stream()
        if repair.cancel.is_set():  # a cancel ends the step it hit, not the session
            self._cancels.discard(repair.cancel)
            repair.cancel = self._cancel_event()
        if action == "propose":
            repair.propose()
        elif action == "accept":
            repair.accept()
        elif action == "reject":
            repair.reject()
        elif action == "edit":
            repair.edit_and_retry(text or "")
        elif action == "auto":
            repair.auto()
        else:
            raise ValueError(f"unknown repair action {action!r}")
        return self._session_state(repair)

    # -- synthesis and the registry (the Reasoning, Swarm and Registry panes) ----------------

    def registry(self):
        """The L1/L2 registry (``~/.neurojit/registry`` or $NEUROJIT_REGISTRY), opened once.
        A stored object that no longer loads is recompiled with this thread's compiler."""
        with self._registry_lock:
            if self._registry is None:
                from ..memory import Registry, rebuild_with

                self._registry = Registry(rebuild=lambda source, file: rebuild_with(
                    _compiler())(source, file))
            return self._registry

    def synthesize(self, gravity: float = MOON_GRAVITY, turbulence: float = 1.0,
                   candidates: int = 2, agents_in_swarm: int = 100, seed: int = 0,
                   use_registry: bool = True, agents: dict | None = None):
        """reasoning -> synthesis -> repair -> swarm for ``candidates`` programs, streaming
        both agents' tokens and a "log" event per step; known conditions come from the
        registry without any model. The result is ``SynthesisRun.to_json()``."""
        import time

        from ..agents.pipeline import synthesize
        from ..paths import neurojit_home
        from ..sim import Environment

        request_id = _local.request_id
        cancel = self._cancel_event()
        out_dir = neurojit_home() / "candidates" / time.strftime("%Y%m%d-%H%M%S")
        try:
            run = synthesize(self._agents_for(agents), Environment(gravity=gravity,
                                                                   turbulence=turbulence),
                             candidates=candidates, agents_in_swarm=agents_in_swarm, seed=seed,
                             out_dir=out_dir, on_token=self._stream(), compiler=_compiler(),
                             log=lambda line: self.send_event(request_id, "log", line),
                             registry=self.registry() if use_registry else None, cancel=cancel)
        finally:
            self._cancels.discard(cancel)
        return {**run.to_json(), "cancelled": cancel.is_set()}

    def evolve(self, text: str | None = None, path: str | None = None,
               gravity: float = MOON_GRAVITY, turbulence: float = 1.0,
               budget_s: float | None = 60.0, generations: int | None = None,
               population: int = 4, islands: int = 2, seed: int = 0, use_llm: bool = True,
               agents: dict | None = None, with_default_seeds: bool = True):
        """Evolve controllers from the editor's program (``text``, if not empty), the
        samples and the registry's controllers for nearby conditions (those two unless
        ``with_default_seeds`` is off), forwarding each of the search's events as an
        "evolution" event ({"kind": "generation" | "best" | "failure" | "log", ...})
        and, with ``use_llm``, the agents' tokens. ``cancel`` stops it with the best so
        far. The result is ``EvolutionResult.to_json()``; the registry keeps the winner
        only if it beats what is stored and every sample."""
        from ..evolve.runner import default_seeds, run_evolution
        from ..evolve.search import EvolveOptions
        from ..sim import Environment

        request_id = _local.request_id
        env = Environment(gravity=gravity, turbulence=turbulence)
        registry = self.registry()
        seeds = default_seeds(env, registry) if with_default_seeds else []
        if text and text.strip():
            path = path or "editor.mlir"
            seeds = [(path, text)] + [(p, t) for p, t in seeds if t != text]
        as_written: dict[str, str] = {}
        for seed_path, seed_text in seeds:
            as_written.setdefault(seed_path, seed_text)

        def forward(kind: str, data: dict) -> None:
            if kind == "best" and not data.get("parent_text") and data.get("lineage"):
                # a tuned seed has no parent: its diff is against the seed as written
                data = {**data, "parent_text": as_written.get(data["lineage"][0].get("source"), "")}
            self.send_event(request_id, "evolution", _plain({"kind": kind, **data}))

        options = EvolveOptions(budget_s=budget_s, generations=generations,
                                population=population, islands=islands, seed=seed,
                                use_llm=use_llm)
        cancel = self._cancel_event()
        try:
            result = run_evolution(env, options, seeds=seeds or None, registry=registry,
                                   agents=self._agents_for(agents) if use_llm else None,
                                   on_event=forward, on_token=self._stream(), cancel=cancel)
        finally:
            self._cancels.discard(cancel)
        return _plain(result.to_json())

    def registry_ls(self, **_):
        """Every key's best entry, best first: the Registry pane's table."""
        registry = self.registry()
        registry.flush()  # entries still being written back are part of the answer
        entries = sorted(registry.entries(), key=lambda e: e.rank_key(), reverse=True)
        return [{"key": e.key, "file": e.file, "scores": e.scores, "strategy": e.strategy,
                 "condition": e.key_data.get("condition", {}), "created": e.created,
                 "source": e.source} for e in entries]

    def flush(self, **_):
        """Wait for the registry's write-back queue to reach the disk."""
        return {"flushed": self._registry.flush() if self._registry is not None else True}

    # Test hooks: the crash-survival tests need a request that kills or stalls native code.
    def debug_segfault(self, **_):
        import ctypes

        ctypes.string_at(0)  # reads address 0: SIGSEGV

    def debug_hang(self, seconds: float = 3600.0, **_):
        import time

        time.sleep(seconds)


def _redirect_stderr(path: str) -> None:
    """Native libraries (llama.cpp, LLVM) write to file descriptor 2 directly; under the
    workstation that is the user's terminal, and their output would draw over the screen.
    Send it to a log file instead (appended: a crash report survives the restart)."""
    import sys

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if os.path.exists(path) and os.path.getsize(path) > LOG_LIMIT_BYTES:
        os.replace(path, path + ".1")  # keep one old log, not an ever-growing one
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 2)
    os.close(log)
    sys.stderr = open(2, "w", buffering=1, closefd=False)


def _lower_priority(niceness: int, idle: bool) -> None:
    """Lower the CPU priority of every thread of this process. On Linux both are
    per-thread and inherited only by threads created later, and some exist already
    (numpy's OpenBLAS starts its pool on import): each one is set by its id."""
    if not niceness and not idle:
        return
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]  # no /proc: this thread, and those it starts
    for tid in threads:
        try:
            if niceness:
                os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
            if idle and hasattr(os, "SCHED_IDLE"):
                os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass  # the thread has ended since


def serve(connection, stderr_path: str | None = None, niceness: int = 0,
          idle_priority: bool = False) -> None:
    """The engine's main loop (runs in the child process). ``niceness`` lowers its CPU
    priority (and that of every thread it starts: llama.cpp's, the swarm's) so the UI
    process gets a core the moment it needs one, even while inference fills them all;
    ``idle_priority`` goes further (SCHED_IDLE, also inherited by every thread)."""
    if stderr_path:
        _redirect_stderr(stderr_path)
    _lower_priority(niceness, idle_priority)
    send_lock = threading.Lock()

    def send(message: dict) -> None:
        with send_lock:
            connection.send(message)

    handlers = Handlers(lambda request_id, kind, data: send(
        {"id": request_id, "event": kind, "data": data}))

    def run(request: dict) -> None:
        _local.request_id = request["id"]
        try:
            method = getattr(handlers, request["op"], None)
            if method is None or request["op"].startswith("_"):
                raise ValueError(f"unknown engine request {request['op']!r}")
            result = method(**request.get("args", {}))
            send({"id": request["id"], "ok": True, "result": result})
        except Exception as error:  # reported to the client; the engine keeps serving
            send({"id": request["id"], "ok": False,
                  "error": f"{type(error).__name__}: {error}",
                  "traceback": traceback.format_exc()})

    # Not a ``with`` block: leaving one waits for every running job, and a swarm or a
    # generation must not hold up the exit once the registry is safe on disk.
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="engine-job")
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            handlers.cancel()
            handlers.flush()  # the client went away (the UI died): keep what was learned
            os._exit(0)
        if request.get("op") == "shutdown":
            handlers.cancel()  # agents stop at their next token
            flushed = handlers.flush()  # the registry's pending writes reach the disk
            send({"id": request["id"], "ok": True, "result": flushed})
            connection.close()
            os._exit(0)
        pool.submit(run, request)
