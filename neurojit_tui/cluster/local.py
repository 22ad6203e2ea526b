"""A Ray cluster of several nodes on this machine, on the loopback interface only.

Each node is a real Ray node (its own raylet, object store and worker processes) made
by ``ray.cluster_utils.Cluster``; the tests start one for the session, ``neurojit bench
cluster`` one for its run. Nodes are kept small: a node's object store is sized for
batches of outcome arrays, not Ray's default of 30% of the memory.
"""

from __future__ import annotations

from .config import prepare_ray_environment

LOOPBACK = "127.0.0.1"
OBJECT_STORE_BYTES = 96 * 2**20  # Ray's floor is 75 MiB


class LocalCluster:
    """``LocalCluster(cpus=(1, 1))``: a head node and one more, each claiming one CPU."""

    def __init__(self, cpus: tuple[int, ...] = (1, 1)):
        prepare_ray_environment(LOOPBACK)
        from ray.cluster_utils import Cluster

        self._cluster = Cluster(
            initialize_head=True,
            head_node_args=self._node_args(cpus[0]) | {"include_dashboard": False},
        )
        self.nodes = [self._cluster.head_node]
        for count in cpus[1:]:
            self.add_node(count)

    @staticmethod
    def _node_args(cpus: int) -> dict:
        return {
            "num_cpus": cpus,
            "object_store_memory": OBJECT_STORE_BYTES,
            "node_ip_address": LOOPBACK,
        }

    @property
    def address(self) -> str:
        return self._cluster.address

    def add_node(self, cpus: int = 1):
        """Start one more node; returns it (for ``remove_node``)."""
        node = self._cluster.add_node(**self._node_args(cpus))
        self.nodes.append(node)
        return node

    def remove_node(self, node) -> None:
        """Kill every process of ``node`` at once, as when a machine is lost."""
        self._cluster.remove_node(node, allow_graceful=False)
        self.nodes.remove(node)

    def shutdown(self) -> None:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        self._cluster.shutdown()

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
