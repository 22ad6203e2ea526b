"""NeuroJIT Workstation: TensorLang compiler, lander swarm, local LLM agents and a Textual UI."""

__version__ = "0.1.0"
