"""A pygments lexer for TensorLang (MLIR generic syntax, as the samples write it)."""

from __future__ import annotations

from functools import lru_cache

from pygments.lexer import RegexLexer
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from ..compiler.syntax import SYMBOL_NAME_PATTERN, VALUE_NAME_PATTERN


class TensorLangLexer(RegexLexer):
    name = "TensorLang"
    aliases = ["tensorlang", "mlir"]
    filenames = ["*.mlir"]

    tokens = {
        "root": [
            (r"//.*?$", Comment.Single),
            (r'"(tensorlang\.[a-z_]+)"', Name.Function),
            (r'"[^"]*"', String),
            (r"\b(func\.func|module|return)\b", Keyword),
            (r"\barith\.[a-z_]+\b", Name.Function),
            (SYMBOL_NAME_PATTERN, Name.Function),
            (VALUE_NAME_PATTERN, Name.Variable),
            (r"\b(tensor|f64|i1|i64|i32)\b", Keyword.Type),
            (r"\b(dense|array|loc)\b", Name.Builtin),
            (r"-?\d+\.\d*([eE][-+]?\d+)?", Number.Float),
            (r"-?\d+", Number.Integer),
            (r"->|=|:", Operator),
            (r"[()\[\]{}<>,x]", Punctuation),
            (r"\s+", Whitespace),
            (r"[A-Za-z_][\w.]*", Text),
            (r".", Text),
        ],
    }


# pygments token -> TextArea theme highlight name
HIGHLIGHT_NAMES = [
    (Comment, "comment"),
    (String, "string"),
    (Name.Function, "function"),
    (Name.Variable, "variable"),
    (Keyword.Type, "type.builtin"),
    (Keyword, "keyword"),
    (Name.Builtin, "constant.builtin"),
    (Number, "number"),
    (Operator, "operator"),
]


def highlight_name(token) -> str | None:
    for kind, name in HIGHLIGHT_NAMES:
        if token in kind:
            return name
    return None


_LEXER = TensorLangLexer()


@lru_cache(maxsize=8192)
def line_highlights(line: str) -> tuple[tuple[int, int, str], ...]:
    """(start byte, end byte, highlight name) of each highlighted token of one line, in
    bytes as TextArea's highlight map wants them. Cached by the line's text: an edit
    changes one line, so the others are not lexed again (lexing a whole program on
    every keystroke was most of a keystroke's time)."""
    spans = []
    for index, token, value in _LEXER.get_tokens_unprocessed(line):
        name = highlight_name(token)
        if name:
            start = len(line[:index].encode())
            spans.append((start, start + len(value.encode()), name))
    return tuple(spans)
