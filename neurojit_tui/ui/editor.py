"""The IR editor: Textual's TextArea with TensorLang highlighting and diagnostic markers.

Textual's TextArea highlights with tree-sitter, and there is no tree-sitter grammar for
MLIR to install offline; the pygments lexer in ``lexer.py`` fills the same per-line
highlight map instead. A line with a diagnostic gets a marker in the gutter, between
the line number and the text (● error, ▲ warning), and its text is underlined from the
diagnostic's column on.
"""

from __future__ import annotations

import dataclasses

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import TextAreaTheme

from .lexer import TensorLangLexer, highlight_name

ERROR_HIGHLIGHT = "diagnostic.error"
WARNING_HIGHLIGHT = "diagnostic.warning"
GUTTER_MARKS = {"error": ("●", Style(color="#ff5f5f", bold=True)),
                "warning": ("▲", Style(color="#ffaf00", bold=True))}


class TensorLangEditor(TextArea):
    _lexer = TensorLangLexer()  # a class attribute: TextArea highlights during __init__
    error_lines: set[int] = frozenset()  # 0-based lines with an error diagnostic
    marks: dict[int, tuple[str, int]] = {}  # 0-based line -> (severity, 0-based column)

    def __init__(self, text: str = "", **kwargs):
        super().__init__(text, show_line_numbers=True, tab_behavior="indent", soft_wrap=False,
                         **kwargs)

    def on_mount(self) -> None:
        if not self.theme.startswith("tensorlang-"):
            self.use_syntax_theme("monokai")

    def use_syntax_theme(self, name: str) -> None:
        """One of TextArea's built-in themes, plus the diagnostic styles."""
        base = TextAreaTheme.get_builtin_theme(name) or TextAreaTheme.get_builtin_theme("monokai")
        styles = dict(base.syntax_styles)
        styles[ERROR_HIGHLIGHT] = Style(underline=True, color="#ff5f5f", bold=True)
        styles[WARNING_HIGHLIGHT] = Style(underline=True)
        self.register_theme(dataclasses.replace(base, name=f"tensorlang-{base.name}",
                                                syntax_styles=styles))
        self.theme = f"tensorlang-{base.name}"

    def mark_diagnostics(self, diagnostics: list[dict]) -> None:
        """Mark the lines of these diagnostics (``Diagnostic.to_json()`` dicts)."""
        marks: dict[int, tuple[str, int]] = {}
        for d in diagnostics:
            row = d["line"] - 1
            if row < 0 or d["severity"] not in GUTTER_MARKS:
                continue
            if row not in marks or (d["severity"] == "error" and marks[row][0] != "error"):
                marks[row] = (d["severity"], max(0, d["col"] - 1))
        self.marks = marks
        self.error_lines = {row for row, (severity, _) in marks.items() if severity == "error"}
        self._build_highlight_map()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if not self.marks or not self.show_line_numbers or self.soft_wrap:
            return strip
        mark = self.marks.get(y + self.scroll_offset.y)
        if mark is None:
            return strip
        # the gutter is "<number>  ": the marker takes the first of its two spaces
        at = self.gutter_width - 2
        symbol, style = GUTTER_MARKS[mark[0]]
        number, _, text = strip.divide([at, at + 1, strip.cell_length])
        return Strip.join([number, Strip([Segment(symbol, style)], 1), text])

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        for row, line in enumerate(self.text.split("\n")):
            for index, token, value in self._lexer.get_tokens_unprocessed(line):
                name = highlight_name(token)
                if name:  # offsets are in bytes, as TextArea's map wants them
                    start = len(line[:index].encode())
                    highlights[row].append((start, start + len(value.encode()), name))
            mark = self.marks.get(row)
            if mark is not None:
                severity, column = mark
                start = len(line[:column].encode())
                highlights[row].append((start, None, ERROR_HIGHLIGHT if severity == "error"
                                        else WARNING_HIGHLIGHT))
