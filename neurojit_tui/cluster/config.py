"""Which Ray cluster to use, and getting Ray ready to talk to it; Ray is not imported here.

The address comes from ``--cluster auto|ADDRESS`` (``none`` turns a configured cluster
off for one command), else from ``~/.neurojit/config.toml``::

    [cluster]
    address = "auto"          # or "10.0.0.5:6379"; absent: everything runs locally

``auto`` is the cluster started on this machine (``ray start --head``): ``$RAY_ADDRESS``,
else the address Ray recorded when it started.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

from ..config import ConfigError, config_path, section

OFF = "none"
AUTO = "auto"
PROBE_TIMEOUT_S = 5.0


class ClusterError(Exception):
    """The cluster cannot be used: unreachable, no worker could start, or every worker
    was lost. The message is one line and names the address."""


def configured_address() -> str | None:
    """``[cluster] address`` of the config file, None if there is none."""
    path = config_path()
    try:
        address = section("cluster").get("address")
    except ConfigError as error:
        raise ClusterError(f"{error} ([cluster])") from None
    if address is not None and not isinstance(address, str):
        raise ClusterError(
            f'{path}: [cluster] address must be a string such as "auto" or "HOST:PORT"'
        )
    return address or None


def resolve_address(flag: str | None) -> str | None:
    """The cluster a command uses: the flag, else the config file; None: run locally."""
    address = flag if flag is not None else configured_address()
    return None if address in (None, "", OFF) else address


def _recorded_address() -> str | None:
    """The address Ray wrote when a cluster was started on this machine (read without
    importing Ray, whose import fixes how it picks its own IP address)."""
    temp = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
    try:
        return (Path(temp) / "ray" / "ray_current_cluster").read_text().strip() or None
    except OSError:
        return None


def host_and_port(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``ray://`` and ``[v6]`` forms too), or ClusterError."""
    text = address.removeprefix("ray://")
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(
            f"{address!r} is not a cluster address: give auto or HOST:PORT "
            f"(the Ray head's GCS port, 6379 by default)"
        )
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def concrete_address(address: str) -> str:
    """``auto`` made into the HOST:PORT it stands for; an ADDRESS as given."""
    if address != AUTO:
        host_and_port(address)
        return address
    found = os.environ.get("RAY_ADDRESS") or _recorded_address()
    if not found or found == AUTO:
        raise ClusterError(
            "no Ray cluster is running on this machine (--cluster auto): start "
            "one with `ray start --head`, or give the head's HOST:PORT"
        )
    return found


def probe(address: str) -> None:
    """Fail fast, in one line, when nothing answers at ``address``: Ray itself would
    retry for minutes before it gave up."""
    host, port = host_and_port(address)
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {reason}") from None


def prepare_ray_environment(host: str) -> None:
    """Environment Ray reads when it is imported: no usage reports; and, for a cluster
    on this machine's loopback interface, stay on it (Ray otherwise replaces a loopback
    address with the machine's outward one, where nothing listens)."""
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    if is_loopback(host):
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
