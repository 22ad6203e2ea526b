"""Where the project's files are."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def samples_dir() -> Path:
    """The TensorLang samples: $NEUROJIT_SAMPLES, else the checkout's samples/ folder."""
    return Path(os.environ.get("NEUROJIT_SAMPLES", PROJECT_ROOT / "samples"))


def controller_samples() -> list[Path]:
    """The valid controller samples (pd, pid, mlp, heuristic)."""
    return sorted(samples_dir().glob("*.mlir"))


def neurojit_home() -> Path:
    """``~/.neurojit`` (config, registry, candidates); ``$NEUROJIT_HOME`` moves it."""
    return Path(os.environ.get("NEUROJIT_HOME", Path.home() / ".neurojit")).expanduser()
