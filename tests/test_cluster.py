"""Scaling out on Ray: the same answers as one machine, faults survived, Ray only on request.

A two-node Ray cluster on the loopback interface (``cluster.local.LocalCluster``, one
CPU and a small object store per node) is started once for the session, and only when
a test needs it; the test process is its driver.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from neurojit_tui.cluster import ClusterError, resolve_address
from neurojit_tui.cluster.actors import Batch, KernelWorker, WorkSpec
from neurojit_tui.cluster.scheduler import BatchCarver
from neurojit_tui.compiler import CompileError, Compiler
from neurojit_tui.evolve import evolve
from neurojit_tui.evolve.evaluation import ClusterEvaluator, PopulationEvaluator
from neurojit_tui.sim import model
from neurojit_tui.sim.native import NativeSwarm
from neurojit_tui.sim.swarm import evaluate

from .conftest import SAMPLES
from .test_evolve import small_options

HARSH = model.Environment(gravity=3.0, turbulence=0.8)
ASSERTING = """func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %y = "tensorlang.extract"(%obs) {index = array<i64: 1>} : (tensor<8xf64>) -> f64
  %limit = arith.constant 0.5 : f64
  %high = arith.cmpf ogt, %y, %limit : f64
  "tensorlang.assert"(%high) {message = "lander must stay high"} : (i1) -> ()
  %a = "tensorlang.constant"() {value = dense<[0.2, 0.0]> : tensor<2xf64>} : () -> tensor<2xf64>
  return %a, %mem : tensor<2xf64>, tensor<4xf64>
}
"""
# what differs between two runs of the same swarm: the clock, and where it ran
TIMING = {"seconds", "agent_steps_per_s", "compile_seconds", "threads"}


def sample(name):
    return (SAMPLES / f"{name}.mlir").read_text()


def thetas(table, count, seed=0):
    rng = np.random.default_rng(seed)
    return np.array(
        [
            table.constrain(table.initial * (1 + 0.2 * rng.standard_normal(len(table))))
            for _ in range(count)
        ]
    )


def cli(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "neurojit_tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="session")
def ray_cluster():
    from neurojit_tui.cluster.local import LocalCluster

    cluster = LocalCluster((1, 1))
    yield cluster
    cluster.shutdown()


@pytest.fixture
def pool(ray_cluster):
    """This test's workers on the session's cluster, one per node; stopped after it, so
    the CPUs are free for the next driver."""
    from neurojit_tui.cluster.scheduler import RayCluster

    cluster = RayCluster(ray_cluster.address)
    cluster.wait_for_workers()
    yield cluster
    cluster.close()


# -- without a cluster ------------------------------------------------------------------------


def test_without_a_cluster_ray_is_never_imported(tmp_path):
    """swarm and evolve (and the evolve and cluster packages) run without importing Ray."""
    probe = (
        "import sys\n"
        "from neurojit_tui.cli import main\n"
        f"assert main(['swarm', {str(SAMPLES / 'pd.mlir')!r}, '--agents', '20', '--json']) == 0\n"
        f"assert main(['evolve', {str(SAMPLES / 'pd.mlir')!r}, '--generations', '1', '--population',"
        " '1', '--islands', '1', '--no-llm', '--no-cache', '--json']) == 0\n"
        "import neurojit_tui.cluster, neurojit_tui.evolve.search\n"
        "print('ray imported:', sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NEUROJIT_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ray imported: []" in result.stdout


def test_the_cluster_comes_from_the_flag_then_the_config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROJIT_HOME", str(tmp_path))
    assert resolve_address(None) is None
    (tmp_path / "config.toml").write_text('[cluster]\naddress = "10.0.0.5:6379"\n')
    assert resolve_address(None) == "10.0.0.5:6379"
    assert resolve_address("auto") == "auto"
    assert resolve_address("none") is None  # the flag turns a configured cluster off
    (tmp_path / "config.toml").write_text("[cluster]\naddress = 6379\n")
    with pytest.raises(ClusterError, match="must be a string"):
        resolve_address(None)


@pytest.mark.parametrize(
    "rows, agents, threads",
    [(16, 128, [1, 1]), (1, 5000, [1, 1]), (3, 3000, [4, 1, 2]), (256, 128, [64, 64]), (1, 1, [8])],
)
def test_batches_cover_the_grid_exactly_once(rows, agents, threads):
    carver = BatchCarver(rows, agents)
    covered = np.zeros((rows, agents), dtype=int)
    sizes = []
    turn = 0
    while not carver.done():
        worker = threads[turn % len(threads)]
        batch = carver.next(worker, sum(threads))
        (c0, c1), (a0, a1) = batch.rows, batch.agents
        assert c1 - c0 == 1 or (a0, a1) == (0, agents)  # whole rows, or a run inside one row
        if turn == 1:  # a lost batch comes back first
            carver.retry(batch)
            assert carver.next(worker, sum(threads)) == batch
        covered[c0:c1, a0:a1] += 1
        sizes.append(batch.size)
        turn += 1
    assert (covered == 1).all()
    assert sizes[0] >= sizes[-1]  # guided: large batches first, small ones at the end


def test_a_worker_flies_any_slice_exactly_like_one_machine():
    """KernelWorker (the actor's code, run here in-process) on rectangles of the grid:
    every lander ends exactly as in the local run of the whole grid."""
    text = sample("heuristic")
    worker, compiler = KernelWorker(threads=2), Compiler()
    table = compiler.parameters(text, "h.mlir")
    spec = WorkSpec(table.structure_key(text), text, "h.mlir", True, HARSH, seed=7)
    block = thetas(table, 5)
    local = NativeSwarm(text, "h.mlir", parametric=True).run_population(HARSH, block, 300, 7)
    assert np.array_equal(
        NativeSwarm(text, "h.mlir", parametric=True).parameters.initial, table.initial
    )  # the driver's parameters are the kernel's
    for batch in (Batch((1, 4), (0, 300)), Batch((2, 3), (64, 200)), Batch((4, 5), (299, 300))):
        answer = worker.fly(spec, block, batch, None)
        (c0, c1), (a0, a1) = batch.rows, batch.agents
        for index, field in enumerate(("outcome", "score", "steps")):
            assert np.array_equal(answer["state"][index], local.state[field][c0:c1, a0:a1])
    swarm = WorkSpec.for_swarm(text, "h.mlir", HARSH, seed=7)
    whole = NativeSwarm(text, "h.mlir").run(HARSH, 3000, 7, threads=2)
    answer = worker.fly(swarm, None, Batch((0, 1), (1024, 2500)), None)
    assert np.array_equal(answer["state"][1, 0], whole.state["score"][1024:2500])
    broken = WorkSpec.for_swarm(
        sample("pd").replace("tensorlang.matvec", "tensorlang.matvek"), "b.mlir", HARSH, 7
    )
    assert worker.compile(broken)["diagnostics"][0]["line"] == 11


def test_an_unreachable_cluster_is_one_line_naming_the_address(tmp_path):
    for command in (
        ["swarm", str(SAMPLES / "pd.mlir")],
        ["evolve", str(SAMPLES / "pd.mlir"), "--generations", "1", "--no-llm"],
        ["bench", "evolve", "--no-llm", "--budget", "1"],
    ):
        result = cli(*command, "--cluster", "127.0.0.1:9", env={"NEUROJIT_HOME": str(tmp_path)})
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "127.0.0.1:9" in lines[0], result.stderr
        assert "Traceback" not in result.stderr
    assert not list(tmp_path.rglob("*.json"))  # nothing written to the registry
    result = cli("swarm", str(SAMPLES / "pd.mlir"), "--cluster", "nowhere")
    assert result.returncode == 1 and "HOST:PORT" in result.stderr


# -- on the session's two-node cluster ---------------------------------------------------------


def test_a_population_flies_exactly_as_on_one_machine(pool):
    """Every candidate's outcomes (landed, crashed, scores, CVaR, steps) and an assert
    failure equal the local evaluator's, for several structures."""
    local = PopulationEvaluator(HARSH, agents=96, seed=11)
    remote = ClusterEvaluator(HARSH, pool, agents=96, seed=11)
    for name, text in [
        ("heuristic", sample("heuristic")),
        ("pid", sample("pid")),
        ("asserting", ASSERTING),
    ]:
        here, there = local.structure(text, f"{name}.mlir"), remote.structure(text, f"{name}.mlir")
        assert there.key == here.key and there.kernel is None
        assert np.array_equal(there.parameters.initial, here.parameters.initial)
        block = thetas(here.parameters, 9, seed=len(name))
        expected, got = local.fly(here, block), remote.fly(there, block)
        if name == "asserting":  # which landers fly on after the failure is timing, here too
            assert [o.failure for o in got] == [o.failure for o in expected]
            assert all("lander must stay high" in o.failure for o in got)
        else:
            assert got == expected
    assert remote.evaluations == local.evaluations
    nodes = remote.report()["nodes"]
    assert len(nodes) == 2 and all(n["evaluations"] > 0 for n in nodes)
    with pytest.raises(CompileError) as error:
        remote.structure(sample("pd").replace("tensorlang.matvec", "tensorlang.matvek"), "b.mlir")
    assert error.value.diagnostics[0].line == 11  # the local compiler's diagnostic


def test_a_swarm_report_is_the_same_as_on_one_machine(pool, ray_cluster):
    from neurojit_tui.cluster.swarm import evaluate_on_cluster

    for name, text, agents in (
        ("heuristic", sample("heuristic"), 3000),
        ("mlp", sample("mlp"), 100),
    ):
        local = evaluate(text, f"{name}.mlir", HARSH, agents=agents, seed=3).to_json()
        remote = evaluate_on_cluster(
            pool, text, f"{name}.mlir", HARSH, agents=agents, seed=3
        ).to_json()
        assert {k: v for k, v in remote.items() if k not in TIMING} == {
            k: v for k, v in local.items() if k not in TIMING
        }
    failed = evaluate_on_cluster(pool, ASSERTING, "a.mlir", HARSH, agents=50, seed=3)
    assert failed.failure == evaluate(ASSERTING, "a.mlir", HARSH, agents=50, seed=3).failure
    pool.close()  # the command line's driver needs the CPUs
    outputs = [
        json.loads(
            cli(
                "swarm",
                str(SAMPLES / "pid.mlir"),
                "--agents",
                "500",
                "--seed",
                "2",
                "--json",
                *flag,
            ).stdout
        )
        for flag in ([], ["--cluster", "auto"])
    ]
    assert {k: v for k, v in outputs[0].items() if k not in TIMING} == {
        k: v for k, v in outputs[1].items() if k not in TIMING
    }


def test_evolve_picks_the_same_best_on_the_cluster(ray_cluster):
    seeds = [("heuristic.mlir", sample("heuristic")), ("pd.mlir", sample("pd"))]
    local = evolve(seeds, HARSH, small_options())
    remote = evolve(seeds, HARSH, small_options(cluster=ray_cluster.address))
    assert remote.status == local.status == "ok"
    assert remote.best == local.best  # source, training, selection and validation scores
    assert [h.best_fitness for h in remote.history] == [h.best_fitness for h in local.history]
    assert remote.evaluations == local.evaluations
    assert not local.cluster and len(remote.cluster["nodes"]) == 2
    # the nodes also flew the finalists on the selection landers
    assert sum(n["evaluations"] for n in remote.cluster["nodes"]) > remote.evaluations


def _fly_with_a_fault(pool, fault) -> tuple[list, list]:
    """Outcomes of a population flown locally and on ``pool``, where ``fault()`` runs
    when the first batch comes back."""
    text = sample("heuristic")
    local = PopulationEvaluator(HARSH, agents=128, seed=5)
    remote = ClusterEvaluator(HARSH, pool, agents=128, seed=5)
    here, there = local.structure(text, "h.mlir"), remote.structure(text, "h.mlir")
    block = thetas(here.parameters, 48, seed=1)
    done = []

    def on_batch(result):
        if not done:
            done.append(result)
            fault()

    pool.on_batch = on_batch
    return local.fly(here, block), remote.fly(there, block)


def test_a_killed_worker_s_batches_fly_elsewhere_with_the_same_results(pool):
    victim = pool.workers()[1]["pid"]
    expected, got = _fly_with_a_fault(pool, lambda: os.kill(victim, signal.SIGKILL))
    assert got == expected
    assert pool.retried >= 1
    for _ in range(120):  # Ray starts it again in place; it is used again once it answers
        if victim not in {w["pid"] for w in pool.workers()} and len(pool.workers()) == 2:
            break
        pool.wait_for_workers(1.0)
        time.sleep(0.5)
    assert len(pool.workers()) == 2 and victim not in {w["pid"] for w in pool.workers()}


def test_a_lost_node_s_batches_fly_elsewhere_with_the_same_results(ray_cluster):
    from neurojit_tui.cluster.scheduler import RayCluster

    extra = ray_cluster.add_node(1)
    cluster = RayCluster(ray_cluster.address)
    try:
        cluster.wait_for_workers()
        assert len(cluster.workers()) == 3
        expected, got = _fly_with_a_fault(cluster, lambda: ray_cluster.remove_node(extra))
        assert got == expected
        cluster.wait_for_workers(60)  # the lost worker's probe says it is gone for good
        assert cluster.retried >= 1 and cluster.lost == 1 and len(cluster.workers()) == 2
    finally:
        cluster.close()


def test_a_run_that_loses_its_cluster_stores_nothing(ray_cluster, tmp_path, monkeypatch):
    from neurojit_tui.cluster.scheduler import RayCluster
    from neurojit_tui.evolve import run_evolution
    from neurojit_tui.memory import Registry, rebuild_with

    flights = []
    fly = RayCluster.fly_population

    def failing(self, *args, **kwargs):
        flights.append(1)
        if len(flights) > 5:
            raise ClusterError(f"every worker of the Ray cluster at {self.address} was lost")
        return fly(self, *args, **kwargs)

    monkeypatch.setattr(RayCluster, "fly_population", failing)
    monkeypatch.setenv("NEUROJIT_HOME", str(tmp_path))
    registry = Registry(str(tmp_path / "registry"), rebuild=rebuild_with(Compiler()))
    with pytest.raises(ClusterError, match="was lost"):
        run_evolution(
            HARSH,
            small_options(cluster=ray_cluster.address),
            seeds=[("heuristic.mlir", sample("heuristic"))],
            registry=registry,
        )
    registry.flush()
    assert registry.entries() == []


def test_the_node_monitor_reads_every_node_s_load(ray_cluster):
    from neurojit_tui.cluster.monitor import NodeLoadFeed

    feed = NodeLoadFeed(ray_cluster.address, interval=0.5)
    try:
        for _ in range(120):
            if len(feed.nodes) == 2 or feed.error:
                break
            time.sleep(0.25)
        assert feed.error is None and len(feed.nodes) == 2
        assert all(0.0 <= n["percent"] <= 100.0 and n["cpus"] >= 1 for n in feed.nodes)
    finally:
        feed.close()
    unreachable = NodeLoadFeed("127.0.0.1:9", interval=0.5)
    try:
        for _ in range(120):
            if unreachable.error:
                break
            time.sleep(0.25)
        assert "127.0.0.1:9" in unreachable.error
    finally:
        unreachable.close()


@pytest.mark.slow
def test_cli_evolve_on_the_cluster_picks_the_same_best(ray_cluster, tmp_path):
    runs = []
    for flag in ([], ["--cluster", ray_cluster.address]):
        result = cli(
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
            "--seed",
            "4",
            "--no-llm",
            "--no-cache",
            "--json",
            *flag,
            env={"NEUROJIT_HOME": str(tmp_path)},
        )
        assert result.returncode == 0, result.stderr[-2000:]
        runs.append(json.loads(result.stdout))
    assert runs[0]["best"]["source"] == runs[1]["best"]["source"]
    assert runs[0]["evaluations"] == runs[1]["evaluations"]
    assert [n["evaluations"] > 0 for n in runs[1]["cluster"]["nodes"]] == [True, True]


def test_the_cores_pane_shows_each_node_beside_the_local_cores():
    from neurojit_tui.ui.cores import CoreMeters

    meters = CoreMeters()
    meters.update([10.0, 90.0])
    meters.nodes = [
        {"node": "a1b2c3d4e5", "address": "10.0.0.5", "cpus": 64, "percent": 73.0},
        {"node": "f6e5d4c3b2", "address": "10.0.0.6", "cpus": 64, "percent": 5.0},
    ]
    lines = meters.render(120).splitlines()
    assert "2 cores" in lines[0] and "cluster: 2 node(s)" in lines
    assert lines[-2].startswith("node 10.0.0.5 a1b2c3d4") and lines[-2].endswith("73% of 64 cores")
    meters.nodes, meters.cluster_note = [], "cannot reach the Ray cluster at 10.0.0.5:6379"
    assert meters.render(120).splitlines()[-1] == "cluster: " + meters.cluster_note


@pytest.mark.slow
def test_bench_cluster_measures_local_threads_and_the_cluster_in_one_run(ray_cluster):
    from neurojit_tui.benches.cluster import bench_cluster, format_cluster_table

    result = bench_cluster(ray_cluster.address, seconds=0.3, log=lambda message: None)
    cluster = result["cluster"]
    assert cluster["same_as_local"] is True and cluster["workers"] == 2
    assert cluster["evaluations_per_s_16"] > 0 and cluster["round_trip_ms"] > 0
    assert result["local"]["all_threads"]["evaluations_per_s_256"] > 0
    assert {row["nodes"] for row in result["estimate"]["rows"]} >= {1, 64}
    assert "paper estimate" in format_cluster_table(result)


def test_the_cores_pane_reads_the_configured_cluster_s_nodes(ray_cluster, tmp_path, monkeypatch):
    """With [cluster] address in the config file, the pane starts the node monitor and
    shows both nodes under the local cores; the monitor ends with the pane."""
    import asyncio

    from textual.app import App

    from neurojit_tui.ui.cores import CoresPane

    monkeypatch.setenv("NEUROJIT_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text(f'[cluster]\naddress = "{ray_cluster.address}"\n')

    class OnlyCores(App):
        def compose(self):
            yield CoresPane(interval=0.5)

    async def run():
        app = OnlyCores()
        async with app.run_test(size=(120, 30)) as pilot:
            pane = app.query_one(CoresPane)
            for _ in range(240):
                if len(pane.meters.nodes) == 2:
                    break
                await pilot.pause(0.1)
            text = str(pane.render())
            assert text.count("node 127.0.0.1 ") == 2 and "cluster: 2 node(s)" in text
            return pane._node_loads._process

    monitor = asyncio.run(run())
    assert monitor.wait(timeout=10) is not None


def test_the_workstation_s_evolution_flies_on_the_configured_cluster(
    ray_cluster, tmp_path, monkeypatch
):
    """F9's engine request takes [cluster] address from the config file."""
    from neurojit_tui.engine import server
    from neurojit_tui.engine.protocol import EvolveRequest
    from neurojit_tui.evolve.results import EvolveOptions

    monkeypatch.setenv("NEUROJIT_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text(f'[cluster]\naddress = "{ray_cluster.address}"\n')
    result = (
        server.Handlers()
        .answer(
            EvolveRequest(
                text=sample("pd"),
                path="mine.mlir",
                options=EvolveOptions(
                    budget_s=None, generations=1, population=2, islands=1, use_llm=False
                ),
                with_default_seeds=False,
            ),
            lambda event: None,
        )
        .result
    )
    assert result.status == "ok" and result.cluster["address"] == ray_cluster.address
    assert [n["evaluations"] > 0 for n in result.cluster["nodes"]] == [True, True]
