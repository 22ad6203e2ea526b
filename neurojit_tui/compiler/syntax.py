"""TensorLang's surface syntax: how names are spelled, how an op line is written, and what
the controller's observation holds, in one place for every reader and writer of the text
(the language server, the editor's lexer, the evolution's parser and mutations, the
repair and synthesis agents, the fuzzer).

Names follow MLIR's lexer (``mlir/lib/AsmParser/Lexer.cpp``), so whatever MLIR parses as
one name every reader here reads as one name:

* an SSA value is ``%`` and a suffix-id: digits only (``%0``), or a letter or one of
  ``$ . _ -`` followed by letters, digits and ``$ . _ -`` (``%a$b``, ``%x-1``, ``%_``,
  ``%a.b``). ``$`` and ``-`` belong to the name because MLIR reads them so: ``%x-1`` is
  one value, not ``%x`` minus one (TensorLang has no infix operators). Only ASCII letters
  count, as in MLIR. ``%0abc`` is the value ``%0`` followed by the word ``abc``.
* a symbol is ``@`` and a bare-id: a letter or ``_``, then letters, digits, ``_ $ .``
  (no ``-``: MLIR's ``@`` identifiers do not take it).

This module imports no MLIR (the UI process and the language server read it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .dialect import CONTROL_OBS_SIZE, DIALECT_NAME, OPS_BY_NAME

# MLIR's suffix-id, the part of a value name after the "%".
SUFFIX_ID = r"(?:[0-9]+|[a-zA-Z$._-][a-zA-Z0-9$._-]*)"
# MLIR's bare-id, the part of a symbol name after the "@".
BARE_ID = r"[a-zA-Z_][a-zA-Z0-9_$.]*"

VALUE_NAME_PATTERN = "%" + SUFFIX_ID
SYMBOL_NAME_PATTERN = "@" + BARE_ID

VALUE_NAME = re.compile(VALUE_NAME_PATTERN)
SYMBOL_NAME = re.compile(SYMBOL_NAME_PATTERN)
# A value name still being typed: "%" and the characters a name may hold so far.
PARTIAL_VALUE_NAME = re.compile(r"%[a-zA-Z0-9$._-]*")


def is_value_name(text: str) -> bool:
    return VALUE_NAME.fullmatch(text) is not None


def value_names(text: str) -> list[str]:
    """Every value name in ``text``, in order, repeats included."""
    return VALUE_NAME.findall(text)


# -- op lines ---------------------------------------------------------------------------------


def op_line(
    result: str,
    op_name: str,
    operands: Sequence[str],
    operand_types: Sequence[str],
    result_type: str,
    attributes: Mapping[str, str] | None = None,
) -> str:
    """One TensorLang op in generic syntax, checked against its declaration:
    ``%r = "tensorlang.clamp"(%x) {lo = -1.0 : f64, hi = 1.0 : f64} : (t) -> t``.

    ``op_name`` is short ("clamp") or full; ``attributes`` maps each attribute the op
    declares to its value as written (``"-1.0 : f64"``, ``"array<i64: 3>"``), and they
    are written in the order the op declares them."""
    full_name = op_name if "." in op_name else f"{DIALECT_NAME}.{op_name}"
    spec = OPS_BY_NAME.get(full_name)
    if spec is None:
        raise ValueError(f"no op {full_name!r} in the dialect")
    if len(operands) != len(spec.operands) or len(operand_types) != len(spec.operands):
        raise ValueError(
            f"'{full_name}' takes {len(spec.operands)} operands, "
            f"got {len(operands)} with {len(operand_types)} types"
        )
    given = dict(attributes or {})
    declared = [name for name, _ in spec.attributes]
    if sorted(given) != sorted(declared):
        raise ValueError(f"'{full_name}' has attributes {declared}, got {sorted(given)}")
    for name in (result, *operands):
        if not is_value_name(name):
            raise ValueError(f"{name!r} is not a value name")
    written = (
        " {" + ", ".join(f"{name} = {given[name]}" for name in declared) + "}" if declared else ""
    )
    return (
        f'{result} = "{full_name}"({", ".join(operands)}){written} : '
        f"({', '.join(operand_types)}) -> {result_type}"
    )


def arith_line(result: str, op_name: str, operands: Sequence[str], type_: str) -> str:
    """A scalar ``arith`` op in its custom syntax: ``%r = arith.mulf %a, %b : f64``."""
    return f"{result} = {op_name} {', '.join(operands)} : {type_}"


def arith_constant_line(result: str, literal: str, type_: str) -> str:
    """``%r = arith.constant 0.0 : f64``."""
    return f"{result} = arith.constant {literal} : {type_}"


# -- the observation --------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One element of the controller's ``obs`` (Gymnasium LunarLander's normalized
    observation): its index, its short name (``omega``, ``leg_l``), the words the
    evolution's proposals use for it (``left leg``) and what it is."""

    index: int
    name: str
    words: str
    meaning: str
    flag: bool = False  # 0 or 1 (a leg's contact), not a signal


OBSERVATIONS: tuple[Observation, ...] = (
    Observation(0, "x", "x", "x"),
    Observation(1, "y", "y", "y"),
    Observation(2, "vx", "vx", "vx"),
    Observation(3, "vy", "vy", "vy"),
    Observation(4, "angle", "angle", "angle"),
    Observation(5, "omega", "omega", "angular velocity"),
    Observation(6, "leg_l", "left leg", "left leg contact", flag=True),
    Observation(7, "leg_r", "right leg", "right leg contact", flag=True),
)
assert len(OBSERVATIONS) == CONTROL_OBS_SIZE
assert all(o.index == k for k, o in enumerate(OBSERVATIONS))

FLAG_OBSERVATIONS = tuple(o.index for o in OBSERVATIONS if o.flag)
