"""``neurojit lsp``: a language server for TensorLang, on stdin and stdout (pygls 2).

* diagnostics on open and on change, from the real compiler (parse, IRDL, the semantic
  verifier), with the same line:col, message and notes as ``neurojit check``; the compiler
  runs in the engine process (``checker.py``), never in this one;
* hover: an op's documentation from the dialect table, a value's type and origin;
* completion: ops with their operand, attribute and type templates (snippets), the SSA
  values in scope with their types, an op's attribute names, comparison predicates;
* go to definition and find references for SSA values; document symbols (functions and
  the values they define).

Everything but diagnostics comes from ``analysis.py``, a lexical reading of the text that
answers at once and never fails on half-typed programs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..compiler.dialect import COMPARE_PREDICATES
from . import analysis
from .analysis import Analysis, Span, Value
from .checker import EngineChecker

SERVER_NAME = "neurojit-tensorlang"
DEBOUNCE_S = 0.15  # a check waits this long after the last change: typing does not queue checks
SOURCE = "neurojit"
_SEVERITIES = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "note": lsp.DiagnosticSeverity.Information,
    "remark": lsp.DiagnosticSeverity.Hint,
}


# -- positions -----------------------------------------------------------------------------
# The analysis counts code points on lines split at "\n", as MLIR numbers lines; the client
# counts in the encoding agreed at initialization (UTF-16 unless it offers another).


def _units(text: str, encoding: str) -> int:
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == lsp.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def to_client_column(line: str, column: int, encoding: str) -> int:
    return _units(line[:column], encoding)


def from_client_column(line: str, units: int, encoding: str) -> int:
    column = 0
    while column < len(line) and _units(line[: column + 1], encoding) <= units:
        column += 1
    return column


def mlir_column(line: str, column: int) -> int:
    """MLIR's 1-based column counts bytes of UTF-8; the code-point column (0-based)."""
    return len(line.encode("utf-8")[: max(column - 1, 0)].decode("utf-8", "ignore"))


class Document:
    """One open document as the features see it: its text and its analysis."""

    def __init__(self, uri: str, text: str, version: int | None, encoding: str):
        self.uri = uri
        self.text = text
        self.version = version
        self.encoding = encoding
        self.lines = [line.rstrip("\r") for line in text.split("\n")]
        self.analysis = Analysis.of(text)

    def line(self, number: int) -> str:
        return self.lines[number] if 0 <= number < len(self.lines) else ""

    def position(self, line: int, column: int) -> lsp.Position:
        return lsp.Position(line, to_client_column(self.line(line), column, self.encoding))

    def range(self, span: Span) -> lsp.Range:
        return lsp.Range(self.position(span.line, span.start), self.position(span.line, span.end))

    def location(self, span: Span) -> lsp.Location:
        return lsp.Location(self.uri, self.range(span))

    def at(self, position: lsp.Position) -> tuple[int, int]:
        """(line, code-point column) of a client position."""
        return position.line, from_client_column(
            self.line(position.line), position.character, self.encoding
        )

    def diagnostic(self, found, path: str) -> lsp.Diagnostic:
        """A compiler ``Diagnostic`` on this document; its notes become related
        information (and stay in the message, which every editor shows)."""
        span = self._span(found.line, found.col)
        related = [
            lsp.DiagnosticRelatedInformation(
                self.location(self._span(note.line, note.col) if note.file == path else span),
                note.message,
            )
            for note in found.notes
        ]
        message = found.message + "".join(
            f"\nnote: {note.line}:{note.col}: {note.message}"
            if note.line
            else f"\nnote: {note.message}"
            for note in found.notes
        )
        return lsp.Diagnostic(
            self.range(span),
            message,
            severity=_SEVERITIES.get(found.severity, lsp.DiagnosticSeverity.Error),
            source=SOURCE,
            related_information=related or None,
        )

    def _span(self, line: int, col: int) -> Span:
        """The token that a 1-based MLIR line:col points at (line 0: the file's start)."""
        number = max(line - 1, 0)
        text = self.line(number)
        start = mlir_column(text, col) if line else 0
        return Span(number, start, analysis.token_end(text, start))


# -- the server ----------------------------------------------------------------------------


class TensorLangServer(LanguageServer):
    def __init__(self, checker=None):
        super().__init__(
            SERVER_NAME, __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental
        )
        self.checker = checker or EngineChecker(log=self.log)
        self._checks: dict[str, asyncio.Task] = {}
        self._documents: dict[str, Document] = {}

    def log(self, message: str) -> None:
        self.window_log_message(lsp.LogMessageParams(lsp.MessageType.Info, message))

    @property
    def encoding(self) -> str:
        return self.server_capabilities.position_encoding or lsp.PositionEncodingKind.Utf16

    def document(self, uri: str) -> Document:
        """The document's text and analysis, read again only when its version changed."""
        text_document = self.workspace.get_text_document(uri)
        known = self._documents.get(uri)
        if known is None or known.version != text_document.version or known.version is None:
            known = Document(uri, text_document.source, text_document.version, self.encoding)
            self._documents[uri] = known
        return known

    # -- diagnostics ---------------------------------------------------------------------

    def schedule_check(self, uri: str, delay: float = DEBOUNCE_S) -> None:
        previous = self._checks.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self._checks[uri] = asyncio.ensure_future(self._check(uri, delay))

    async def _check(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        document = self.document(uri)
        path = to_fs_path(uri) or uri
        found = await asyncio.to_thread(self.checker.check, document.text, path)
        current = self.workspace.text_documents.get(uri)
        if current is None or current.version != document.version:
            return  # closed or changed meanwhile (a change has its own check on the way)
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(
                uri, [document.diagnostic(d, path) for d in found], version=document.version
            )
        )

    def forget(self, uri: str) -> None:
        task = self._checks.pop(uri, None)
        if task is not None:
            task.cancel()
        self._documents.pop(uri, None)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))


def _hover_value(function, value: Value) -> str:
    where = (
        value.origin
        if value.is_argument
        else f"the result of `{value.origin}` on line {value.span.line + 1}"
    )
    type_ = value.type or "(type not written on its line)"
    return f"```mlir\n{value.name} : {type_}\n```\n{where} in `@{function.name}`"


def _value_item(value: Value, replace: lsp.Range) -> lsp.CompletionItem:
    return lsp.CompletionItem(
        value.name,
        kind=lsp.CompletionItemKind.Variable,
        detail=value.type,
        documentation=value.origin,
        filter_text=value.name,
        text_edit=lsp.TextEdit(replace, value.name),
    )


def _op_item(spec, replace: lsp.Range, quoted: bool) -> lsp.CompletionItem:
    template = analysis.op_template(spec)
    if quoted:  # the opening quote is typed already
        template = template[1:]
    return lsp.CompletionItem(
        spec.full_name,
        kind=lsp.CompletionItemKind.Function,
        detail=analysis.op_signature(spec),
        documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, analysis.op_documentation(spec)),
        insert_text_format=lsp.InsertTextFormat.Snippet,
        filter_text=spec.full_name,
        text_edit=lsp.TextEdit(replace, template),
    )


def completions(document: Document, line: int, column: int) -> list[lsp.CompletionItem]:
    prefix = document.line(line)[:column]
    kind, partial = analysis.completion_context(prefix)
    replace = document.range(Span(line, column - len(partial), column))
    if kind == "value":
        return [_value_item(v, replace) for v in document.analysis.values_before(line)]
    if kind == "op":
        quoted = prefix[: column - len(partial)].endswith('"')
        return [_op_item(spec, replace, quoted) for spec in analysis.tensorlang_ops()]
    if kind == "attribute":
        spec = analysis.op_spec(partial)
        if spec is None:
            return []
        typed = document.range(Span(line, column - len(analysis.trailing_word(prefix)), column))
        return [
            lsp.CompletionItem(
                name,
                kind=lsp.CompletionItemKind.Property,
                detail=attribute_kind,
                insert_text_format=lsp.InsertTextFormat.Snippet,
                text_edit=lsp.TextEdit(typed, analysis.attribute_template(name, attribute_kind, 1)),
            )
            for name, attribute_kind in spec.attributes
        ]
    if kind == "predicate":
        return [
            lsp.CompletionItem(p, kind=lsp.CompletionItemKind.EnumMember)
            for p in COMPARE_PREDICATES
        ]
    return []


def symbols(document: Document) -> list[lsp.DocumentSymbol]:
    found = []
    for function in document.analysis.functions:
        last = max(function.last_line, function.first_line)
        whole = lsp.Range(
            document.position(function.first_line, 0),
            document.position(last, len(document.line(last))),
        )
        children = [
            lsp.DocumentSymbol(
                v.name,
                lsp.SymbolKind.Variable,
                document.range(v.span),
                document.range(v.span),
                detail=v.type or None,
            )
            for v in function.values.values()
        ]
        found.append(
            lsp.DocumentSymbol(
                "@" + function.name,
                lsp.SymbolKind.Function,
                whole,
                document.range(function.name_span),
                detail=function.signature,
                children=children,
            )
        )
    return found


def create_server(checker=None) -> TensorLangServer:
    server = TensorLangServer(checker)

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: TensorLangServer, params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and "controller" in options:
            ls.checker.controller = bool(options["controller"])

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TensorLangServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule_check(params.text_document.uri, delay=0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TensorLangServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule_check(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TensorLangServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.schedule_check(params.text_document.uri, delay=0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TensorLangServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: TensorLangServer, params: lsp.HoverParams) -> lsp.Hover | None:
        document = ls.document(params.text_document.uri)
        line, column = document.at(params.position)
        found = document.analysis.value_at(line, column)
        if found is not None:
            function, name = found
            value = function.values.get(name)
            if value is None:
                return lsp.Hover(
                    lsp.MarkupContent(
                        lsp.MarkupKind.Markdown, f"`{name}` is not defined in `@{function.name}`"
                    )
                )
            return lsp.Hover(
                lsp.MarkupContent(lsp.MarkupKind.Markdown, _hover_value(function, value))
            )
        spec = analysis.op_spec(document.analysis.op_at(line, column) or "")
        if spec is not None:
            return lsp.Hover(
                lsp.MarkupContent(lsp.MarkupKind.Markdown, analysis.op_documentation(spec))
            )
        return None

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=["%", '"', "{", ",", "."]),
    )
    def completion(ls: TensorLangServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        document = ls.document(params.text_document.uri)
        return lsp.CompletionList(False, completions(document, *document.at(params.position)))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: TensorLangServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        document = ls.document(params.text_document.uri)
        found = document.analysis.value_at(*document.at(params.position))
        if found is None or found[1] not in found[0].values:
            return None
        return document.location(found[0].values[found[1]].span)

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: TensorLangServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
        document = ls.document(params.text_document.uri)
        found = document.analysis.value_at(*document.at(params.position))
        if found is None:
            return []
        function, name = found
        spans = function.occurrences(name)
        if not params.context.include_declaration and name in function.values:
            spans = spans[1:]
        return [document.location(span) for span in spans]

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(
        ls: TensorLangServer, params: lsp.DocumentSymbolParams
    ) -> list[lsp.DocumentSymbol]:
        return symbols(ls.document(params.text_document.uri))

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: TensorLangServer, params: None) -> None:
        ls.checker.close()

    return server


def serve(controller: bool = False) -> int:
    """Serve on stdin/stdout until the client says exit (or goes away).

    The protocol owns the real stdout: file descriptor 1 is pointed at stderr first, so
    nothing else this process or the engine it starts prints (a native library, a stray
    print) can corrupt the stream."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    server = create_server(EngineChecker(controller=controller))
    server.checker.log = server.log
    try:
        server.start_io(sys.stdin.buffer, protocol_out)
    finally:
        server.checker.close()
    return 0
