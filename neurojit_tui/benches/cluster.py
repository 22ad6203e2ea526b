"""``neurojit bench cluster``: evaluations/s on this machine's threads and on a cluster,
in one run, with the per-batch overhead, the choice of worker granularity, and a paper
estimate for bigger machines.

An evaluation is one candidate (parameter vector of heuristic.mlir's structure) flown
on a search's 128 training landers. Two block sizes: 16 candidates (a CMA-ES
generation of the search: what ``evolve`` sends per call) and 256 (a large
population). Arms: the parametric kernel on one local thread and on every local
thread; a cluster (by default a two-node loopback cluster started for the run, one CPU
per node; ``--cluster ADDRESS`` measures that one instead). The cluster's outcomes are
checked against the local ones. Granularity (local cluster only): one node with two
CPUs, one worker with two threads against two workers of one thread.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from ..cluster.actors import RESULT_FIELDS, WorkSpec
from ..cluster.scheduler import IN_FLIGHT_PER_WORKER, BatchCarver, RayCluster
from ..paths import controller_samples
from ..sim import model
from ..sim.native import NativeSwarm
from ..sim.swarm import default_threads

AGENTS = 128  # a search's training landers
BLOCKS = (16, 256)  # candidates per call: a CMA-ES generation, a large population
SEED = 0
ROUND_TRIPS = 40
MANY_TINY = 64  # candidates in a call of tiny batches
# The paper estimate's machines
BOX_CORES = 64
NODE_COUNTS = (1, 2, 4, 8, 16, 64)
LARGE_CALL = 4096  # candidates per call: populations x conditions x seeds in one call


def _heuristic() -> tuple[str, str]:
    path = next(p for p in controller_samples() if p.name == "heuristic.mlir")
    return str(path), path.read_text()


def _blocks(table, size: int, count: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(SEED)
    return [
        np.array(
            [
                table.constrain(table.initial * (1 + 0.1 * rng.standard_normal(len(table))))
                for _ in range(size)
            ]
        )
        for _ in range(count)
    ]


def _cpu_seconds() -> float:
    """CPU time of this process and all it started: on a cluster made here, every Ray
    process (GCS, raylets, workers) is one of them, so this is the whole cost of the
    work, whoever else shares the machine (the wall-clock rates are not)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for process in [me] + me.children(recursive=True):
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def _rate(fly, blocks: list[np.ndarray], seconds: float) -> dict:
    """``fly(block)`` called over and over for ``seconds``: evaluations per second of
    wall-clock time and per second of CPU time, and the number of calls."""
    fly(blocks[0])  # warm: kernels compiled, start states made
    done, calls, start, cpu = 0, 0, time.perf_counter(), _cpu_seconds()
    while time.perf_counter() - start < seconds or calls == 0:
        block = blocks[calls % len(blocks)]
        fly(block)
        done, calls = done + len(block), calls + 1
    return {
        "per_s": done / (time.perf_counter() - start),
        "per_cpu_s": done / max(_cpu_seconds() - cpu, 1e-9),
        "calls": calls,
    }


def _round_trips(cluster: RayCluster, spec: WorkSpec, theta: np.ndarray) -> dict:
    """Calls of landers that fly one step, one call at a time: with one candidate (one
    batch), the round trip a batch costs beyond its flying; with many, how the
    driver's CPU time (its process, Ray's threads in it included) grows per batch."""
    tiny = WorkSpec(spec.key, spec.text, spec.path, True, spec.env, spec.seed, max_steps=1)

    def calls(block: np.ndarray) -> dict:
        cluster.fly_population(tiny, block, 1)
        walls, busy, batches, cpu0 = [], [], _batches(cluster), time.process_time()
        for _ in range(ROUND_TRIPS):
            before, t0 = _busy(cluster), time.perf_counter()
            cluster.fly_population(tiny, block, 1)
            walls.append(time.perf_counter() - t0)
            busy.append(_busy(cluster) - before)
        overhead = sorted(w - b for w, b in zip(walls, busy))
        return {
            "wall": statistics.median(walls),
            "overhead": statistics.median(overhead),
            "overhead_p90": overhead[int(0.9 * (len(overhead) - 1))],
            "cpu": (time.process_time() - cpu0) / ROUND_TRIPS,
            "batches": (_batches(cluster) - batches) / ROUND_TRIPS,
        }

    one, many = calls(theta[:1]), calls(np.repeat(theta[:1], MANY_TINY, axis=0))
    per_batch = (many["cpu"] - one["cpu"]) / max(many["batches"] - one["batches"], 1e-9)
    return {
        "round_trip_ms": 1e3 * one["wall"],
        "overhead_ms": 1e3 * one["overhead"],
        "overhead_p90_ms": 1e3 * one["overhead_p90"],
        "driver_cpu_ms_per_call": 1e3 * max(0.0, one["cpu"] - per_batch),
        "driver_cpu_ms_per_batch": 1e3 * per_batch,
    }


def _busy(cluster: RayCluster) -> float:
    return sum(t.busy_seconds for t in cluster.nodes.values())


def _batches(cluster: RayCluster) -> int:
    return sum(t.batches for t in cluster.nodes.values())


def _worker_memory_mib(cluster: RayCluster) -> float | None:
    """Resident memory of the cluster's workers (they run on this machine)."""
    import psutil

    try:
        return sum(psutil.Process(w["pid"]).memory_info().rss for w in cluster.workers()) / 2**20
    except psutil.Error:
        return None


def _cluster_arm(
    address: str,
    granularity: str,
    spec: WorkSpec,
    blocks: dict,
    seconds: float,
    local_state: np.ndarray | None,
    local_machine: bool,
) -> dict:
    start = time.perf_counter()
    cluster = RayCluster(address, granularity)
    try:
        cluster.wait_for_workers()
        row = {
            "granularity": granularity,
            "workers": len(cluster.workers()),
            "threads": cluster.threads,
            "start_seconds": time.perf_counter() - start,
        }
        t0 = time.perf_counter()
        compiles = cluster.compile_everywhere(spec)
        row.update(compile_wall_seconds=time.perf_counter() - t0, compile_cpu_seconds=sum(compiles))
        if local_state is not None:
            run = cluster.fly_population(spec, blocks[BLOCKS[0]][0], AGENTS)
            row["same_as_local"] = bool(
                np.array_equal(np.stack([run.state[f] for f in RESULT_FIELDS]), local_state)
            )
        for size in BLOCKS:
            batches = _batches(cluster)
            rate = _rate(
                lambda block: cluster.fly_population(spec, block, AGENTS), blocks[size], seconds
            )
            row[f"evaluations_per_s_{size}"] = rate["per_s"]
            # CPU time is only all in view when the cluster runs under this process
            row[f"evaluations_per_cpu_s_{size}"] = rate["per_cpu_s"] if local_machine else None
            row[f"batches_per_call_{size}"] = (_batches(cluster) - batches) / (rate["calls"] + 1)
        row.update(_round_trips(cluster, spec, blocks[BLOCKS[0]][0][:1]))
        row["worker_memory_mib"] = _worker_memory_mib(cluster) if local_machine else None
        row["nodes"] = len(cluster.nodes)
        return row
    finally:
        cluster.close()


def _batches_per_call(candidates: int, nodes: int, threads: int) -> int:
    """How many batches ``BatchCarver`` cuts a call into for ``nodes`` workers of
    ``threads`` threads, each asking in turn (the driver's work per call)."""
    carver, total, count = BatchCarver(candidates, AGENTS), nodes * threads, 0
    while carver.next(threads, total) is not None:
        count += 1
    return count


def paper_estimate(local: dict, cluster: dict) -> dict:
    """Evaluations/s of a 64-core box, and of N such nodes on a cluster, from this
    run's numbers (docs/cluster.md states the model and its assumptions).

    Per core: r1 evaluations per CPU-second (one local thread), times e, the CPU
    efficiency of this machine's threads. A call of P candidates on N nodes of C
    cores flies in ceil(P / (N C)) waves of one evaluation per core, plus one round
    trip r (the other batches' round trips overlap with flying: two are in flight per
    worker). The driver spends c CPU-seconds per call and d per batch, and cuts the
    call into B(P, N) batches (the carver's own count), so a call takes at least
    c + B d. Evaluations/s: P / max(waves / (r1 e) + r, c + B d), one call at a time,
    as a search makes them."""
    r1 = local["single_thread"][f"evaluations_per_cpu_s_{BLOCKS[-1]}"]
    e = min(1.0, local["all_threads"][f"evaluations_per_cpu_s_{BLOCKS[-1]}"] / r1)
    r = cluster["round_trip_ms"] / 1e3
    c, d = cluster["driver_cpu_ms_per_call"] / 1e3, cluster["driver_cpu_ms_per_batch"] / 1e3
    rows = []
    for candidates in (BLOCKS[0], LARGE_CALL):
        for nodes in NODE_COUNTS:
            waves = -(-candidates // (nodes * BOX_CORES))
            batches = _batches_per_call(candidates, nodes, BOX_CORES)
            flying, driving = waves / (r1 * e) + r, c + batches * d
            rows.append(
                {
                    "candidates_per_call": candidates,
                    "nodes": nodes,
                    "cores": nodes * BOX_CORES,
                    "batches_per_call": batches,
                    "evaluations_per_s": candidates / max(flying, driving),
                    "limit": "driver"
                    if driving > flying
                    else ("cores" if candidates >= nodes * BOX_CORES else "call size"),
                }
            )
    return {
        "single_core_evaluations_per_s": r1,
        "thread_efficiency": e,
        "box_evaluations_per_s": BOX_CORES * r1 * e,
        "round_trip_ms": r * 1e3,
        "driver_cpu_ms_per_call": c * 1e3,
        "driver_cpu_ms_per_batch": d * 1e3,
        "rows": rows,
    }


def bench_cluster(address: str | None = None, seconds: float = 3.0, log=print) -> dict:
    """Local threads, then the cluster at ``address`` (None: a local two-node cluster,
    and the granularity comparison on a one-node two-CPU cluster)."""
    path, text = _heuristic()
    env = model.Environment()
    kernel = NativeSwarm(text, path, parametric=True)
    table = kernel.parameters
    spec = WorkSpec(table.structure_key(text), text, path, True, env, SEED)
    blocks = {size: _blocks(table, size) for size in BLOCKS}
    threads = default_threads()
    local = {}
    for count in (1, threads):
        log(f"local: {count} thread(s)")
        local[count] = {}
        for size in BLOCKS:
            rate = _rate(
                lambda block, count=count: kernel.run_population(
                    env, block, AGENTS, SEED, threads=count
                ),
                blocks[size],
                seconds,
            )
            local[count] |= {
                f"evaluations_per_s_{size}": rate["per_s"],
                f"evaluations_per_cpu_s_{size}": rate["per_cpu_s"],
            }
    reference = kernel.run_population(env, blocks[BLOCKS[0]][0], AGENTS, SEED, threads=threads)
    local_state = np.stack([reference.state[f] for f in RESULT_FIELDS])
    result = {
        "structure": "heuristic.mlir",
        "agents": AGENTS,
        "blocks": list(BLOCKS),
        "load_average_at_start": os.getloadavg()[0],
        "seconds_per_arm": seconds,
        "in_flight_per_worker": IN_FLIGHT_PER_WORKER,
        "local": {"threads": threads, "single_thread": local[1], "all_threads": local[threads]},
    }
    if address is not None:
        log(f"cluster at {address}")
        result["cluster"] = _cluster_arm(
            address, "node", spec, blocks, seconds, local_state, local_machine=False
        )
    else:
        from ..cluster.local import LocalCluster

        log("a two-node cluster on this machine (one CPU per node)")
        with LocalCluster((1, 1)) as cluster:
            result["cluster"] = _cluster_arm(
                cluster.address, "node", spec, blocks, seconds, local_state, local_machine=True
            )
            result["cluster"]["address"] = "local two-node cluster"
        log(f"granularity: one node with {threads} CPUs, per node vs per CPU")
        with LocalCluster((threads,)) as cluster:
            result["granularity"] = [
                _cluster_arm(
                    cluster.address, granularity, spec, blocks, seconds, None, local_machine=True
                )
                for granularity in ("node", "cpu")
            ]
    result["load_average_at_end"] = os.getloadavg()[0]
    result["estimate"] = paper_estimate(result["local"], result["cluster"])
    return result


def _number(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_cluster_table(result: dict) -> str:
    small, large = result["blocks"]
    lines = [
        f"{result['structure']}, {result['agents']} landers per evaluation; evaluations/s "
        f"with {small} and {large} candidates per call (load average "
        f"{result['load_average_at_start']:.1f} at the start, "
        f"{result['load_average_at_end']:.1f} at the end)",
        "",
        f"| arm | workers | threads | {small} per call | {large} per call | {large} per call, "
        f"per CPU-second | batches per call |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    local = result["local"]
    for label, row, threads in (
        ("local, 1 thread", local["single_thread"], 1),
        (f"local, {local['threads']} threads", local["all_threads"], local["threads"]),
    ):
        lines.append(
            f"| {label} | - | {threads} | {row[f'evaluations_per_s_{small}']:.0f} | "
            f"{row[f'evaluations_per_s_{large}']:.0f} | "
            f"{row[f'evaluations_per_cpu_s_{large}']:.0f} | - |"
        )
    arms = [(f"cluster ({result['cluster'].get('address', '')}), per node", result["cluster"])]
    arms += [
        (f"one node of {local['threads']} CPUs, per {g['granularity']}", g)
        for g in result.get("granularity", [])
    ]
    for label, row in arms:
        lines.append(
            f"| {label} | {row['workers']} | {row['threads']} | "
            f"{row[f'evaluations_per_s_{small}']:.0f} | "
            f"{row[f'evaluations_per_s_{large}']:.0f} | {_number(row[f'evaluations_per_cpu_s_{large}'])} | "
            f"{row[f'batches_per_call_{small}']:.1f} / {row[f'batches_per_call_{large}']:.1f} |"
        )
    c = result["cluster"]
    lines += [
        "",
        f"same outcomes as local: {c.get('same_as_local')}",
        f"per batch: round trip {c['round_trip_ms']:.2f} ms, overhead {c['overhead_ms']:.2f} ms "
        f"(p90 {c['overhead_p90_ms']:.2f} ms); the driver's CPU: {c['driver_cpu_ms_per_call']:.2f} ms "
        f"per call + {c['driver_cpu_ms_per_batch']:.2f} ms per batch",
    ]
    for g in result.get("granularity", []):
        memory = g["worker_memory_mib"]
        lines.append(
            f"per {g['granularity']}: {g['workers']} worker(s) up in {g['start_seconds']:.1f} s; "
            f"a structure compiles in {g['compile_wall_seconds']:.2f} s "
            f"({g['compile_cpu_seconds']:.2f} s of CPU); round trip "
            f"{g['round_trip_ms']:.2f} ms; workers' memory "
            + ("?" if memory is None else f"{memory:.0f} MiB")
        )
    e = result["estimate"]
    lines += [
        "",
        f"paper estimate: one core {e['single_core_evaluations_per_s']:.0f} evaluations per "
        f"CPU-second, thread efficiency {e['thread_efficiency']:.2f}, a {BOX_CORES}-core box "
        f"{e['box_evaluations_per_s']:.0f}/s; round trip {e['round_trip_ms']:.2f} ms, driver "
        f"{e['driver_cpu_ms_per_call']:.2f} ms per call + {e['driver_cpu_ms_per_batch']:.2f} "
        f"ms per batch",
        "",
        f"| candidates per call | nodes of {BOX_CORES} cores | batches per call | evaluations/s | limit |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for row in e["rows"]:
        lines.append(
            f"| {row['candidates_per_call']} | {row['nodes']} | {row['batches_per_call']} | "
            f"{row['evaluations_per_s']:.0f} | {row['limit']} |"
        )
    return "\n".join(lines)
