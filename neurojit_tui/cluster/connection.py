"""The driver's connection to a Ray cluster: once per process, in one line if it fails.

Kept apart from the scheduler so that a process that only watches a cluster (the
node-load monitor) connects without loading the compiler.
"""

from __future__ import annotations

import logging
import threading

from .config import ClusterError, host_and_port, prepare_ray_environment

CONNECT_TIMEOUT_S = 30.0


def connect(address: str):
    """Ray, connected to ``address`` (once per process), or ClusterError in one line."""
    prepare_ray_environment(host_and_port(address)[0])
    import ray

    if ray.is_initialized():
        return ray
    errors: list[BaseException] = []

    def init():
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
        except Exception as error:  # any failure to connect becomes one line below
            errors.append(error)

    # ray.init can wait for minutes on a port that accepts but never answers as Ray.
    thread = threading.Thread(target=init, name="neurojit-ray-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S)
    if thread.is_alive():
        raise ClusterError(
            f"the Ray cluster at {address} did not answer within {CONNECT_TIMEOUT_S:g} s"
        )
    if errors:
        reason = (str(errors[0]).strip().splitlines() or [type(errors[0]).__name__])[0]
        raise ClusterError(f"cannot connect to the Ray cluster at {address}: {reason}")
    return ray
