"""What the language server knows about a TensorLang file without compiling it.

A lexical reading of the text, line by line: the functions, the SSA values each defines
(with the type its line declares and the op that made it), every use of a value, and
what sits under a position. It runs in the server's own process on every request, so it
must be quick and must never fail on half-typed text; whether the program is *valid* is
the compiler's business (diagnostics come from it, in another process).

Positions here are 0-based lines and 0-based columns in code points (Python string
indices); the server converts to and from the client's units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..compiler.dialect import COMPARE_PREDICATES, DIALECT_NAME, OPS_BY_NAME, OpSpec
from ..compiler.syntax import BARE_ID, PARTIAL_VALUE_NAME, VALUE_NAME, VALUE_NAME_PATTERN

SSA_NAME = VALUE_NAME
# The results of an op: "%a = ", "%a, %b = " or "%a:2 = " at the start of a line.
_RESULT = rf"{VALUE_NAME_PATTERN}(?::\d+)?"
_RESULTS = re.compile(rf"^\s*((?:{_RESULT}\s*,\s*)*{_RESULT})\s*=(?!=)")
_FUNC = re.compile(rf"\bfunc\.func\s+(?:(?:private|public|nested)\s+)?@({BARE_ID})\s*\(")
_OP_AFTER_EQUALS = re.compile(r'=\s*(?:"([\w.$\-]+)"|([a-z_][\w$]*\.[\w.$]+))')
_QUOTED_OP = re.compile(r'"([a-z_][\w$]*\.[\w.$]+)"')
_BARE_OP = re.compile(r"\b([a-z_][\w$]*\.[a-z_][\w.$]*)")
_WORD = re.compile(r"[\w$.\-]+")
# ops whose custom syntax names the operand type, not the result type
_BOOLEAN_RESULT_OPS = {"arith.cmpf", "arith.cmpi"}


@dataclass(frozen=True)
class Span:
    """A range on one line: [start, end) in code points."""

    line: int
    start: int
    end: int

    def contains(self, line: int, column: int) -> bool:
        return self.line == line and self.start <= column <= self.end


@dataclass
class Value:
    """An SSA value: a function argument or an op's result."""

    name: str  # with its "%"
    type: str  # as written, e.g. "tensor<2xf64>"; "" when the line does not say
    span: Span  # where it is defined
    origin: str  # "argument 1 of @control" or the op, e.g. "tensorlang.matvec"

    @property
    def is_argument(self) -> bool:
        return self.origin.startswith("argument")


@dataclass
class Function:
    name: str  # without "@"
    name_span: Span
    first_line: int
    last_line: int  # the line before the next function, or the file's last line
    values: dict[str, Value] = field(default_factory=dict)
    uses: list[tuple[str, Span]] = field(default_factory=list)
    signature: str = ""  # "(tensor<8xf64>, tensor<4xf64>) -> (...)"

    def contains(self, line: int) -> bool:
        return self.first_line <= line <= self.last_line

    def occurrences(self, name: str) -> list[Span]:
        """The definition (first) and every use of ``name`` in this function."""
        spans = [self.values[name].span] if name in self.values else []
        return spans + [span for used, span in self.uses if used == name]


def _outside_strings(text: str):
    """(index, character) of the characters of ``text`` that are not part of a string
    literal (quotes included), whose contents may hold any bracket or ``//``."""
    in_string = escaped = False
    for i, c in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        else:
            yield i, c


def strip_comment(line: str) -> str:
    """The line without its ``//`` comment."""
    for i, c in _outside_strings(line):
        if c == "/" and line.startswith("//", i):
            return line[:i]
    return line


def _top_level(text: str):
    """(index, character) of the characters of ``text`` outside brackets and strings, and
    (index, "->") for an arrow: its ``>`` closes nothing."""
    depth = 0
    arrow_end = -1
    for i, c in _outside_strings(text):
        if i == arrow_end:
            continue
        if text.startswith("->", i):
            arrow_end = i + 1
            if depth == 0:
                yield i, "->"
        elif c in "([{<":
            depth += 1
        elif c in ")]}>":
            depth = max(0, depth - 1)
        elif depth == 0:
            yield i, c


def split_top_level(text: str, separator: str = ",") -> list[str]:
    parts, start = [], 0
    for i, c in _top_level(text):
        if c == separator:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def result_types(statement: str, op: str) -> list[str]:
    """The result types a statement declares: after the last top-level ``->`` of its
    trailing function type (generic syntax), else its trailing ``: type`` (custom syntax:
    ``arith.constant 1.0 : f64``, ``arith.uitofp %x : i64 to f64``)."""
    marks = list(_top_level(statement))
    colons = [i for i, c in marks if c == ":"]
    if not colons:
        return []
    trailing = statement[colons[-1] + 1 :].strip()
    arrows = [i for i, c in _top_level(trailing) if c == "->"]
    if arrows:
        results = trailing[arrows[-1] + 2 :].strip()
        if results.startswith("(") and results.endswith(")"):
            results = results[1:-1]
        return split_top_level(results)
    if op in _BOOLEAN_RESULT_OPS:
        return ["i1"]
    if " to " in trailing:
        trailing = trailing.rsplit(" to ", 1)[1]
    return [trailing] if trailing else []


def _arguments(line: str, open_paren: int) -> tuple[list[tuple[str, str, int]], int]:
    """(name, type, column) of each argument in a ``func.func`` header from the ``(`` at
    ``open_paren``, and the column after its closing ``)`` (or the line's end)."""
    depth, end = 0, len(line)
    for i in range(open_paren, len(line)):
        if line[i] in "(<[{":
            depth += 1
        elif line[i] in ")>]}" and not line.startswith("->", i - 1):
            depth -= 1
            if depth == 0:
                end = i
                break
    found = []
    offset = open_paren + 1
    for part in split_top_level(line[offset:end]):
        start = line.find(part, offset)
        name, _, type_ = part.partition(":")
        name = name.strip()
        if SSA_NAME.fullmatch(name):
            found.append((name, type_.strip(), start + (len(part) - len(part.lstrip()))))
        offset = start + len(part)
    return found, end + 1


@dataclass
class Analysis:
    """One reading of a document's text."""

    lines: list[str]
    functions: list[Function]

    @classmethod
    def of(cls, text: str) -> Analysis:
        lines = text.split("\n")
        functions: list[Function] = []
        for number, raw in enumerate(lines):
            line = strip_comment(raw)
            header = _FUNC.search(line)
            if header:
                if functions:
                    functions[-1].last_line = number - 1
                function = Function(
                    header.group(1),
                    Span(number, header.start(1) - 1, header.end(1)),
                    number,
                    len(lines) - 1,
                )
                arguments, after = _arguments(line, header.end() - 1)
                for k, (name, type_, column) in enumerate(arguments):
                    function.values.setdefault(
                        name,
                        Value(
                            name,
                            type_,
                            Span(number, column, column + len(name)),
                            f"argument {k + 1} of @{function.name}",
                        ),
                    )
                results = line[after:].strip()
                function.signature = (
                    "("
                    + ", ".join(t for _, t, _ in arguments)
                    + ")"
                    + (" " + results.rstrip("{").strip() if results else "")
                )
                functions.append(function)
                defined = {v.span for v in function.values.values()}
                cls._uses(function, number, line, defined)
                continue
            if not functions:
                continue
            function = functions[-1]
            defined: set[Span] = set()
            results = _RESULTS.match(line)
            if results:
                op_match = _OP_AFTER_EQUALS.search(line, results.end() - 1)
                op = (op_match.group(1) or op_match.group(2)) if op_match else ""
                names = [n.strip().split(":")[0] for n in results.group(1).split(",")]
                types = result_types(line[results.end() :], op)
                if len(names) == 1 and len(types) > 1:
                    types = ["(" + ", ".join(types) + ")"]
                column = 0
                for k, name in enumerate(names):
                    column = line.index(name, column)
                    span = Span(number, column, column + len(name))
                    column = span.end
                    defined.add(span)
                    function.values.setdefault(
                        name, Value(name, types[k] if k < len(types) else "", span, op or "an op")
                    )
            cls._uses(function, number, line, defined)
        return cls(lines, functions)

    @staticmethod
    def _uses(function: Function, number: int, line: str, defined: set[Span]) -> None:
        for match in SSA_NAME.finditer(line):
            span = Span(number, match.start(), match.end())
            if span not in defined:
                function.uses.append((match.group(), span))

    # -- what is where ----------------------------------------------------------------

    def function_at(self, line: int) -> Function | None:
        return next((f for f in self.functions if f.contains(line)), None)

    def value_at(self, line: int, column: int) -> tuple[Function, str] | None:
        """The function and the SSA name under (line, column), if any."""
        if not 0 <= line < len(self.lines):
            return None
        text = strip_comment(self.lines[line])
        function = self.function_at(line)
        for match in SSA_NAME.finditer(text):
            if match.start() <= column <= match.end() and function is not None:
                return function, match.group()
        return None

    def op_at(self, line: int, column: int) -> str | None:
        """The op name (``tensorlang.clamp``, ``arith.addf``...) under (line, column)."""
        if not 0 <= line < len(self.lines):
            return None
        text = strip_comment(self.lines[line])
        for pattern in (_QUOTED_OP, _BARE_OP):
            for match in pattern.finditer(text):
                if match.start() <= column <= match.end() and not text[: match.start(1)].endswith(
                    "%"
                ):
                    return match.group(1)
        return None

    def values_before(self, line: int) -> list[Value]:
        """The values in scope on ``line``: the function's arguments and every value
        defined on an earlier line (SSA values are usable after their definition)."""
        function = self.function_at(line)
        if function is None:
            return []
        return [v for v in function.values.values() if v.is_argument or v.span.line < line]


def token_end(line: str, column: int) -> int:
    """Where the token that starts at ``column`` ends: a name, a quoted string, or one
    character (a diagnostic's range runs over the token it points at)."""
    if column >= len(line):
        return column
    if line[column] == '"':
        close = line.find('"', column + 1)
        return close + 1 if close > 0 else len(line)
    match = _WORD.match(line, column + 1 if line[column] in "%@^#!" else column)
    return match.end() if match and match.end() > column else column + 1


# -- the dialect table, for hover and completion ----------------------------------------------


def op_spec(name: str) -> OpSpec | None:
    return OPS_BY_NAME.get(name)


def op_signature(spec: OpSpec) -> str:
    operands = ", ".join(f"%{n}: {k}" for n, k in spec.operands)
    results = ", ".join(f"{n}: {k}" for n, k in spec.results) or "()"
    attributes = ", ".join(f"{n}: {k}" for n, k in spec.attributes)
    return (
        f'"{spec.full_name}"({operands})'
        + (f" {{{attributes}}}" if attributes else "")
        + f" -> {results}"
    )


_KIND_MEANING = {
    "T": "a tensor, the same type as every other T of the op",
    "tensor": "a tensor of f64 (i1 for comparisons)",
    "f64": "an f64 scalar",
    "any": "an i1 or a tensor of i1",
    "float": "a float, e.g. 1.0 : f64",
    "string": 'a string, e.g. "lt"',
    "i64_array": "array<i64: ...>",
    "dense": "dense<...> : tensor<...xf64>",
}


def op_documentation(spec: OpSpec) -> str:
    """Markdown for a hover or a completion item, from the dialect table."""
    parts = [f"```mlir\n{op_signature(spec)}\n```", spec.summary]
    if spec.operands:
        parts.append(
            "Operands: " + "; ".join(f"`{n}` {_KIND_MEANING[k]}" for n, k in spec.operands)
        )
    if spec.attributes:
        parts.append(
            "Attributes: " + "; ".join(f"`{n}` {_KIND_MEANING[k]}" for n, k in spec.attributes)
        )
    parts.append(
        "Results: " + ("; ".join(f"`{n}` {_KIND_MEANING[k]}" for n, k in spec.results) or "none")
    )
    return "\n\n".join(parts)


def attribute_template(name: str, kind: str, stop: int) -> str:
    """``name = value`` as an LSP snippet with tab stop ``stop`` on the value."""
    if kind == "float":
        return f"{name} = ${{{stop}:{'-1.0' if name == 'lo' else '1.0'}}} : f64"
    if kind == "string" and name == "predicate":
        return f'{name} = "${{{stop}|{",".join(COMPARE_PREDICATES)}|}}"'
    if kind == "string":
        return f'{name} = "${{{stop}:{name}}}"'
    if kind == "i64_array":
        return f"{name} = array<i64: ${{{stop}:0}}>"
    return f"{name} = dense<${{{stop}:0.0}}> : tensor<${{{stop + 1}:1}}xf64>"


def op_template(spec: OpSpec) -> str:
    """The whole op as an LSP snippet: operands, attributes and the function type, with a
    tab stop per blank; every ``T`` of the op shares one tab stop, so its type is typed
    once (IRDL requires them equal)."""
    stop = 0

    def next_stop() -> int:
        nonlocal stop
        stop += 1
        return stop

    operands = ", ".join(f"${{{next_stop()}:%{n}}}" for n, _ in spec.operands)
    attributes = []
    for name, kind in spec.attributes:
        attributes.append(attribute_template(name, kind, next_stop()))
        if kind == "dense":
            next_stop()
    shared = None

    def type_of(kind: str) -> str:
        nonlocal shared
        if kind == "f64":
            return "f64"
        if kind == "T":
            if shared is None:
                shared = next_stop()
                return f"${{{shared}:tensor<2xf64>}}"
            return f"${shared}"
        return f"${{{next_stop()}:{'i1' if kind == 'any' else 'tensor<2xf64>'}}}"

    inputs = ", ".join(type_of(k) for _, k in spec.operands)
    results = [type_of(k) for _, k in spec.results]
    result = results[0] if len(results) == 1 else "(" + ", ".join(results) + ")"
    text = f'"{spec.full_name}"({operands})'
    if attributes:
        text += " {" + ", ".join(attributes) + "}"
    return text + f" : ({inputs}) -> {result}"


def _open_brace(code: str) -> int | None:
    """Where the ``{`` still open at the end of ``code`` is, if any."""
    opened: list[int] = []
    for i, c in _outside_strings(code):
        if c == "{":
            opened.append(i)
        elif c == "}" and opened:
            opened.pop()
    return opened[-1] if opened else None


def completion_context(prefix: str) -> tuple[str, str]:
    """What the text before the cursor (on its line) asks for, and the partial word:
    ("value", "%ga"), ("attribute", "tensorlang.clamp"), ("predicate", ""),
    ("op", "tensorlang.ma") or ("none", "")."""
    code = strip_comment(prefix)
    if code != prefix:
        return "none", ""  # in a comment
    value = re.search(rf"{PARTIAL_VALUE_NAME.pattern}$", code)
    if value:
        return "value", value.group()
    if re.search(r'predicate\s*=\s*"\w*$', code):
        return "predicate", ""
    if code.count('"') % 2 == 1:  # inside a string: an op name being typed
        partial = code[code.rfind('"') + 1 :]
        return ("op", partial) if re.fullmatch(r"[\w.]*", partial) else ("none", "")
    brace = _open_brace(code)
    if brace is not None:
        op = _QUOTED_OP.search(code, 0, brace)
        if op and re.fullmatch(r"(.*[{,])?\s*\w*", code[brace:]):
            return "attribute", op.group(1)
        return "none", ""
    if re.fullmatch(rf"\s*({_RESULT}\s*(,\s*{VALUE_NAME_PATTERN}\s*)*=\s*)?[\w.]*", code):
        return "op", re.search(r"[\w.]*$", code).group()
    return "none", ""


def trailing_word(text: str) -> str:
    return re.search(r"\w*$", text).group()


def tensorlang_ops() -> list[OpSpec]:
    return [spec for name, spec in OPS_BY_NAME.items() if name.startswith(DIALECT_NAME + ".")]
