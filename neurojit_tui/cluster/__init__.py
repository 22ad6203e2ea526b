"""Scaling out on Ray: swarms and evolution on a cluster, with the same results as one
machine.

``config`` says which cluster (``--cluster``, ``[cluster] address``) and never imports
Ray; ``connection`` connects a driver once per process; ``actors`` is what a worker
does (compile a verified TensorLang text once per structure, fly batches of (parameter
rows, agent range)); ``scheduler`` drives the workers (batches as they ask, a bounded
number in flight, retries after a lost worker or node); ``swarm`` is ``neurojit swarm
--cluster``; ``local`` starts a loopback cluster of several nodes on this machine
(tests, bench); ``bench`` is ``neurojit bench cluster``; ``monitor`` reads each node's
CPU load for the workstation. Ray is imported only by the modules that talk to a
cluster, and only when one is asked for.
"""

from .config import ClusterError, configured_address, resolve_address

__all__ = ["ClusterError", "configured_address", "resolve_address"]
