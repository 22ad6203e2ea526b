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

from ..compiler.jit import AssertSite
from .key import cache_key, canonical_condition, toolchain
from .registry import Entry, LoadedController, Registry, default_root


def asserts_of(program) -> list[AssertSite]:
    return list(program.asserts.values())


def rebuild_with(compiler):
    """The ``rebuild`` function a Registry uses to recompile a stored source."""

    def rebuild(source: str, file: str):
        program = compiler.compile(source, file or "registry.mlir", require_control=True)
        return program.object_bytes, asserts_of(program)

    return rebuild


def remember(registry: Registry, key: str, key_data: dict, text: str, path: str, program,
             scores: dict | None = None, strategy: dict | None = None,
             provenance: dict | None = None) -> Entry:
    """Store a compiled controller: in L1 at once (the live program), in L2 in the
    background (source, scores, provenance and object code)."""
    entry = Entry(key, key_data, text, path, strategy, scores or {}, provenance or {},
                  asserts_of(program))
    registry.put(entry, program.object_bytes, loaded=program)
    return entry


__all__ = ["Entry", "LoadedController", "Registry", "asserts_of", "cache_key",
           "canonical_condition", "default_root", "rebuild_with", "remember", "toolchain"]
