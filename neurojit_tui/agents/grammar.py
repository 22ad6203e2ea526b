"""GBNF grammars for TensorLang, generated from the dialect table (``dialect.OPS``).

The synthesis agent writes a program one line at a time. Before each line the grammar
is generated anew from the op table *and the values defined so far*, so a sampled line
can only use a value that exists, with the type it has, in an op whose operand and
result types fit (same-type elementwise operands, matvec/matmul shapes, slice bounds,
extract indices). Every sampled program therefore parses, and most verify; the compiler
and the repair loop handle the rest.

A line is either ``%vN = <op>`` (N is chosen by us, so names never clash) or the final
``return <action>, <mem>``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from ..compiler import dialect as tl

ACTION_TYPE = f"tensor<{tl.CONTROL_ACTION_SIZE}xf64>"
MEM_TYPE = f"tensor<{tl.CONTROL_MEM_SIZE}xf64>"
OBS_TYPE = f"tensor<{tl.CONTROL_OBS_SIZE}xf64>"
# Types a new constant or broadcast may have even before any value of that type exists.
SEED_TYPES = (ACTION_TYPE, MEM_TYPE, OBS_TYPE, f"tensor<1xf64>",
              f"tensor<{tl.CONTROL_ACTION_SIZE}x{tl.CONTROL_OBS_SIZE}xf64>")
MAX_SLICE_SOURCE = 8  # slices are enumerated (offset, size) pairs, so keep sources small
MAX_CONCAT = 16

NUMBER_RULE = 'number ::= "-"? [0-9] [0-9]? "." [0-9] [0-9]? [0-9]?'
MESSAGE_RULE = 'message ::= [a-z] [a-z0-9 _-]{0,40}'


def shape_of(type_: str) -> tuple[int, ...] | None:
    """(2, 8) for tensor<2x8xf64>; None for a scalar."""
    match = re.fullmatch(r"tensor<((?:\d+x)+)(f64|i1)>", type_)
    if not match:
        return None
    return tuple(int(d) for d in match.group(1).rstrip("x").split("x"))


def tensor_type(shape, element: str = "f64") -> str:
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


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
    """Builds the grammar of the next line from the op table and a symbol table."""

    def __init__(self, symbols: SymbolTable):
        self.s = symbols
        self.rules: dict[str, str] = {}

    def _names_rule(self, type_: str) -> str | None:
        names = self.s.names(type_)
        if not names:
            return None
        rule = "val-" + re.sub(r"[^a-z0-9]", "-", type_.lower())
        self.rules[rule] = " | ".join(_quote(n) for n in names)
        return rule

    def _op(self, spec: tl.OpSpec, operands: list[str], types: list[str], result: str,
            attributes: str = "") -> str | None:
        rules = [self._names_rule(t) for t in operands]
        if any(r is None for r in rules):
            return None
        parts = [_quote(f'"{spec.full_name}"(')]
        for i, rule in enumerate(rules):
            parts += ([_quote(", ")] if i else []) + [rule]
        parts.append(_quote(")"))
        if attributes:
            parts.append(attributes)
        parts.append(_quote(f" : ({', '.join(types)}) -> {result}"))
        return " ".join(parts)

    def _dense(self, shape) -> str:
        if len(shape) == 1:
            items = ' ", " '.join(["number"] * shape[0])
            return f'"[" {items} "]"'
        rows = ' ", " '.join([self._dense(shape[1:])] * shape[0])
        return f'"[" {rows} "]"'

    def alternatives(self) -> list[str]:
        """One grammar alternative per (op, type combination) that the values allow."""
        out: list[str] = []
        f64_tensors = self.s.tensor_types()
        vectors = [t for t in f64_tensors if len(shape_of(t)) == 1]
        matrices = [t for t in f64_tensors if len(shape_of(t)) == 2]
        for spec in tl.OPS:
            rule = spec.shape_rule
            if rule == tl.ELEMENTWISE:
                for t in f64_tensors:
                    out.append(self._op(spec, [t] * len(spec.operands), [t] * len(spec.operands), t))
            elif rule == tl.CLAMP:
                attrs = '" {lo = " number " : f64, hi = " number " : f64}"'
                for t in f64_tensors:
                    out.append(self._op(spec, [t], [t], t, attrs))
            elif rule == tl.CONSTANT:
                for t in dict.fromkeys(f64_tensors + list(SEED_TYPES)):
                    shape = shape_of(t)
                    if shape[0] * (shape[1] if len(shape) > 1 else 1) <= 32:
                        value = f'" {{value = dense<" {self._dense(shape)} "> : {t}}}"'
                        out.append(f'{_quote(chr(34) + spec.full_name + chr(34) + "()")} {value} '
                                   f'{_quote(f" : () -> {t}")}')
            elif rule == tl.MATVEC:
                for m in matrices:
                    rows, cols = shape_of(m)
                    v = tensor_type((cols,))
                    out.append(self._op(spec, [m, v], [m, v], tensor_type((rows,))))
            elif rule == tl.MATMUL:
                for a, b in itertools.product(matrices, matrices):
                    if shape_of(a)[1] == shape_of(b)[0]:
                        out.append(self._op(spec, [a, b], [a, b],
                                            tensor_type((shape_of(a)[0], shape_of(b)[1]))))
            elif rule == tl.DOT:
                for v in vectors:
                    out.append(self._op(spec, [v, v], [v, v], "f64"))
            elif rule == tl.REDUCE:
                for t in f64_tensors:
                    out.append(self._op(spec, [t], [t], "f64"))
            elif rule == tl.EXTRACT:
                for v in vectors:
                    for i in range(shape_of(v)[0]):
                        out.append(self._op(spec, [v], [v], "f64", _quote(f" {{index = array<i64: {i}>}}")))
            elif rule == tl.SLICE:
                for v in vectors:
                    n = shape_of(v)[0]
                    if n > MAX_SLICE_SOURCE:
                        continue
                    for offset in range(n):
                        for size in range(1, n - offset + 1):
                            attrs = _quote(f" {{offsets = array<i64: {offset}>, sizes = array<i64: {size}>}}")
                            out.append(self._op(spec, [v], [v], tensor_type((size,)), attrs))
            elif rule == tl.CONCAT:
                for a, b in itertools.product(vectors, vectors):
                    total = shape_of(a)[0] + shape_of(b)[0]
                    if total <= MAX_CONCAT:
                        out.append(self._op(spec, [a, b], [a, b], tensor_type((total,))))
            elif rule == tl.BROADCAST:
                for t in dict.fromkeys(f64_tensors + list(SEED_TYPES)):
                    out.append(self._op(spec, ["f64"], ["f64"], t))
            elif rule == tl.COMPARE:
                predicates = " | ".join(_quote(p) for p in tl.COMPARE_PREDICATES)
                self.rules["predicate"] = predicates
                for t in f64_tensors:
                    attrs = f'" {{predicate = \\"" predicate "\\"}}"'
                    out.append(self._op(spec, [t, t], [t, t], tensor_type(shape_of(t), "i1"), attrs))
            elif rule == tl.SELECT:
                for c in self.s.tensor_types("i1"):
                    t = tensor_type(shape_of(c))
                    out.append(self._op(spec, [c, t, t], [c, t, t], t))
            # ASSERT has no result: a synthesized controller does not add asserts.
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
