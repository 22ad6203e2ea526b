"""The symbolic repair tier: deterministic fix-its for common structural diagnostics.

Each rule reads one diagnostic and proposes candidate edits (a misspelled op gets the
closest op of the dialect; an undefined value the closest defined names; a type clash
either side of the clash). The compiler then checks every candidate, and the one with
the fewest errors wins, so a rule may guess; it never has to be right alone.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ..compiler import dialect as tl
from ..compiler.diagnostics import Diagnostic
from ..compiler.syntax import VALUE_NAME, VALUE_NAME_PATTERN

OP_NAMES = [op.full_name for op in tl.OPS]
_VALUE = VALUE_NAME


@dataclass
class FixIt:
    text: str
    explanation: str


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _replace_in_line(text: str, line: int, old: str, new: str, after_col: int = 0) -> str | None:
    lines = _lines(text)
    if not 1 <= line <= len(lines):
        return None
    row = lines[line - 1]
    at = row.find(old, max(0, after_col))
    if at < 0:
        return None
    lines[line - 1] = row[:at] + new + row[at + len(old) :]
    return "\n".join(lines)


def defined_values(text: str, before_line: int) -> list[str]:
    """SSA names defined above ``before_line`` (function arguments included)."""
    names = []
    for row in _lines(text)[: before_line - 1]:
        names += (
            re.findall(rf"({VALUE_NAME_PATTERN})\s*:", row.split("->")[0])
            if "func.func" in row
            else []
        )
        match = re.match(rf"\s*({VALUE_NAME_PATTERN})\s*=", row)
        if match:
            names.append(match.group(1))
    return list(dict.fromkeys(names))


def _value_types(text: str) -> dict[str, str]:
    """Name -> type from the function signature and each definition's ``-> type``."""
    types = {}
    for row in _lines(text):
        if "func.func" in row:
            for name, type_ in re.findall(
                rf"({VALUE_NAME_PATTERN})\s*:\s*(tensor<[^>]*>|f64)", row
            ):
                types[name] = type_
        match = re.match(rf"\s*({VALUE_NAME_PATTERN})\s*=.*->\s*(tensor<[^>]*>|f64)\s*$", row)
        if match:
            types[match.group(1)] = match.group(2)
        elif re.match(rf"\s*({VALUE_NAME_PATTERN})\s*=\s*arith\.\w+.*:\s*f64\s*$", row):
            types[re.match(rf"\s*({VALUE_NAME_PATTERN})", row).group(1)] = "f64"
    return types


def fix_its(text: str, diagnostic: Diagnostic) -> list[FixIt]:
    """Candidate edits for one diagnostic (possibly none)."""
    message, line, col = diagnostic.message, diagnostic.line, diagnostic.col
    out: list[FixIt] = []

    match = re.search(r"unregistered operation '([\w.]+)'", message)
    if match:
        for name in difflib.get_close_matches(match.group(1), OP_NAMES, n=2, cutoff=0.6):
            fixed = _replace_in_line(text, line, match.group(1), name)
            if fixed:
                out.append(
                    FixIt(
                        fixed,
                        f"line {line}: '{match.group(1)}' is not a TensorLang op; "
                        f"closest is '{name}'",
                    )
                )
        return out

    if "use of undeclared SSA value name" in message:
        row = _lines(text)[line - 1] if 0 < line <= len(_lines(text)) else ""
        used = _VALUE.match(row, col - 1)
        if used:
            candidates = defined_values(text, line)
            close = difflib.get_close_matches(used.group(0), candidates, n=3, cutoff=0.3)
            for name in close or candidates[-3:]:
                fixed = _replace_in_line(text, line, used.group(0), name, col - 1)
                if fixed:
                    out.append(
                        FixIt(fixed, f"line {line}: {used.group(0)} is not defined; use {name}")
                    )
        return out

    match = re.search(
        rf"use of value '({VALUE_NAME_PATTERN})' expects different type than prior uses: "
        r"'([^']+)' vs '([^']+)'",
        message,
    )
    if match:
        value, used_as, defined_as = match.groups()
        row = _lines(text)[line - 1]
        signature_at = row.rfind(" : ")
        fixed = _replace_in_line(text, line, used_as, defined_as, max(signature_at, 0))
        if fixed:
            out.append(FixIt(fixed, f"line {line}: {value} is {defined_as}, not {used_as}"))
        for note in diagnostic.notes:  # the prior use: change what it declared instead
            row = _lines(text)[note.line - 1]
            fixed = _replace_in_line(text, note.line, defined_as, used_as, max(row.rfind("->"), 0))
            if fixed:
                out.append(FixIt(fixed, f"line {note.line}: declare {value} as {used_as}"))
        return out

    match = re.search(r"expected '([^']+)' but got '([^']+)'", message)
    if match:
        expected, got = match.groups()
        for old, new in ((got, expected), (expected, got)):
            row = _lines(text)[line - 1]
            fixed = _replace_in_line(text, line, old, new, max(row.rfind(" : "), 0))
            if fixed:
                out.append(FixIt(fixed, f"line {line}: make the types agree ({old} -> {new})"))
        return out

    if "block with no terminator" in message:
        types = _value_types(text)
        action = [n for n, t in types.items() if t == f"tensor<{tl.CONTROL_ACTION_SIZE}xf64>"]
        mem = [n for n, t in types.items() if t == f"tensor<{tl.CONTROL_MEM_SIZE}xf64>"]
        if action and mem:
            lines = _lines(text)
            close = max(i for i, row in enumerate(lines) if row.strip() == "}")
            lines.insert(
                close,
                f"  return {action[-1]}, {mem[-1]} : tensor<{tl.CONTROL_ACTION_SIZE}"
                f"xf64>, tensor<{tl.CONTROL_MEM_SIZE}xf64>",
            )
            out.append(
                FixIt("\n".join(lines), f"add the missing return of {action[-1]}, {mem[-1]}")
            )
        return out
    return out
