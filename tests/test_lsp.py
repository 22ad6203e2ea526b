"""The TensorLang language server: its lexical analysis, and the real server driven end to
end over stdio by pygls's own language client."""

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from neurojit_tui.engine.protocol import CheckRequest, DebugSegfaultRequest
from neurojit_tui.lsp import analysis
from neurojit_tui.lsp.analysis import Analysis
from neurojit_tui.lsp.checker import EngineChecker
from neurojit_tui.lsp.server import from_client_column, mlir_column, to_client_column
from neurojit_tui.paths import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "samples"
PID = (SAMPLES / "pid.mlir").read_text()
REPLY_S = 120  # generous: a first check starts the engine, on a busy 2-core machine too


# -- analysis ------------------------------------------------------------------------------


def test_values_types_and_uses_of_a_sample():
    found = Analysis.of(PID)
    (control,) = found.functions
    assert control.name == "control"
    assert control.signature == "(tensor<8xf64>, tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>)"
    values = control.values
    assert values["%obs"].type == "tensor<8xf64>" and values["%obs"].is_argument
    assert (values["%dt"].type, values["%dt"].origin) == ("f64", "arith.constant")
    assert (values["%y"].type, values["%y"].origin) == ("f64", "tensorlang.extract")
    assert values["%u"].type == "tensor<2xf64>" and values["%u"].origin == "tensorlang.concat"
    assert values["%action"].type == "tensor<2xf64>"
    # %mem: its argument, two extracts, one slice
    assert [s.line for s in control.occurrences("%mem")] == [4, 12, 13, 50]


def test_custom_syntax_result_types():
    text = (
        "func.func @f(%x: f64, %n: i64) -> f64 {\n"
        "  %ok = arith.cmpf ogt, %x, %x : f64\n"
        "  %r = arith.uitofp %n : i64 to f64\n"
        "  %s = arith.select %ok, %x, %r : f64\n"
        '  %v = "tensorlang.broadcast"(%s) : (f64) -> tensor<3xf64>\n'
        "  return %s : f64\n}\n"
    )
    values = Analysis.of(text).functions[0].values
    assert {n: v.type for n, v in values.items()} == {
        "%x": "f64",
        "%n": "i64",
        "%ok": "i1",
        "%r": "f64",
        "%s": "f64",
        "%v": "tensor<3xf64>",
    }


def test_half_typed_text_never_fails():
    for cut in range(0, len(PID), 97):
        Analysis.of(PID[:cut])  # nothing raises on any prefix
    assert Analysis.of("").functions == []
    assert Analysis.of('%x = "tensorlang.add"(').functions == []  # outside any function


def test_scope_is_the_function_and_values_before_the_line():
    text = (
        "func.func @a(%x: f64) -> f64 {\n  %y = arith.addf %x, %x : f64\n  return %y : f64\n}\n"
        "func.func @b(%x: f64) -> f64 {\n  return %x : f64\n}\n"
    )
    found = Analysis.of(text)
    a, b = found.functions
    assert [s.line for s in a.occurrences("%x")] == [0, 1, 1]
    assert [s.line for s in b.occurrences("%x")] == [4, 5]
    assert [v.name for v in found.values_before(1)] == ["%x"]
    assert [v.name for v in found.values_before(2)] == ["%x", "%y"]


@pytest.mark.parametrize(
    "prefix, expected",
    [
        ('  %a = "tensorlang.ma', ("op", "tensorlang.ma")),
        ("  %a = ", ("op", "")),
        ("  ", ("op", "")),
        ('  %a = "tensorlang.add"(%o', ("value", "%o")),
        ('  %c = "tensorlang.clamp"(%u) {lo = -1.0 : f64, h', ("attribute", "tensorlang.clamp")),
        ('  %c = "tensorlang.clamp"(%u) {', ("attribute", "tensorlang.clamp")),
        ('  %c = "tensorlang.cmp"(%a, %b) {predicate = "', ("predicate", "")),
        ("  // a comment %x", ("none", "")),
        ('  %c = "tensorlang.clamp"(%u) {lo = -', ("none", "")),
    ],
)
def test_completion_context(prefix, expected):
    assert analysis.completion_context(prefix) == expected


def test_op_templates_come_from_the_dialect_table():
    clamp = analysis.op_template(analysis.op_spec("tensorlang.clamp"))
    # operand, both attributes, and one shared tab stop for the T type (IRDL: all equal)
    assert clamp == (
        '"tensorlang.clamp"(${1:%x}) {lo = ${2:-1.0} : f64, hi = ${3:1.0} : f64} '
        ": (${4:tensor<2xf64>}) -> $4"
    )
    cmp = analysis.op_template(analysis.op_spec("tensorlang.cmp"))
    assert '{predicate = "${3|lt,le,gt,ge,eq,ne|}"}' in cmp
    assert analysis.op_template(analysis.op_spec("tensorlang.dot")).endswith("-> f64")
    names = [s.full_name for s in analysis.tensorlang_ops()]
    assert names[0] == "tensorlang.constant"
    assert {"tensorlang.add", "tensorlang.matvec", "tensorlang.assert"} <= set(names)


def test_columns_between_mlir_code_points_and_utf16():
    line = '  "tensorlang.assert"(%ok) {message = "é𝄞"} : (i1) -> () %bad'
    code_points = line.index("%bad")
    byte_column = len(line[:code_points].encode()) + 1  # MLIR: 1-based, in bytes
    assert mlir_column(line, byte_column) == code_points
    units = to_client_column(line, code_points, lsp.PositionEncodingKind.Utf16)
    assert units == code_points + 1  # the clef is two UTF-16 units
    assert from_client_column(line, units, lsp.PositionEncodingKind.Utf16) == code_points
    assert analysis.token_end(line, code_points) == len(line)


# -- the checker: the compiler in the engine process ------------------------------------------


def test_a_crashing_compiler_becomes_a_diagnostic_and_the_checker_recovers(private_home):
    checker = EngineChecker()
    try:
        # the engine's test hook in place of the check: it dies of SIGSEGV
        checker.request = lambda text, path, controller: DebugSegfaultRequest()
        (crash,) = checker.check(PID, "pid.mlir")
        assert (crash.line, crash.col, crash.severity) == (1, 1, "error")
        assert "crashed" in crash.message and "SIGSEGV" in crash.message
        checker.request = CheckRequest
        assert checker.check(PID, "pid.mlir") == []
        (error,) = checker.check((SAMPLES / "broken" / "slice_bounds.mlir").read_text(), "s.mlir")
        assert (error.line, error.col) == (5, 11)
    finally:
        checker.close()


# -- end to end: pygls's client against `neurojit lsp` over stdio -----------------------------


class Session:
    """A real client talking to a real server process; publishes are queued per URI."""

    def __init__(self, home: Path):
        self.client = LanguageClient("neurojit-test", "1")
        self.home = home
        self.published: dict[str, asyncio.Queue] = {}
        self.version = 1

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: lsp.PublishDiagnosticsParams) -> None:
            self.queue(params.uri).put_nowait(params)

    def queue(self, uri: str) -> asyncio.Queue:
        return self.published.setdefault(uri, asyncio.Queue())

    async def __aenter__(self):
        await self.client.start_io(
            sys.executable,
            "-m",
            "neurojit_tui.cli",
            "lsp",
            env={**os.environ, "NEUROJIT_HOME": str(self.home)},
        )
        self.result = await self.client.initialize_async(
            lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), process_id=os.getpid())
        )
        self.client.initialized(lsp.InitializedParams())
        return self

    async def __aexit__(self, *exc):
        await asyncio.wait_for(self.client.shutdown_async(None), REPLY_S)
        self.client.exit(None)
        await asyncio.wait_for(self.client._server.wait(), REPLY_S)
        await self.client.stop()

    @property
    def server_pid(self) -> int:
        return self.client._server.pid

    def open(self, uri: str, text: str) -> None:
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "mlir", self.version, text))
        )

    def change(self, uri: str, text: str) -> None:
        self.version += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
                [lsp.TextDocumentContentChangeWholeDocument(text)],
            )
        )

    def edit(self, uri: str, start: lsp.Position, end: lsp.Position, text: str) -> None:
        """An incremental change, as editors send them: ``text`` replaces the range."""
        self.version += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
                [lsp.TextDocumentContentChangePartial(lsp.Range(start, end), text)],
            )
        )

    async def diagnostics(self, uri: str) -> lsp.PublishDiagnosticsParams:
        """The diagnostics of the latest version sent (earlier publishes are skipped)."""
        while True:
            published = await asyncio.wait_for(self.queue(uri).get(), REPLY_S)
            if published.version == self.version:
                return published


def position(text: str, needle: str, offset: int = 0, nth: int = 0) -> lsp.Position:
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index)
    return lsp.Position(line, index - (text.rfind("\n", 0, index) + 1))


def test_the_language_server_end_to_end(tmp_path):
    broken = (SAMPLES / "broken" / "slice_bounds.mlir").read_text()
    uri = (tmp_path / "controller.mlir").as_uri()
    document = lsp.TextDocumentIdentifier(uri)

    async def scenario():
        async with Session(tmp_path) as session:
            capabilities = session.result.capabilities
            assert capabilities.hover_provider and capabilities.definition_provider
            assert capabilities.references_provider and capabilities.document_symbol_provider
            assert "%" in capabilities.completion_provider.trigger_characters

            # diagnostics on open: as `neurojit check` prints them (5:11, 1-based)
            session.open(uri, broken)
            (error,) = (await session.diagnostics(uri)).diagnostics
            assert (
                error.message == "slice out of bounds in dimension 0: offset 6 + size 4 exceeds 8"
            )
            assert (error.range.start.line, error.range.start.character) == (4, 10)
            assert error.severity == lsp.DiagnosticSeverity.Error and error.source == "neurojit"

            # ... and on change: fixed, then another error
            session.change(uri, PID)
            assert (await session.diagnostics(uri)).diagnostics == ()
            session.change(uri, PID.replace("return %action", "return %acton"))
            (error,) = (await session.diagnostics(uri)).diagnostics
            assert "use of undeclared SSA value name" in error.message
            assert error.range.start == position(PID, "%action", nth=PID.count("%action") - 1)
            session.change(uri, PID)
            assert (await session.diagnostics(uri)).diagnostics == ()

            # hover: a value's type and origin; an op's documentation from the dialect table
            hover = await session.client.text_document_hover_async(
                lsp.HoverParams(document, position(PID, "%target_vy", 3, nth=1))
            )
            assert (
                "%target_vy : f64" in hover.contents.value and "arith.subf" in hover.contents.value
            )
            hover = await session.client.text_document_hover_async(
                lsp.HoverParams(document, position(PID, "tensorlang.clamp", 5))
            )
            assert "Elementwise min(max(x, lo), hi)" in hover.contents.value
            assert "`lo` a float" in hover.contents.value

            # completion: values in scope with their types; ops with templates; attributes
            line = PID[: PID.index("  %main_t")].count("\n")
            values = await session.client.text_document_completion_async(
                lsp.CompletionParams(
                    document, lsp.Position(line, len('  %main_t = "tensorlang.broadcast"(%'))
                )
            )
            labels = {item.label: item.detail for item in values.items}
            assert labels["%main"] == "f64" and labels["%obs"] == "tensor<8xf64>"
            assert "%action" not in labels  # defined further down
            ops = await session.client.text_document_completion_async(
                lsp.CompletionParams(document, lsp.Position(line, len('  %main_t = "tensorlang.')))
            )
            matvec = next(i for i in ops.items if i.label == "tensorlang.matvec")
            assert matvec.insert_text_format == lsp.InsertTextFormat.Snippet
            assert matvec.text_edit.new_text.startswith(
                'tensorlang.matvec"(${1:%matrix}, ${2:%vector})'
            )
            clamp_line = PID[: PID.index("  %action = ")].count("\n")
            attributes = await session.client.text_document_completion_async(
                lsp.CompletionParams(
                    document, lsp.Position(clamp_line, len('  %action = "tensorlang.clamp"(%u) {'))
                )
            )
            assert {i.label for i in attributes.items} == {"lo", "hi"}

            # go to definition and find references of an SSA value
            use = position(PID, "%e_vy,", 2)  # in "arith.mulf %e_vy, %dt"
            definition = await session.client.text_document_definition_async(
                lsp.DefinitionParams(document, use)
            )
            assert definition.range.start == position(PID, "%e_vy")
            references = await session.client.text_document_references_async(
                lsp.ReferenceParams(
                    text_document=document,
                    position=use,
                    context=lsp.ReferenceContext(include_declaration=True),
                )
            )
            assert len(references) == len(re.findall(r"%e_vy\b", PID)) == 3
            assert all(r.uri == uri for r in references)

            # document symbols: the function and the values it defines
            (function,) = await session.client.text_document_document_symbol_async(
                lsp.DocumentSymbolParams(document)
            )
            assert function.name == "@control" and function.kind == lsp.SymbolKind.Function
            children = {c.name: c.detail for c in function.children}
            assert children["%mem_next"] == "tensor<4xf64>"
            assert len(children) == len(Analysis.of(PID).functions[0].values)

            # the server's process never loads MLIR, the JIT or llama.cpp: the engine does
            loaded = " ".join(m.path for m in psutil.Process(session.server_pid).memory_maps())
            assert "mlir" not in loaded.lower() and "llvmlite" not in loaded
            assert "llama" not in loaded.lower()

            # a dead engine (as after a crash in MLIR): the server lives on, checks resume
            engine = _engine_of(session.server_pid)
            engine.send_signal(signal.SIGSEGV)
            engine.wait(30)
            session.change(uri, broken)
            (error,) = (await session.diagnostics(uri)).diagnostics
            assert "slice out of bounds" in error.message
            assert _engine_of(session.server_pid).pid != engine.pid

            # a closed document's diagnostics are cleared
            session.client.text_document_did_close(lsp.DidCloseTextDocumentParams(document))
            cleared = await asyncio.wait_for(session.queue(uri).get(), REPLY_S)
            assert not cleared.diagnostics
        return session.client._server.returncode

    assert asyncio.run(scenario()) == 0


def _engine_of(server_pid: int) -> psutil.Process:
    """The server's engine process (multiprocessing's resource tracker is its other child)."""
    deadline = time.monotonic() + REPLY_S
    while time.monotonic() < deadline:
        for child in psutil.Process(server_pid).children():
            if "resource_tracker" not in " ".join(child.cmdline()):
                return child
        time.sleep(0.05)
    raise AssertionError("the server started no engine")


def test_incremental_edits_as_editors_send_them(tmp_path):
    """Editors send ranges (the server asks for incremental sync), in UTF-16 columns."""
    uri = (tmp_path / "pid.mlir").as_uri()
    typo_at = position(PID, "%action", nth=PID.count("%action") - 1)
    after = lsp.Position(typo_at.line, typo_at.character + len("%action"))
    header = position(PID, "func.func")

    async def scenario():
        async with Session(tmp_path) as session:
            session.open(uri, PID)
            assert (await session.diagnostics(uri)).diagnostics == ()
            session.edit(uri, typo_at, after, "%acton")  # a typo in the return
            (error,) = (await session.diagnostics(uri)).diagnostics
            assert "use of undeclared SSA value name" in error.message
            assert error.range.start == typo_at
            # a comment line with characters outside the BMP (two UTF-16 units each)
            # above the header moves the error one line down, same column
            session.edit(uri, header, header, "// g \U0001d4bc \u2192 lander\n")
            (error,) = (await session.diagnostics(uri)).diagnostics
            assert error.range.start == lsp.Position(typo_at.line + 1, typo_at.character)
            moved = lsp.Position(typo_at.line + 1, typo_at.character)
            session.edit(uri, moved, lsp.Position(moved.line, moved.character + 6), "%action")
            assert (await session.diagnostics(uri)).diagnostics == ()

    asyncio.run(scenario())


def test_controller_option_holds_files_to_the_abi(tmp_path):
    """initializationOptions {"controller": true} is `check --controller`."""
    uri = (tmp_path / "f.mlir").as_uri()
    plain = "func.func @f(%x: f64) -> f64 {\n  return %x : f64\n}\n"

    async def scenario():
        session = Session(tmp_path)
        await session.client.start_io(
            sys.executable,
            "-m",
            "neurojit_tui.cli",
            "lsp",
            env={**os.environ, "NEUROJIT_HOME": str(tmp_path)},
        )
        await session.client.initialize_async(
            lsp.InitializeParams(
                capabilities=lsp.ClientCapabilities(), initialization_options={"controller": True}
            )
        )
        session.client.initialized(lsp.InitializedParams())
        session.open(uri, plain)
        (error,) = (await session.diagnostics(uri)).diagnostics
        await Session.__aexit__(session)
        return error.message

    assert "@control" in asyncio.run(scenario())
