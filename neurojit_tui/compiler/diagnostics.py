"""Diagnostics: what the compiler reports, always with file, line, col and severity.

MLIR reports problems as ``ir.Diagnostic`` objects, through ``MLIRError`` (parse and
verifier failures) or through a context's diagnostic handler (our own semantic checks,
which call ``Location.emit_error``). Both become plain, picklable ``Diagnostic`` values
here, so they can cross the engine-process boundary and be printed or sent as JSON.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from .ir_types import MlirContext, MlirDiagnostic, MlirLocation

ERROR = "error"
WARNING = "warning"
NOTE = "note"
REMARK = "remark"


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    col: int
    severity: str
    message: str
    notes: tuple[Diagnostic, ...] = field(default=())

    def format(self) -> str:
        """``FILE:LINE:COL: severity: message``, the form compilers and editors understand."""
        text = f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}"
        for note in self.notes:
            text += "\n" + note.format()
        return text

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = [note.to_json() for note in self.notes]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        notes = tuple(cls.from_json(n) for n in data.get("notes", ()))
        return cls(
            data["file"],
            int(data["line"]),
            int(data["col"]),
            data["severity"],
            data["message"],
            notes,
        )


def _severity_name(severity: object) -> str:
    name = str(severity).rsplit(".", 1)[-1].lower()
    return name if name in (ERROR, WARNING, NOTE, REMARK) else ERROR


def location_parts(location: MlirLocation, default_file: str) -> tuple[str, int, int]:
    """(file, line, col) of an MLIR location; walks fused/name/callsite locations to
    the first file position. Unknown locations give line 0, col 0."""
    stack = [location]
    while stack:
        loc = stack.pop(0)
        if loc.is_a_file():
            return loc.filename, loc.start_line, loc.start_col
        if loc.is_a_name():
            stack.append(loc.child_loc)
        elif loc.is_a_callsite():
            stack.append(loc.callee)
        elif loc.is_a_fused():
            stack.extend(loc.locations)
    return default_file, 0, 0


def from_mlir(diagnostic: MlirDiagnostic, default_file: str, note_ops: bool = False) -> Diagnostic:
    """Convert an ``mlir.ir.Diagnostic``.

    MLIR's verifier adds a note "see current operation: ..." that prints the op in
    generic form; it repeats the user's own line, so it is dropped unless asked for.
    """
    file, line, col = location_parts(diagnostic.location, default_file)
    notes = tuple(
        from_mlir(n, default_file)
        for n in diagnostic.notes
        if note_ops or not str(n.message).startswith("see current operation")
    )
    return Diagnostic(
        file, line, col, _severity_name(diagnostic.severity), str(diagnostic.message), notes
    )


@contextlib.contextmanager
def collect(context: MlirContext, default_file: str) -> Iterator[list[Diagnostic]]:
    """Collect every diagnostic emitted in ``context`` while the block runs."""
    found: list[Diagnostic] = []

    def handler(diagnostic: MlirDiagnostic) -> bool:
        found.append(from_mlir(diagnostic, default_file))
        return True  # handled: do not print to stderr

    handle = context.attach_diagnostic_handler(handler)
    try:
        yield found
    finally:
        handle.detach()


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == ERROR for d in diagnostics)
