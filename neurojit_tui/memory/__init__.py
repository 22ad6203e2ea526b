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

from typing import TYPE_CHECKING, Any

from ..compiler.jit import AssertSite, CompiledProgram
from .key import NO_MODELS, cache_key, canonical_condition, lookup_keys, toolchain
from .registry import Entry, LoadedController, Rebuild, Registry, default_root

if TYPE_CHECKING:
    from ..compiler.driver import Compiler


def asserts_of(program: CompiledProgram) -> list[AssertSite]:
    return list(program.asserts.values())


def rebuild_with(compiler: Compiler) -> Rebuild:
    """The ``rebuild`` function a Registry uses to recompile a stored source."""

    def rebuild(source: str, file: str) -> tuple[bytes, list[AssertSite]]:
        program = compiler.compile(source, file or "registry.mlir", require_control=True)
        return program.object_bytes, asserts_of(program)

    return rebuild


def remember(
    registry: Registry,
    key: str,
    key_data: dict[str, Any],
    text: str,
    path: str,
    program: CompiledProgram,
    scores: dict[str, Any] | None = None,
    strategy: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
) -> Entry:
    """Store a compiled controller: in L1 at once (the live program), in L2 in the
    background (source, scores, provenance and object code)."""
    entry = Entry(
        key, key_data, text, path, strategy, scores or {}, provenance or {}, asserts_of(program)
    )
    registry.put(entry, program.object_bytes, loaded=program)
    return entry


__all__ = [
    "NO_MODELS",
    "lookup_keys",
    "Entry",
    "LoadedController",
    "Registry",
    "asserts_of",
    "cache_key",
    "canonical_condition",
    "default_root",
    "rebuild_with",
    "remember",
    "toolchain",
]
