"""What a cluster worker does: compile a controller once, keep it, fly batches with it.

``KernelWorker`` is a plain class: the scheduler makes it a Ray actor
(``ray.remote(KernelWorker)``) and the tests also run it in-process. It receives a
``WorkSpec`` (the verified TensorLang *text* and the conditions: never a function
pointer, which means nothing in another process), compiles it with the project's
``Compiler`` into a swarm kernel, and keeps the kernel under the spec's key: a
structure key for a parametric kernel (every candidate of that shape reuses it), the
text's hash for an ordinary one.

A batch is a rectangle of the (candidates x agents) grid: rows [c0, c1) of the
parameter block and agents [a0, a1) of the seed. Agent i's weather is a pure function
of (seed, i), so the batch's landers fly exactly as the same landers of a run on one
machine; the worker returns their final outcome, score and steps.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..compiler import CompileError, Compiler
from ..sim import model
from ..sim.native import NativeSwarm, SwarmTimeout

# The fields a batch sends back per lander: what the swarm statistics are made of.
RESULT_FIELDS = ("outcome", "score", "steps")
KERNELS_KEPT = 64  # per worker; a search meets a few dozen structures


@dataclass(frozen=True)
class WorkSpec:
    """What a worker needs to build a kernel and fly it: text, never code."""

    key: str
    text: str
    path: str
    parametric: bool
    env: model.Environment
    seed: int
    max_steps: int = model.MAX_STEPS

    @staticmethod
    def for_swarm(
        text: str, path: str, env: model.Environment, seed: int, max_steps: int = model.MAX_STEPS
    ) -> WorkSpec:
        """An ordinary (non-parametric) kernel: the program's numbers are compiled in,
        as on one machine; its key is the text's hash."""
        key = "text-" + hashlib.sha256(text.encode()).hexdigest()[:16]
        return WorkSpec(key, text, path, False, env, seed, max_steps)


@dataclass(frozen=True)
class Batch:
    """Rows [c0, c1) of a parameter block (one row for a swarm) x agents [a0, a1)."""

    rows: tuple[int, int]
    agents: tuple[int, int]

    @property
    def size(self) -> int:
        return (self.rows[1] - self.rows[0]) * (self.agents[1] - self.agents[0])


class KernelWorker:
    """Kernels by key, and batches flown with ``threads`` threads."""

    def __init__(self, threads: int = 1):
        self.threads = max(1, int(threads))
        self._compiler: Compiler | None = None
        self._kernels: OrderedDict[str, NativeSwarm] = OrderedDict()
        self._identity: dict | None = None

    def identity(self) -> dict:
        """Where this worker runs: node id and address, process, threads."""
        if self._identity is None:
            self._identity = self._find_identity()
        return self._identity

    def _find_identity(self) -> dict:
        node, address = socket.gethostname(), "127.0.0.1"
        ray = sys.modules.get("ray")  # in a Ray worker; importing it here would set Ray up
        if ray is not None and ray.is_initialized():
            node = ray.get_runtime_context().get_node_id()
            address = ray.util.get_node_ip_address()
        return {"node": node, "address": address, "pid": os.getpid(), "threads": self.threads}

    def _kernel(self, spec: WorkSpec) -> tuple[NativeSwarm, float]:
        """The spec's kernel and the seconds it took to compile now (0.0 if kept)."""
        kernel = self._kernels.get(spec.key)
        if kernel is not None:
            self._kernels.move_to_end(spec.key)
            return kernel, 0.0
        t0 = time.perf_counter()
        self._compiler = self._compiler or Compiler()
        kernel = NativeSwarm(spec.text, spec.path, self._compiler, parametric=spec.parametric)
        self._kernels[spec.key] = kernel
        if len(self._kernels) > KERNELS_KEPT:
            self._kernels.popitem(last=False)
        return kernel, time.perf_counter() - t0

    def compile(self, spec: WorkSpec) -> dict:
        """Build (or find) the spec's kernel: {"seconds", "diagnostics"}; diagnostics
        (as JSON) only if it does not compile, which the driver raises as CompileError."""
        try:
            _, seconds = self._kernel(spec)
        except CompileError as error:
            return {"seconds": 0.0, "diagnostics": [d.to_json() for d in error.diagnostics]}
        return {"seconds": seconds, "diagnostics": None}

    def fly(self, spec: WorkSpec, thetas, batch: Batch, timeout_s: float | None) -> dict:
        """Fly one batch. Returns {"state": (fields x rows x agents) array, "failures":
        {row: AssertViolation}, "timeout": message or None, "seconds", "compile_seconds",
        "identity"}; row numbers are the parameter block's."""
        kernel, compile_seconds = self._kernel(spec)
        (c0, c1), (a0, a1) = batch.rows, batch.agents
        t0 = time.perf_counter()
        state, failures, timeout = None, {}, None
        try:
            if spec.parametric:
                run = kernel.run_population(
                    spec.env,
                    np.asarray(thetas)[c0:c1],
                    a1 - a0,
                    spec.seed,
                    spec.max_steps,
                    self.threads,
                    timeout_s,
                    first_agent=a0,
                )
                state = np.stack([run.state[f] for f in RESULT_FIELDS])
                failures = {c0 + c: violation for c, violation in run.assert_failures.items()}
            else:
                run = kernel.run(
                    spec.env,
                    a1 - a0,
                    spec.seed,
                    spec.max_steps,
                    self.threads,
                    timeout_s,
                    first_agent=a0,
                )
                state = np.stack([run.state[f] for f in RESULT_FIELDS])[:, None, :]
                if run.assert_failure is not None:
                    failures = {c0: run.assert_failure}
        except SwarmTimeout as error:
            timeout = str(error)
        return {
            "state": state,
            "failures": failures,
            "timeout": timeout,
            "seconds": time.perf_counter() - t0,
            "compile_seconds": compile_seconds,
            "identity": self.identity(),
        }
