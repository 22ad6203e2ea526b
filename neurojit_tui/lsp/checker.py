"""Diagnostics for the language server, from the real compiler in another process.

MLIR can abort or crash on some input, and an editor's language server must outlive any
text typed into it. So the server never loads MLIR: it asks the engine process (the one
the workstation uses, ``engine.EngineClient``) to check the text. When the engine dies
during a check, the check is tried once more on a fresh engine; if that one dies too, the
text itself crashes the compiler, and that is what the user is told, as a diagnostic.
"""

from __future__ import annotations

import threading

from ..compiler.diagnostics import ERROR, Diagnostic
from ..engine import EngineClient, EngineCrashed, EngineError, EngineTimeout
from ..engine.protocol import CheckRequest

CHECK_TIMEOUT_S = 30.0  # a check takes milliseconds; past this the engine is hung


class EngineChecker:
    """``check(text, path)`` -> the compiler's diagnostics, as ``neurojit check`` gives them
    (``controller=True``: as ``neurojit check --controller``)."""

    # makes the engine request that checks (text, path, controller): CheckRequest; tests
    # put a crashing one in its place
    request = CheckRequest

    def __init__(self, controller: bool = False, log=None):
        self.controller = controller
        self.log = log or (lambda message: None)  # told about engine restarts
        self._engine: EngineClient | None = None
        self._lock = threading.Lock()

    def _client(self) -> EngineClient:
        with self._lock:
            if self._engine is None:
                self._engine = EngineClient(
                    on_restart=lambda reason: self.log(f"the checker {reason}; restarted it")
                )
            return self._engine

    @property
    def engine_pid(self) -> int | None:
        return self._engine.pid if self._engine is not None else None

    def check(self, text: str, path: str) -> list[Diagnostic]:
        try:
            try:
                found = self._call(text, path)
            except EngineCrashed:
                found = self._call(text, path)  # once more, on a fresh engine
        except EngineCrashed as crash:
            return [
                _whole_file_error(
                    path,
                    f"the compiler crashed checking this program "
                    f"({crash}); fix the text or report it",
                )
            ]
        except EngineTimeout as timeout:
            return [_whole_file_error(path, str(timeout))]
        except EngineError as error:
            return [_whole_file_error(path, f"internal error in the checker: {error}")]
        return list(found)

    def _call(self, text: str, path: str) -> tuple[Diagnostic, ...]:
        reply = self._client().call(
            self.request(text, path, self.controller), timeout=CHECK_TIMEOUT_S
        )
        return reply.diagnostics

    def close(self) -> None:
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()


def _whole_file_error(path: str, message: str) -> Diagnostic:
    """A problem with no position of its own; it is shown on the first line."""
    return Diagnostic(path, 1, 1, ERROR, message)
