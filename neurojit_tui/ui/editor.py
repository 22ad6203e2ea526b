"""The IR editor: Textual's TextArea with TensorLang highlighting and diagnostic markers.

Textual's TextArea highlights with tree-sitter, and there is no tree-sitter grammar for
MLIR to install offline; the pygments lexer in ``lexer.py`` fills the same per-line
highlight map instead. A line with a diagnostic gets a marker in the gutter, between
the line number and the text (● error, ▲ warning), and its text is underlined from the
diagnostic's column on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.reactive import Reactive, reactive
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Selection, TextAreaTheme

from ..compiler.diagnostics import Diagnostic
from .lexer import line_highlights

ERROR_HIGHLIGHT = "diagnostic.error"
WARNING_HIGHLIGHT = "diagnostic.warning"
GUTTER_MARKS = {
    "error": ("●", Style(color="#ff5f5f", bold=True)),
    "warning": ("▲", Style(color="#ffaf00", bold=True)),
}


class TensorLangEditor(TextArea):
    # TextArea's selection repaints the whole editor whenever the cursor moves, which is
    # every keystroke: most of that redraws unchanged lines. Here it repaints
    # nothing itself; ``_watch_selection`` and ``_build_highlight_map`` repaint the rows
    # that can have changed.
    selection: Reactive[Selection] = reactive(
        Selection(), init=False, always_update=True, repaint=False
    )
    error_lines: set[int] = frozenset()  # 0-based lines with an error diagnostic
    marks: dict[int, tuple[str, int]] = {}  # 0-based line -> (severity, 0-based column)
    # (text, highlights, marker) of each row as last highlighted: which rows an edit changed
    _drawn_rows: list[tuple] | None = None

    def __init__(self, text: str = "", **kwargs):
        super().__init__(
            text, show_line_numbers=True, tab_behavior="indent", soft_wrap=False, **kwargs
        )

    def on_mount(self) -> None:
        if not self.theme.startswith("tensorlang-"):
            self.use_syntax_theme("monokai")

    def use_syntax_theme(self, name: str) -> None:
        """One of TextArea's built-in themes, plus the diagnostic styles."""
        base = TextAreaTheme.get_builtin_theme(name) or TextAreaTheme.get_builtin_theme("monokai")
        styles = dict(base.syntax_styles)
        styles[ERROR_HIGHLIGHT] = Style(underline=True, color="#ff5f5f", bold=True)
        styles[WARNING_HIGHLIGHT] = Style(underline=True)
        self.register_theme(
            dataclasses.replace(base, name=f"tensorlang-{base.name}", syntax_styles=styles)
        )
        self.theme = f"tensorlang-{base.name}"

    def show_title(self, title: str) -> None:
        if self.border_title != title:  # setting it, even to the same text, repaints the editor
            self.border_title = title

    def open_program(self, text: str, origin: str) -> None:
        """Replace the buffer with ``text`` as one undoable edit (Ctrl+Z brings it back)."""
        self.replace(text, (0, 0), self.document.end)
        self.notify(f"opened {origin} in the editor (Ctrl+Z undoes)")
        self.focus()

    def go_to(self, diagnostic: Diagnostic) -> None:
        """The cursor to ``diagnostic``'s line and column."""
        self.cursor_location = (max(0, diagnostic.line - 1), max(0, diagnostic.col - 1))
        self.focus()

    def mark_diagnostics(self, diagnostics: Iterable[Diagnostic]) -> None:
        """Mark the lines of these diagnostics."""
        marks: dict[int, tuple[str, int]] = {}
        for d in diagnostics:
            row = d.line - 1
            if row < 0 or d.severity not in GUTTER_MARKS:
                continue
            if row not in marks or (d.severity == "error" and marks[row][0] != "error"):
                marks[row] = (d.severity, max(0, d.col - 1))
        if marks == self.marks:
            return  # typing in a comment re-checks to the same result: nothing to redraw
        self.marks = marks
        self.error_lines = {row for row, (severity, _) in marks.items() if severity == "error"}
        self._build_highlight_map()  # repaints the rows whose marker changed

    def _watch_selection(self, previous_selection: Selection, selection: Selection) -> None:
        bracket_before = self._matching_bracket_location
        super()._watch_selection(previous_selection, selection)
        if not self.is_mounted:
            return
        if self.soft_wrap:  # rows and screen lines differ: repaint it all, as TextArea does
            self.refresh()
            return
        # the rows the old and the new selection cover (cursor, cursor-line highlight,
        # selected text), and the old and the new matching bracket
        for chosen in (previous_selection, selection):
            top, bottom = sorted((chosen.start[0], chosen.end[0]))
            self.refresh_lines(top, bottom - top + 1)
        for bracket in (bracket_before, self._matching_bracket_location):
            if bracket is not None:
                self.refresh_lines(bracket[0])

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
        """Fill TextArea's per-line highlight map from the lexer, plus the diagnostic
        underlines; then drop the rendered lines this made stale.

        TextArea calls this after every edit and, with tree-sitter, clears its whole
        line cache here, so each keystroke re-rendered every visible line (most of a
        keystroke's time). Its cache keys name the document row (not the
        text), so when the rows keep their places (an edit within a line, new
        diagnostics) only the rows whose text, highlights or marker changed are dropped."""
        rows = [
            (line, line_highlights(line), self.marks.get(row))
            for row, line in enumerate(self.document.lines)
        ]
        previous = self._drawn_rows
        if previous is not None and len(previous) == len(rows) and not self.soft_wrap:
            changed = {row for row, (old, new) in enumerate(zip(previous, rows)) if old != new}
            if changed:  # the key's third item is the document row (soft_wrap is off)
                for key in [key for key in self._line_cache.keys() if key[2] in changed]:
                    self._line_cache.discard(key)
            if self.is_mounted:
                for row in changed:
                    self.refresh_lines(row)
        else:
            self._line_cache.clear()
            if self.is_mounted:
                self.refresh()
        self._drawn_rows = rows
        highlights = self._highlights
        highlights.clear()
        for row, (line, spans, mark) in enumerate(rows):
            highlights[row].extend(spans)
            if mark is not None:
                severity, column = mark
                start = len(line[:column].encode())
                highlights[row].append(
                    (start, None, ERROR_HIGHLIGHT if severity == "error" else WARNING_HIGHLIGHT)
                )
