"""Driving a Ray cluster: long-lived workers, batches as they ask, faults survived.

``RayCluster`` connects to a running cluster and starts ``KernelWorker`` actors: one
per node, with as many threads as the node has CPUs (the default), or one per CPU
(``granularity="cpu"``); ``neurojit bench cluster`` measures both, docs/cluster.md says why
per node. A run of a controller (a population of parameter vectors, or one program's
swarm) is a grid of (candidates x agents); ``BatchCarver`` cuts it into batches as
workers become free, and the driver keeps at most ``IN_FLIGHT_PER_WORKER`` batches
per worker outstanding, collecting them with ``ray.wait``. The spec (the TensorLang
text) and the parameter block go to the object store once (``ray.put``); a batch names
its rectangle of the grid.

Faults. A batch whose worker died (a killed process, a lost node, an object lost with
it) goes back to the carver and flies on another worker; the dead worker is probed
(Ray restarts a killed actor in place) and used again only once it answers, or given
up after ``PROBE_ATTEMPTS`` failed probes (its node is gone). A batch
that fails on ``MAX_ATTEMPTS`` workers, or a run with no worker left, raises
``ClusterError``: the caller stops without a result, so nothing partial is kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass, field

import numpy as np

from ..sim.native import CHUNK, PopulationRun, SwarmTimeout
from ..sim.reference import RunResult
from .actors import RESULT_FIELDS, Batch, KernelWorker, WorkSpec
from .config import ClusterError, concrete_address, probe
from .connection import connect

GRANULARITIES = ("node", "cpu")
# One batch flying on the worker and the next one already there: the worker never
# waits for a round trip to the driver between batches.
IN_FLIGHT_PER_WORKER = 2
MAX_ATTEMPTS = 3  # a batch that kills this many workers is a fault of the batch
ACTOR_RESTARTS = 3  # Ray restarts a killed worker in place this often
# A call to a worker that has just died fails until Ray knows it is restarting it: a
# worker is given up after this many failed probes, a second apart.
PROBE_ATTEMPTS = 5
PROBE_AGAIN_S = 1.0
START_TIMEOUT_S = 120.0  # for the first worker; also: no live worker this long is an error
WAIT_TICK_S = 0.5
REFRESH_EVERY_S = 5.0  # how often the node list is read for joined or lost nodes
SPECS_KEPT = 64


class BatchCarver:
    """Cuts a (rows x agents) grid into batches as workers ask for work.

    A unit is one row x one ``CHUNK`` of agents, the piece one kernel thread takes. A
    worker with T of the cluster's ``total`` threads gets T/total of half of what is
    left, and at least T units (guided self-scheduling: large batches while much is
    left, small ones to even out the end). A batch is whole rows with all their agents,
    or a run of agent chunks inside one row. Batches handed back by ``retry`` go out
    first."""

    def __init__(self, rows: int, agents: int, chunk: int = CHUNK):
        self.rows, self.agents, self.chunk = rows, agents, chunk
        self.per_row = max(1, -(-agents // chunk))
        self._next = 0  # the next unit, row-major
        self._retry: deque[Batch] = deque()

    @property
    def left(self) -> int:
        return self.rows * self.per_row - self._next

    def done(self) -> bool:
        return self.left == 0 and not self._retry

    def retry(self, batch: Batch) -> None:
        self._retry.append(batch)

    def next(self, threads: int, total_threads: int) -> Batch | None:
        if self._retry:
            return self._retry.popleft()
        if self.left == 0:
            return None
        share = -(-self.left * threads // (2 * max(total_threads, threads)))
        want = max(threads, share)
        row, part = divmod(self._next, self.per_row)
        if part or want < self.per_row:
            take = min(want, self.per_row - part)
            batch = Batch(
                (row, row + 1), (part * self.chunk, min(self.agents, (part + take) * self.chunk))
            )
            self._next += take
        else:
            take_rows = min(want // self.per_row, self.rows - row)
            batch = Batch((row, row + take_rows), (0, self.agents))
            self._next += take_rows * self.per_row
        return batch


@dataclass
class _Worker:
    actor: object
    threads: int
    node: str | None  # where it was placed (per node), or learnt from its identity
    identity: dict | None = None
    probe: object | None = None  # identity() in flight: starting, or after a fault
    probe_again_at: float | None = None  # after a failed probe: Ray may be restarting it
    failed_probes: int = 0
    in_flight: int = 0
    dead: bool = False

    @property
    def ready(self) -> bool:
        return not self.dead and self.probe is None and self.probe_again_at is None

    @property
    def coming(self) -> bool:
        """Starting, or being probed after a fault: it may answer yet."""
        return not self.dead and not self.ready


@dataclass
class NodeTally:
    """What one node did for this driver."""

    node: str
    address: str
    evaluations: float = 0.0  # candidate evaluations: a batch counts its share of the agents
    landers: int = 0
    batches: int = 0
    retried: int = 0  # batches lost with a worker there and flown again elsewhere
    busy_seconds: float = 0.0
    compile_seconds: float = 0.0


@dataclass
class _Flight:
    """One run being collected: its arrays and what went wrong."""

    state: np.ndarray
    failures: dict = field(default_factory=dict)
    timeout: str | None = None
    attempts: dict = field(default_factory=dict)  # Batch -> lost so far
    first_failing_agent: dict = field(default_factory=dict)  # row -> a0 of its failure's batch


def _lost_errors(ray) -> tuple:
    """Errors that mean the batch's worker, node or result object is gone (not a bug
    in the batch): the batch flies again elsewhere."""
    e = ray.exceptions
    return (
        e.RayActorError,
        e.WorkerCrashedError,
        e.NodeDiedError,
        e.ObjectLostError,
        e.LocalRayletDiedError,
        e.ActorUnschedulableError,
        e.OutOfMemoryError,
    )


class RayCluster:
    """A driver's workers on one Ray cluster. ``on_batch(result)`` (optional) hears
    every batch that comes back (the fault tests pull a node out from there)."""

    def __init__(self, address: str, granularity: str = "node"):
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity is one of {GRANULARITIES}, not {granularity!r}")
        self.address = concrete_address(address)
        probe(self.address)
        self._ray = connect(self.address)
        self.granularity = granularity
        self.on_batch = None
        self.retried = 0
        self.restarted = 0
        self.lost = 0
        self.nodes: dict[str, NodeTally] = {}
        self._workers: list[_Worker] = []
        self._specs: OrderedDict[WorkSpec, object] = OrderedDict()
        self._remote = self._ray.remote(KernelWorker)
        self._refreshed = 0.0
        self._refresh()
        self._wait_for_workers(START_TIMEOUT_S)

    # -- workers ------------------------------------------------------------------------

    def _alive_nodes(self) -> list[dict]:
        return [n for n in self._ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) >= 1]

    def _start_worker(self, threads: int, node: str | None) -> None:
        if node is None:
            strategy = "SPREAD"
        else:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            strategy = NodeAffinitySchedulingStrategy(node, soft=False)
        actor = self._remote.options(
            num_cpus=threads,
            max_restarts=ACTOR_RESTARTS,
            max_task_retries=0,
            scheduling_strategy=strategy,
        ).remote(threads)
        self._workers.append(_Worker(actor, threads, node, probe=actor.identity.remote()))

    def _refresh(self) -> None:
        """Workers for nodes that joined (per node), or for CPUs no worker holds."""
        self._refreshed = time.perf_counter()
        nodes = self._alive_nodes()
        live = [w for w in self._workers if not w.dead]
        if self.granularity == "node":
            held = {w.node for w in live}
            for node in nodes:
                if node["NodeID"] not in held:
                    self._start_worker(int(node["Resources"]["CPU"]), node["NodeID"])
        else:
            for _ in range(int(sum(n["Resources"]["CPU"] for n in nodes)) - len(live)):
                self._start_worker(1, None)

    def _probe(self, worker: _Worker) -> None:
        worker.probe, worker.probe_again_at = worker.actor.identity.remote(), None

    def _probes(self) -> dict:
        """The probes in flight, by reference (sending those due again first)."""
        now = time.perf_counter()
        for worker in self._workers:
            if worker.probe_again_at is not None and now >= worker.probe_again_at:
                self._probe(worker)
        return {w.probe: w for w in self._workers if w.probe is not None}

    def _probe_answered(self, worker: _Worker) -> None:
        ray = self._ray
        try:
            identity = ray.get(worker.probe)
        except _lost_errors(ray):
            worker.failed_probes += 1
            if worker.failed_probes >= PROBE_ATTEMPTS:
                worker.dead = True
                self.lost += 1
            else:
                worker.probe_again_at = time.perf_counter() + PROBE_AGAIN_S
        else:
            if worker.identity is not None and identity["pid"] != worker.identity["pid"]:
                self.restarted += 1
            worker.identity, worker.failed_probes = identity, 0
            worker.node = worker.node or identity["node"]
        worker.probe = None

    def _answer_probes(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for probes, and take in those that answered."""
        probes = self._probes()
        if not probes:
            time.sleep(min(timeout_s, WAIT_TICK_S / 5))
            return
        ready, _ = self._ray.wait(list(probes), num_returns=1, timeout=timeout_s)
        for ref in ready:
            self._probe_answered(probes[ref])

    def wait_for_workers(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Until every worker started or probed so far answers or is given up, for at
        most ``timeout_s`` (a benchmark measures the whole cluster, not the first
        worker up)."""
        deadline = time.perf_counter() + timeout_s
        while any(w.coming for w in self._workers) and time.perf_counter() < deadline:
            self._answer_probes(WAIT_TICK_S)

    def _wait_for_workers(self, timeout_s: float) -> None:
        """Until a worker answers (ClusterError after ``timeout_s``)."""
        deadline = time.perf_counter() + timeout_s
        while not any(w.ready for w in self._workers):
            coming = sum(w.coming for w in self._workers)
            left = deadline - time.perf_counter()
            if not coming or left <= 0:
                raise ClusterError(
                    f"no worker is alive on the Ray cluster at {self.address} ("
                    + (
                        f"{coming} not started within {timeout_s:g} s: are its CPUs taken "
                        f"by other jobs?"
                        if coming
                        else f"{self.lost} lost"
                    )
                    + ")"
                )
            self._answer_probes(min(left, WAIT_TICK_S))

    @property
    def threads(self) -> int:
        return sum(w.threads for w in self._workers if w.ready)

    def workers(self) -> list[dict]:
        """The identities of the workers that answer now."""
        return [dict(w.identity) for w in self._workers if w.ready]

    def close(self) -> None:
        """Stop this driver's workers (the connection stays, for the next run)."""
        for worker in self._workers:
            if not worker.dead:
                try:
                    self._ray.kill(worker.actor, no_restart=True)
                except Exception:  # already gone with its node
                    pass
        self._workers.clear()

    # -- work ---------------------------------------------------------------------------

    def _spec_ref(self, spec: WorkSpec):
        """The spec in the object store, put there once. Keyed by the whole spec: one
        structure flies on several seeds (training, selection landers)."""
        ref = self._specs.get(spec)
        if ref is None:
            ref = self._specs[spec] = self._ray.put(spec)
            if len(self._specs) > SPECS_KEPT:
                self._specs.popitem(last=False)
        self._specs.move_to_end(spec)
        return ref

    def _compile_answers(self, spec: WorkSpec):
        """Every live worker builds the spec's kernel, in parallel; their answers
        ({"seconds", "diagnostics"}) as they come."""
        ray = self._ray
        spec_ref = self._spec_ref(spec)
        pending = [w.actor.compile.remote(spec_ref) for w in self._workers if not w.dead]
        deadline = time.perf_counter() + START_TIMEOUT_S
        while pending and time.perf_counter() < deadline:
            ready, pending = ray.wait(pending, num_returns=1, timeout=WAIT_TICK_S)
            for ref in ready:
                try:
                    yield ray.get(ref)
                except _lost_errors(ray):
                    continue

    def compile(self, spec: WorkSpec) -> float:
        """The first worker's answer says whether the spec compiles: its seconds, or
        CompileError with the worker's diagnostics; the others go on building it in the
        background, ready for their first batch."""
        from ..compiler import CompileError
        from ..compiler.diagnostics import Diagnostic

        for answer in self._compile_answers(spec):
            if answer["diagnostics"] is not None:
                raise CompileError([Diagnostic.from_json(d) for d in answer["diagnostics"]])
            return answer["seconds"]
        raise ClusterError(f"every worker of the Ray cluster at {self.address} was lost")

    def compile_everywhere(self, spec: WorkSpec) -> list[float]:
        """Every worker's seconds to build the spec's kernel (what a granularity costs)."""
        return [answer["seconds"] for answer in self._compile_answers(spec)]

    def fly_population(
        self, spec: WorkSpec, thetas, agents: int, timeout_s: float | None = None
    ) -> PopulationRun:
        """``NativeSwarm.run_population`` on the cluster: the same final outcomes,
        scores and steps for every (candidate, agent), and the same assert failures."""
        thetas = np.ascontiguousarray(np.atleast_2d(thetas), dtype=np.float64)
        start = time.perf_counter()
        flight = self._fly(spec, thetas, len(thetas), agents, timeout_s)
        state = {f: flight.state[i] for i, f in enumerate(RESULT_FIELDS)}
        return PopulationRun(state, flight.failures, time.perf_counter() - start)

    def fly_swarm(self, spec: WorkSpec, agents: int, timeout_s: float | None = None) -> RunResult:
        """``NativeSwarm.run`` on the cluster (the final outcome, score and steps)."""
        start = time.perf_counter()
        flight = self._fly(spec, None, 1, agents, timeout_s)
        result = RunResult({f: flight.state[i, 0] for i, f in enumerate(RESULT_FIELDS)})
        result.assert_failure = flight.failures.get(0)
        result.seconds = time.perf_counter() - start
        return result

    def _fly(
        self, spec: WorkSpec, thetas, rows: int, agents: int, timeout_s: float | None
    ) -> _Flight:
        ray = self._ray
        lost = _lost_errors(ray)
        deadline = None if timeout_s is None else time.perf_counter() + timeout_s
        spec_ref = self._spec_ref(spec)
        thetas_ref = None if thetas is None else ray.put(thetas)
        carver = BatchCarver(rows, agents)
        flight = _Flight(np.empty((len(RESULT_FIELDS), rows, agents)))
        in_flight: dict = {}  # ObjectRef -> (Batch, _Worker)
        idle_since = time.perf_counter()
        while in_flight or not (carver.done() or flight.timeout):
            if time.perf_counter() - self._refreshed > REFRESH_EVERY_S:
                self._refresh()
            if not flight.timeout:
                self._dispatch(carver, in_flight, spec_ref, thetas_ref, deadline, timeout_s, flight)
            probes = self._probes()
            if not in_flight and not probes:
                if carver.done() or flight.timeout:
                    break
                self._refresh()
                if not any(w.ready or w.coming for w in self._workers):
                    raise ClusterError(
                        f"every worker of the Ray cluster at {self.address} "
                        f"was lost ({self.lost} lost)"
                    )
                if not any(w.ready for w in self._workers):
                    time.sleep(WAIT_TICK_S / 5)  # a probe is due again soon
                continue
            ready, _ = ray.wait(list(in_flight) + list(probes), num_returns=1, timeout=WAIT_TICK_S)
            if in_flight or any(w.ready for w in self._workers):
                idle_since = time.perf_counter()
            elif time.perf_counter() - idle_since > START_TIMEOUT_S:
                raise ClusterError(
                    f"no worker of the Ray cluster at {self.address} came back "
                    f"within {START_TIMEOUT_S:g} s ({self.lost} lost)"
                )
            for ref in ready:
                if ref in probes:
                    self._probe_answered(probes[ref])
                    continue
                batch, worker = in_flight.pop(ref)
                worker.in_flight -= 1
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayTaskError as error:
                    raise error.as_instanceof_cause() from None
                except lost as error:
                    self._batch_lost(batch, worker, carver, flight, error)
                    continue
                self._collect(batch, result, flight, agents)
        if flight.timeout:
            raise SwarmTimeout(flight.timeout)
        return flight

    def _dispatch(self, carver, in_flight, spec_ref, thetas_ref, deadline, timeout_s, flight):
        ready = [w for w in self._workers if w.ready]
        total = sum(w.threads for w in ready)
        for worker in ready:
            while worker.in_flight < IN_FLIGHT_PER_WORKER:
                left = None if deadline is None else deadline - time.perf_counter()
                if left is not None and left <= 0:
                    flight.timeout = (
                        f"timed out: the run took longer than {timeout_s:g} s "
                        f"on the cluster at {self.address}"
                    )
                    return
                batch = carver.next(worker.threads, total)
                if batch is None:
                    return
                ref = worker.actor.fly.remote(spec_ref, thetas_ref, batch, left)
                in_flight[ref] = (batch, worker)
                worker.in_flight += 1

    def _batch_lost(self, batch, worker, carver, flight, error) -> None:
        tries = flight.attempts[batch] = flight.attempts.get(batch, 0) + 1
        if tries >= MAX_ATTEMPTS:
            raise ClusterError(
                f"a batch (rows {batch.rows}, agents {batch.agents}) was lost "
                f"with {tries} workers of the Ray cluster at {self.address}: "
                f"{type(error).__name__}"
            )
        if worker.ready:
            self._probe(worker)  # used again once it answers: Ray restarts a killed worker
        self.retried += 1
        if worker.identity is not None:
            self._tally(worker.identity).retried += 1
        carver.retry(batch)

    def _tally(self, identity: dict) -> NodeTally:
        node = identity["node"]
        if node not in self.nodes:
            self.nodes[node] = NodeTally(node, identity["address"])
        return self.nodes[node]

    def _collect(self, batch: Batch, result: dict, flight: _Flight, agents: int) -> None:
        if result["timeout"]:
            flight.timeout = result["timeout"]
        else:
            (c0, c1), (a0, a1) = batch.rows, batch.agents
            flight.state[:, c0:c1, a0:a1] = result["state"]
            # a candidate's failure is the one of its first agents that failed, wherever
            # its batches flew
            for row, violation in result["failures"].items():
                if row not in flight.failures or a0 < flight.first_failing_agent[row]:
                    flight.failures[row] = violation
                    flight.first_failing_agent[row] = a0
        tally = self._tally(result["identity"])
        tally.batches += 1
        tally.landers += batch.size
        tally.evaluations += batch.size / agents
        tally.busy_seconds += result["seconds"]
        tally.compile_seconds += result["compile_seconds"]
        if self.on_batch is not None:
            self.on_batch(result)

    def report(self) -> dict:
        """Per node: evaluations, landers, batches, retried batches, busy seconds."""
        return {
            "address": self.address,
            "granularity": self.granularity,
            "workers": sum(w.ready for w in self._workers),
            "threads": self.threads,
            "retried_batches": self.retried,
            "restarted_workers": self.restarted,
            "lost_workers": self.lost,
            "nodes": [
                asdict(t) for t in sorted(self.nodes.values(), key=lambda t: (t.address, t.node))
            ],
        }
