"""The user's operations, one module each: its request and reply, its command-line flags,
the operation itself (``run``) and how the command line shows the reply (``base.py``
says how a command is made). ``COMMANDS`` is the one table: the command line builds its
parser and dispatches from it, and the engine process answers each command's request
with the same ``run``, so the two cannot diverge.

Importing this package loads no MLIR, llama.cpp or native kernel (the workstation's UI
process imports the requests): a command imports those in ``run``.
"""

from __future__ import annotations

from typing import Any

from . import bench, check, compile, evolve, gym, registry, repair, run, swarm, synthesize
from .base import Command, Request

COMMANDS: dict[str, Command[Any, Any]] = {
    command.name: command
    for command in (
        check.COMMAND,
        compile.COMMAND,
        run.COMMAND,
        swarm.COMMAND,
        repair.COMMAND,
        synthesize.COMMAND,
        evolve.COMMAND,
        registry.COMMAND,
        bench.COMMAND,
        gym.COMMAND,
    )
}

# the command that answers each request type (the engine's handler table)
BY_REQUEST: dict[type[Request[Any]], Command[Any, Any]] = {
    command.request: command for command in COMMANDS.values() if command.request is not None
}

__all__ = ["BY_REQUEST", "COMMANDS", "Command"]
