"""Persistent memory of synthesized controllers: L1 (this process) and L2 (a folder).

Public API::

    registry = Registry(rebuild=rebuild_with(compiler))     # ~/.neurojit/registry
    key, key_data = cache_key(env, models)
    controller, level = registry.lookup(key)              # level: "l1", "l2" or "miss"
    remember(registry, key, key_data, text, path, program, scores=..., strategy=...)
    registry.flush()                                      # also runs at exit

This package never imports textual.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

from .key import cache_key, canonical_condition, condition_key, toolchain
from .registry import Entry, LoadedController, Registry, default_root


def object_code(program) -> bytes:
    """The machine code of a ``CompiledProgram`` as relocatable object bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "code.o"
        program.dump_object(str(path))
        return path.read_bytes()


def asserts_of(program) -> list[dict]:
    return [asdict(site) for site in program.asserts.values()]


def rebuild_with(compiler):
    """The ``rebuild`` function a Registry uses to recompile a stored source."""

    def rebuild(source: str, file: str):
        program = compiler.compile(source, file or "registry.mlir", require_control=True)
        return object_code(program), asserts_of(program)

    return rebuild


def remember(registry: Registry, key: str, key_data: dict, text: str, path: str, program,
             scores: dict | None = None, strategy: dict | None = None,
             provenance: dict | None = None) -> Entry:
    """Store a compiled controller: in L1 at once (the live program), in L2 in the
    background (source, scores, provenance and object code)."""
    entry = Entry(key, key_data, text, path, strategy, scores or {}, provenance or {},
                  asserts_of(program))
    registry.put(entry, object_code(program), loaded=program)
    return entry


__all__ = ["Entry", "LoadedController", "Registry", "asserts_of", "cache_key",
           "canonical_condition", "condition_key", "default_root", "object_code", "rebuild_with",
           "remember", "toolchain"]
