"""The two local LLM agents and the self-repair loop.

Public API::

    agents = Agents.from_config()               # lazy: models load on first use
    reasoning = agents.reasoning.strategy(env)  # Strategy (family, gains, rationale)
    program = agents.synthesis.write(strategy)  # TensorLang text, grammar-constrained
    session = RepairSession(text, path, agents.synthesis, agents.reasoning)
    session.propose(); session.accept() / session.reject(); session.auto()

This package never imports textual.
"""

from __future__ import annotations

from dataclasses import dataclass

from .backend import (
    GEMMA3,
    SMOLLM2,
    LlamaBackend,
    ModelConfig,
    ModelError,
    ScriptedBackend,
    physical_cores,
)
from .config import load_agent_configs
from .reasoning import ReasoningAgent, Strategy
from .repair import Attempt, RepairSession, replay
from .synthesis import SynthesisAgent


class LazyBackend:
    """Loads its llama.cpp model on first use, so a repair the symbolic tier finishes
    never waits for a model."""

    def __init__(self, config: ModelConfig):
        self.config = config
        self._backend = None

    @property
    def backend(self) -> LlamaBackend:
        if self._backend is None:
            self._backend = LlamaBackend(self.config)
        return self._backend

    @property
    def identity(self) -> str:
        return self.backend.identity

    def generate(self, *args, **kwargs):
        return self.backend.generate(*args, **kwargs)


@dataclass
class Agents:
    reasoning: ReasoningAgent
    synthesis: SynthesisAgent

    @classmethod
    def from_config(cls, overrides: dict | None = None) -> Agents:
        configs = load_agent_configs(overrides)
        return cls(
            ReasoningAgent(LazyBackend(configs["reasoning"])),
            SynthesisAgent(LazyBackend(configs["synthesis"])),
        )


__all__ = [
    "Agents",
    "Attempt",
    "GEMMA3",
    "LazyBackend",
    "LlamaBackend",
    "ModelConfig",
    "ModelError",
    "ReasoningAgent",
    "RepairSession",
    "SMOLLM2",
    "ScriptedBackend",
    "Strategy",
    "SynthesisAgent",
    "physical_cores",
    "replay",
]
