"""GBNF grammars for TensorLang, generated from the op classes (``compiler.ops``).

The synthesis agent writes a program one line at a time. Before each line the grammar
is generated anew from the ops *and the values defined so far*: each op's class says in
which ways it can be written with the value types that exist (``Op.alternatives``:
same-type elementwise operands, matvec/matmul shapes, slice bounds, extract indices),
and this module renders those ways as GBNF with the values of each type. So a sampled
line can only use a value that exists, with the type it has, in an op whose operand and
result types fit. Every sampled program therefore parses, and most verify; the compiler
and the repair loop handle the rest.

A line is either ``%vN = <op>`` (N is chosen by us, so names never clash) or the final
``return <action>, <mem>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..compiler import dialect as tl
from ..compiler import ops
from ..compiler.dialect import shape_of
from ..compiler.ops.base import Alternative, DenseLiteral, Number, OneOf, TextPiece

ACTION_TYPE = f"tensor<{tl.CONTROL_ACTION_SIZE}xf64>"
MEM_TYPE = f"tensor<{tl.CONTROL_MEM_SIZE}xf64>"
OBS_TYPE = f"tensor<{tl.CONTROL_OBS_SIZE}xf64>"
# Types a new constant or broadcast may have even before any value of that type exists.
SEED_TYPES = (
    ACTION_TYPE,
    MEM_TYPE,
    OBS_TYPE,
    "tensor<1xf64>",
    f"tensor<{tl.CONTROL_ACTION_SIZE}x{tl.CONTROL_OBS_SIZE}xf64>",
)

NUMBER_RULE = 'number ::= "-"? [0-9] [0-9]? "." [0-9] [0-9]? [0-9]?'
MESSAGE_RULE = "message ::= [a-z] [a-z0-9 _-]{0,40}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@dataclass
class SymbolTable:
    """Values defined so far in @control, in order, with their types."""

    types: dict[str, str] = field(default_factory=lambda: {"%obs": OBS_TYPE, "%mem": MEM_TYPE})

    def names(self, type_: str) -> list[str]:
        return [n for n, t in self.types.items() if t == type_]

    def tensor_types(self, element: str = "f64") -> list[str]:
        seen = []
        for t in self.types.values():
            if shape_of(t) is not None and t.endswith(f"x{element}>") and t not in seen:
                seen.append(t)
        return seen

    def next_name(self) -> str:
        return f"%v{len(self.types) - 2}"


class LineGrammar:
    """Builds the grammar of the next line from the op classes and a symbol table.

    It is also the ``ValueTypes`` that the op classes read: the types defined so far."""

    def __init__(self, symbols: SymbolTable):
        self.s = symbols
        self.rules: dict[str, str] = {}
        self.f64_tensors = symbols.tensor_types()
        self.vectors = [t for t in self.f64_tensors if len(shape_of(t)) == 1]
        self.matrices = [t for t in self.f64_tensors if len(shape_of(t)) == 2]
        self.bool_tensors = symbols.tensor_types("i1")
        self.seed_types = SEED_TYPES

    def _names_rule(self, type_: str) -> str | None:
        names = self.s.names(type_)
        if not names:
            return None
        rule = "val-" + re.sub(r"[^a-z0-9]", "-", type_.lower())
        self.rules[rule] = " | ".join(_quote(n) for n in names)
        return rule

    def _piece(self, piece: TextPiece) -> str:
        if isinstance(piece, str):
            return _quote(piece)
        if isinstance(piece, Number):
            return "number"
        if isinstance(piece, OneOf):
            self.rules[piece.name] = " | ".join(_quote(c) for c in piece.choices)
            return piece.name
        if isinstance(piece, DenseLiteral):
            return self._dense(piece.shape)
        raise TypeError(f"not a piece of op text: {piece!r}")

    def _op(self, spec: tl.OpSpec, alternative: Alternative) -> str | None:
        """The alternative as GBNF, or None when no value has one of its operand types."""
        attributes = [self._piece(p) for p in alternative.attributes]
        types = alternative.operand_types
        rules = [self._names_rule(t) for t in types]
        if any(r is None for r in rules):
            return None
        if rules:
            parts = [_quote(f'"{spec.full_name}"(')]
            for i, rule in enumerate(rules):
                parts += ([_quote(", ")] if i else []) + [rule]
            parts.append(_quote(")"))
        else:
            parts = [_quote(f'"{spec.full_name}"()')]
        parts += attributes
        parts.append(_quote(f" : ({', '.join(types)}) -> {alternative.result_type}"))
        return " ".join(parts)

    def _dense(self, shape) -> str:
        if len(shape) == 1:
            items = ' ", " '.join(["number"] * shape[0])
            return f'"[" {items} "]"'
        rows = ' ", " '.join([self._dense(shape[1:])] * shape[0])
        return f'"[" {rows} "]"'

    def alternatives(self) -> list[str]:
        """One grammar alternative per (op, type combination) that the values allow."""
        out = [
            self._op(semantics.spec, alternative)
            for semantics in ops.ALL
            for alternative in semantics.alternatives(self)
        ]
        out += self._scalar_arith()
        return [a for a in out if a]

    def _scalar_arith(self) -> list[str]:
        out = ['"arith.constant " number " : f64"']
        scalars = self._names_rule("f64")
        if scalars:
            for op in ("addf", "subf", "mulf", "divf", "maximumf", "minimumf"):
                out.append(f'"arith.{op} " {scalars} ", " {scalars} " : f64"')
            out.append(f'"arith.negf " {scalars} " : f64"')
        return out

    def return_alternative(self) -> str | None:
        action, mem = self._names_rule(ACTION_TYPE), self._names_rule(MEM_TYPE)
        if action is None or mem is None:
            return None
        return f'"  return " {action} ", " {mem} {_quote(f" : {ACTION_TYPE}, {MEM_TYPE}")}'

    def text(self, allow_define: bool = True, allow_return: bool = True) -> str:
        """The whole grammar of one line (ending in a newline)."""
        lines = []
        choices = []
        if allow_define:
            ops = self.alternatives()
            lines.append("op ::= " + " | ".join(ops))
            choices.append(f'"  {self.s.next_name()} = " op')
        ret = self.return_alternative() if allow_return else None
        if ret:
            choices.append(ret)
        if not choices:
            raise ValueError("no line can be written: no value of the action type to return")
        root = "root ::= (" + " | ".join(choices) + ') "\\n"'
        rules = [f"{name} ::= {body}" for name, body in self.rules.items()]
        return "\n".join([root] + lines + rules + [NUMBER_RULE, MESSAGE_RULE]) + "\n"


RESULT_TYPE = re.compile(r"->\s*(tensor<[0-9x]+(?:f64|i1)>|f64)\s*$")


def result_type_of(line: str) -> str | None:
    """The type a generated ``%vN = ...`` line defines."""
    line = line.strip()
    if line.startswith("return"):
        return None
    if "arith." in line:
        return "f64"
    match = RESULT_TYPE.search(line)
    return match.group(1) if match else None


def full_grammar_sample() -> str:
    """The first line's grammar, as a sample of what the generator produces."""
    return LineGrammar(SymbolTable()).text()
