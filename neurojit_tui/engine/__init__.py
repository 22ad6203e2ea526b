"""The engine process and its client.

The UI process never loads MLIR, the JIT or llama.cpp: it asks the engine, with the
requests of ``protocol.py``::

    engine = EngineClient().start()
    diagnostics = engine.call(CheckRequest(text, path)).diagnostics
    report = engine.call(SwarmRequest(text, path, agents=100)).report

A crash or hang of the engine fails the calls in flight (``EngineCrashed``,
``EngineTimeout``) and the next call starts a new engine.
"""

from .client import EngineClient, EngineCrashed, EngineError, EngineTimeout, describe_exit

__all__ = ["EngineClient", "EngineCrashed", "EngineError", "EngineTimeout", "describe_exit"]
