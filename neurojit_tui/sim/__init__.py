"""Lunar-lander simulation and swarm evaluation.

Public API::

    env = Environment(gravity=1.62, turbulence=1.0)
    report = evaluate(text, path, env, agents=100, seed=0)     # SwarmReport, never raises
    ranked = evaluate_candidates([(path, text), ...], env=env, agents=100)
    lander = LiveLander(slot, env, seed=0)                     # frames for the lander view
    for frame in lander.frames(): ...

``model.py`` is the one definition of the physics; ``reference.py`` runs it with numpy,
``native.py`` compiles it with the controller into one kernel. This package never
imports textual.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes
from .model import MAX_STEPS, MOON_GRAVITY, OUTCOME_NAMES, Environment
from .report import SwarmReport

if TYPE_CHECKING:  # what mypy reads for the lazy names below
    from .live import Frame, LiveLander
    from .swarm import evaluate, evaluate_candidates, rank

# Names that need MLIR load it on first use: the UI process draws the lander with
# ``model`` and must never load MLIR (tests/test_architecture.py checks it).
_LAZY = {
    "Frame": "live",
    "LiveLander": "live",
    "evaluate": "swarm",
    "evaluate_candidates": "swarm",
    "rank": "swarm",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "Environment",
    "Frame",
    "LiveLander",
    "MAX_STEPS",
    "MOON_GRAVITY",
    "OUTCOME_NAMES",
    "SwarmReport",
    "evaluate",
    "evaluate_candidates",
    "rank",
]
