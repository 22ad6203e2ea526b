"""Which NeuroJIT this is: the package version, and a fingerprint of its Python source
(runs record both, so a replay can say when another version of the search replays it)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from . import __version__

PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def source_sha256() -> str:
    """SHA-256 over the package's Python files (their paths and contents, in order)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def version() -> str:
    return __version__
