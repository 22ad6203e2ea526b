"""Where the project's files are."""

from __future__ import annotations

import os
from pathlib import Path

from .resources import shipped_folder

# The checkout (tests and scripts read the repository's files through it); an installed
# package finds its own files through ``samples_dir`` and ``themes_dir``.
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def samples_dir() -> Path:
    """The TensorLang samples: $NEUROJIT_SAMPLES, else the ones that came with the package."""
    return Path(os.environ.get("NEUROJIT_SAMPLES") or shipped_folder("samples"))


def themes_dir() -> Path:
    """The workstation's theme files (``layout.tcss`` and one file per theme)."""
    return shipped_folder("themes")


def controller_samples() -> list[Path]:
    """The valid controller samples (pd, pid, mlp, heuristic)."""
    return sorted(samples_dir().glob("*.mlir"))


def neurojit_home() -> Path:
    """``~/.neurojit`` (config, registry, candidates); ``$NEUROJIT_HOME`` moves it."""
    return Path(os.environ.get("NEUROJIT_HOME", Path.home() / ".neurojit")).expanduser()
