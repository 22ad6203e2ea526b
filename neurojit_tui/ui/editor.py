"""The IR editor: Textual's TextArea with TensorLang highlighting and error marks.

Textual's TextArea highlights with tree-sitter, and there is no tree-sitter grammar for
MLIR to install offline; the pygments lexer in ``lexer.py`` fills the same per-line
highlight map instead. Lines with an error diagnostic get the ``diagnostic.error`` style
over their whole text (the "gutter marker": line numbers stay, the line turns red).
"""

from __future__ import annotations

import dataclasses

from rich.style import Style
from textual.widgets import TextArea
from textual.widgets.text_area import TextAreaTheme

from .lexer import TensorLangLexer, highlight_name

ERROR_HIGHLIGHT = "diagnostic.error"


class TensorLangEditor(TextArea):
    _lexer = TensorLangLexer()  # a class attribute: TextArea highlights during __init__
    error_lines: set[int] = frozenset()  # 0-based lines with an error diagnostic

    def __init__(self, text: str = "", **kwargs):
        super().__init__(text, show_line_numbers=True, tab_behavior="indent", soft_wrap=False,
                         **kwargs)

    def on_mount(self) -> None:
        base = TextAreaTheme.get_builtin_theme("monokai")
        styles = dict(base.syntax_styles)
        styles[ERROR_HIGHLIGHT] = Style(bgcolor="#5f0000", underline=True)
        self.register_theme(dataclasses.replace(base, name="tensorlang", syntax_styles=styles))
        self.theme = "tensorlang"

    def mark_errors(self, lines: set[int]) -> None:
        """Mark these 0-based lines as having errors (and repaint)."""
        self.error_lines = set(lines)
        self._build_highlight_map()
        self.refresh()

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
            if row in self.error_lines:
                highlights[row].append((0, None, ERROR_HIGHLIGHT))
