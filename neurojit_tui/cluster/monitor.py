"""Each node's CPU load, for the workstation's Cores pane.

``NodeLoadFeed(address)`` runs ``python -m neurojit_tui.cluster.monitor ADDRESS`` and
keeps its latest reading: that child process is the Ray driver, so the workstation's
UI process never imports Ray (as it never loads MLIR). The child reads the cluster's
live nodes from Ray's state (``ray.nodes()``), keeps one probe actor on each (claiming
no CPU, so it runs beside a search's workers) that samples its machine's load with
psutil, and prints one JSON line per interval::

    {"nodes": [{"node": ID, "address": IP, "cpus": N, "percent": P}, ...]}

or ``{"error": "one line"}`` when the cluster cannot be reached. It exits when its
standard input closes, so it never outlives the workstation.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading


class NodeProbe:
    """Lives on one node (as a Ray actor): that machine's CPU load since the last call."""

    def __init__(self):
        import psutil

        psutil.cpu_percent(None)

    def load(self) -> dict:
        import psutil

        return {"percent": psutil.cpu_percent(None), "cpus": psutil.cpu_count() or 1}


def _readings(address: str, interval: float, out) -> None:
    from .config import ClusterError, concrete_address, probe
    from .connection import connect

    try:
        address = concrete_address(address)
        probe(address)
        ray = connect(address)  # before any other import of Ray: it sets Ray's environment
    except ClusterError as error:
        print(json.dumps({"error": str(error)}), file=out, flush=True)
        return
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    remote = ray.remote(NodeProbe)
    probes: dict[str, tuple[object, str]] = {}  # node id -> (actor, address)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    while not stop.is_set():
        alive = {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]}
        for node in set(probes) - set(alive):
            probes.pop(node)
        for node, ip in alive.items():
            if node not in probes:
                strategy = NodeAffinitySchedulingStrategy(node, soft=False)
                probes[node] = (
                    remote.options(
                        num_cpus=0, scheduling_strategy=strategy, max_restarts=0
                    ).remote(),
                    ip,
                )
        refs = {node: actor.load.remote() for node, (actor, _) in probes.items()}
        ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=interval)
        nodes = []
        for node, ref in refs.items():
            if ref in ready:
                try:
                    nodes.append({"node": node, "address": probes[node][1], **ray.get(ref)})
                except ray.exceptions.RayError:
                    probes.pop(node, None)  # its node is going: the next round drops it
        print(
            json.dumps({"nodes": sorted(nodes, key=lambda n: (n["address"], n["node"]))}),
            file=out,
            flush=True,
        )
        stop.wait(interval)


class NodeLoadFeed:
    """The latest per-node loads of the cluster at ``address``, read by a child process."""

    def __init__(self, address: str, interval: float = 2.0):
        self.nodes: list[dict] = []
        self.error: str | None = None
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "neurojit_tui.cluster.monitor",
                address,
                "--interval",
                str(interval),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._read, name="neurojit-node-loads", daemon=True).start()

    def _read(self) -> None:
        for line in self._process.stdout:
            try:
                reading = json.loads(line)
            except json.JSONDecodeError:
                continue
            self.error = reading.get("error")
            self.nodes = reading.get("nodes", [])

    def close(self) -> None:
        """End the child: its standard input closes, and it is killed if it lingers."""
        try:
            self._process.stdin.close()
            self._process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="print each Ray node's CPU load as JSON lines")
    parser.add_argument("address")
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args(argv)
    _readings(args.address, args.interval, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
