"""Verifier diagnostics: each check fires at the right file:line:col."""

import re

import pytest

from neurojit_tui.paths import PROJECT_ROOT

BROKEN = sorted((PROJECT_ROOT / "samples" / "broken").glob("*.mlir"))
EXPECTED = re.compile(r"//\s*expected-error@(\d+):(\d+)\s*\{\{(.*)\}\}")


@pytest.mark.parametrize("path", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_sample_reports_expected_diagnostic(compiler, path):
    text = path.read_text()
    expected = [(int(l), int(c), m) for l, c, m in EXPECTED.findall(text)]
    assert expected, f"{path.name} has no expected-error comment"
    diagnostics = compiler.check(text, str(path), require_control=True)
    got = [(d.line, d.col, d.message) for d in diagnostics if d.severity == "error"]
    for line, col, message in expected:
        assert any(l == line and c == col and message in m for l, c, m in got), (expected, got)
    assert all(d.file == str(path) for d in diagnostics)


def test_there_are_broken_samples():
    assert len(BROKEN) >= 5


def _diag(compiler, body, signature="(%x: tensor<4xf64>) -> tensor<4xf64>", **kw):
    text = f"func.func @f{signature} {{\n{body}\n}}\n"
    return compiler.check(text, "t.mlir", **kw)


def _only_error(diagnostics):
    errors = [d for d in diagnostics if d.severity == "error"]
    assert len(errors) >= 1, diagnostics
    return errors[0]


@pytest.mark.parametrize(
    "body,line,col,fragment",
    [
        # matmul inner dimension
        (
            '  %m = "tensorlang.constant"() {value = dense<1.0> : tensor<2x3xf64>} : () -> tensor<2x3xf64>\n'
            '  %r = "tensorlang.matmul"(%m, %m) : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>\n'
            "  return %x : tensor<4xf64>",
            3,
            8,
            "inner dimensions differ",
        ),
        # extract out of bounds
        (
            '  %e = "tensorlang.extract"(%x) {index = array<i64: 4>} : (tensor<4xf64>) -> f64\n'
            "  return %x : tensor<4xf64>",
            2,
            8,
            "index 4 out of bounds",
        ),
        # clamp with lo > hi
        (
            '  %c = "tensorlang.clamp"(%x) {lo = 1.0 : f64, hi = -1.0 : f64} : (tensor<4xf64>) -> tensor<4xf64>\n'
            "  return %c : tensor<4xf64>",
            2,
            8,
            "lo <= hi",
        ),
        # unknown comparison predicate
        (
            '  %c = "tensorlang.cmp"(%x, %x) {predicate = "lessish"} : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>\n'
            '  %s = "tensorlang.select"(%c, %x, %x) : (tensor<4xi1>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>\n'
            "  return %s : tensor<4xf64>",
            2,
            8,
            "unknown predicate",
        ),
        # concat result size
        (
            '  %c = "tensorlang.concat"(%x, %x) : (tensor<4xf64>, tensor<4xf64>) -> tensor<7xf64>\n'
            "  return %x : tensor<4xf64>",
            2,
            8,
            "must be tensor<8xf64>",
        ),
        # a constant whose value type differs from its result
        (
            '  %c = "tensorlang.constant"() {value = dense<1.0> : tensor<3xf64>} : () -> tensor<4xf64>\n'
            "  return %c : tensor<4xf64>",
            2,
            8,
            "constant value has type",
        ),
        # tensor arith is not TensorLang
        (
            "  %c = arith.addf %x, %x : tensor<4xf64>\n  return %c : tensor<4xf64>",
            2,
            8,
            "scalars (f64, i1) only",
        ),
        # integer division can trap: rejected
        (
            "  %a = arith.constant 1 : i32\n  %b = arith.divsi %a, %a : i32\n  return %x : tensor<4xf64>",
            2,
            8,
            "is not allowed",
        ),
        # raw LLVM is rejected
        (
            "  %p = llvm.mlir.zero : !llvm.ptr\n  return %x : tensor<4xf64>",
            2,
            8,
            "'llvm.mlir.zero' is not allowed",
        ),
        # cmp result used outside select/assert
        (
            '  %c = "tensorlang.cmp"(%x, %x) {predicate = "lt"} : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>\n'
            "  return %x : tensor<4xf64>",
            99,
            99,
            None,
        ),  # unused cmp is fine: checked below
    ],
)
def test_semantic_check_location(compiler, body, line, col, fragment):
    diagnostics = _diag(compiler, body)
    if fragment is None:
        assert diagnostics == []
        return
    error = _only_error(diagnostics)
    assert (error.file, error.line, error.col) == ("t.mlir", line, col), error
    assert fragment in error.message


def test_dynamic_shapes_are_rejected(compiler):
    error = _only_error(
        _diag(
            compiler,
            "  return %x : tensor<?xf64>",
            signature="(%x: tensor<?xf64>) -> tensor<?xf64>",
        )
    )
    assert "static shape" in error.message and error.line == 1


def test_external_functions_are_rejected(compiler):
    text = "func.func private @system(i64) -> i64\nfunc.func @f() {\n  return\n}\n"
    error = _only_error(compiler.check(text, "t.mlir"))
    assert "no body" in error.message and (error.line, error.col) == (1, 1)


def test_recursion_is_rejected(compiler):
    text = (
        "func.func @a(%x: f64) -> f64 {\n  %y = func.call @b(%x) : (f64) -> f64\n  return %y : f64\n}\n"
        "func.func @b(%x: f64) -> f64 {\n  %y = func.call @a(%x) : (f64) -> f64\n  return %y : f64\n}\n"
    )
    error = _only_error(compiler.check(text, "t.mlir"))
    assert "recursive call cycle" in error.message and error.line in (2, 6)


def test_bool_tensors_cannot_escape(compiler):
    body = (
        '  %c = "tensorlang.cmp"(%x, %x) {predicate = "lt"} : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>\n'
        "  return %c : tensor<4xi1>"
    )
    errors = _diag(compiler, body, signature="(%x: tensor<4xf64>) -> tensor<4xi1>")
    assert any("boolean tensors" in d.message for d in errors)


def test_missing_control_is_reported_for_controllers(compiler):
    error = _only_error(
        compiler.check("func.func @f() {\n  return\n}\n", "t.mlir", require_control=True)
    )
    assert "controller needs" in error.message


def test_syntax_error_has_location(compiler):
    error = _only_error(compiler.check("func.func @f( {\n}\n", "bad.mlir"))
    assert error.file == "bad.mlir" and error.line == 1 and error.col > 1


def test_line_one_columns_survive_the_implicit_module(compiler):
    # The first line is wrapped in "module {"; its columns must still be the user's.
    text = 'func.func @f(%x: tensor<4xf64>) -> tensor<4xf64> { %e = "tensorlang.extract"(%x) {index = array<i64: 9>} : (tensor<4xf64>) -> f64\n  return %x : tensor<4xf64>\n}\n'
    error = _only_error(compiler.check(text, "t.mlir"))
    assert (error.line, error.col) == (1, text.index('"tensorlang.extract"') + 1)


def test_explicit_module_is_accepted(compiler):
    text = "module {\n  func.func @f(%x: tensor<4xf64>) -> tensor<4xf64> {\n    return %x : tensor<4xf64>\n  }\n}\n"
    assert compiler.check(text, "t.mlir") == []


def test_valid_samples_verify(compiler):
    for path in sorted((PROJECT_ROOT / "samples").glob("*.mlir")):
        assert compiler.check(path.read_text(), str(path), require_control=True) == [], path
