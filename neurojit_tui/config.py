"""``~/.neurojit/config.toml``: the one reader of the user's settings file.

Each section belongs to a package: ``[reasoning]`` and ``[synthesis]`` to the agents
(``agents/config.py``), ``[cluster]`` to the cluster (``cluster/config.py``); they read
their section from here and check it themselves. ``NEUROJIT_HOME`` moves the folder.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .paths import neurojit_home


class ConfigError(Exception):
    """The file exists but cannot be read as TOML (one line naming it)."""


def config_path() -> Path:
    return neurojit_home() / "config.toml"


def read_config() -> dict[str, Any]:
    """The whole file as a dict; {} when there is none."""
    path = config_path()
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it: {error}") from None


def section(name: str) -> dict[str, Any]:
    """One ``[name]`` table of the file ({} when absent)."""
    value = read_config().get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{config_path()}: [{name}] must be a table of settings")
    return value
