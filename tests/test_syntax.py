"""compiler/syntax.py: value and symbol names as MLIR lexes them, op lines written from
the ops' declarations, the observation layout; and every reader of the text agreeing on
the names (the language server, the editor's lexer, the evolution's parser, MLIR)."""

import pytest

from neurojit_tui.compiler import dialect as tl
from neurojit_tui.compiler import syntax
from neurojit_tui.evolve.program import ControlProgram
from neurojit_tui.lsp.analysis import Analysis
from neurojit_tui.ui.lexer import line_highlights

TRICKY = ("%a$b", "%x-1", "%0", "%_", "%a.b")


@pytest.mark.parametrize(
    "text, names",
    [
        ("%a$b", ["%a$b"]),
        ("%x-1", ["%x-1"]),  # one name: MLIR's suffix-id takes "-"
        ("%0", ["%0"]),
        ("%_", ["%_"]),
        ("%a.b", ["%a.b"]),
        ("%$", ["%$"]),
        ("%-", ["%-"]),
        ("%0abc", ["%0"]),  # a digit-led name is digits only
        ("%12", ["%12"]),
        ("%", []),
        ("%é", []),  # ASCII letters only, as in MLIR
        ('"tensorlang.add"(%a, %b)', ["%a", "%b"]),
        ("%a:2 = x", ["%a"]),
    ],
)
def test_value_names_as_mlir_lexes_them(text, names):
    assert syntax.value_names(text) == names


def test_is_value_name():
    assert all(syntax.is_value_name(name) for name in TRICKY)
    for not_a_name in ("%", "a", "%0a", "%a b", "@a", "%a,"):
        assert not syntax.is_value_name(not_a_name), not_a_name


def test_symbol_names():
    assert syntax.SYMBOL_NAME.fullmatch("@control")
    assert syntax.SYMBOL_NAME.fullmatch("@a$b.c_1")
    assert syntax.SYMBOL_NAME.match("@a-b").group() == "@a"  # no "-" in a symbol
    assert not syntax.SYMBOL_NAME.match("@0a")
    assert syntax.PARTIAL_VALUE_NAME.fullmatch("%")


def test_op_line_writes_generic_syntax_in_declared_attribute_order():
    line = syntax.op_line(
        "%u",
        "clamp",
        ["%x"],
        ["tensor<2xf64>"],
        "tensor<2xf64>",
        {"hi": "1.0 : f64", "lo": "-1.0 : f64"},
    )
    assert line == (
        '%u = "tensorlang.clamp"(%x) {lo = -1.0 : f64, hi = 1.0 : f64} : '
        "(tensor<2xf64>) -> tensor<2xf64>"
    )
    assert syntax.op_line("%c", "tensorlang.constant", [], [], "f64x", {"value": "v"}) == (
        '%c = "tensorlang.constant"() {value = v} : () -> f64x'
    )
    assert syntax.op_line("%s", "add", ["%a", "%b"], ["f64", "f64"], "f64") == (
        '%s = "tensorlang.add"(%a, %b) : (f64, f64) -> f64'
    )
    assert syntax.arith_line("%p", "arith.mulf", ["%a", "%b"], "f64") == (
        "%p = arith.mulf %a, %b : f64"
    )
    assert syntax.arith_constant_line("%k", "0.5", "f64") == "%k = arith.constant 0.5 : f64"


@pytest.mark.parametrize(
    "args, problem",
    [
        (("%r", "nosuch", [], [], "f64"), "no op"),
        (("%r", "add", ["%a"], ["f64"], "f64"), "takes 2 operands"),
        (("%r", "clamp", ["%a"], ["f64"], "f64", {"lo": "0.0 : f64"}), "attributes"),
        (("%r", "neg", ["%a"], ["f64"], "f64", {"lo": "0.0 : f64"}), "attributes"),
        (("r", "neg", ["%a"], ["f64"], "f64"), "not a value name"),
        (("%r", "neg", ["%a b"], ["f64"], "f64"), "not a value name"),
    ],
)
def test_op_line_checks_the_declaration(args, problem):
    with pytest.raises(ValueError, match=problem):
        syntax.op_line(*args)


def test_every_op_declares_what_op_line_needs():
    for spec in tl.OPS:
        attributes = {name: "x" for name, _ in spec.attributes}
        operands = [f"%v{k}" for k in range(len(spec.operands))]
        line = syntax.op_line("%r", spec.name, operands, ["f64"] * len(operands), "f64", attributes)
        assert line.startswith(f'%r = "{spec.full_name}"(')


def test_the_observation_layout():
    assert len(syntax.OBSERVATIONS) == tl.CONTROL_OBS_SIZE
    assert [o.name for o in syntax.OBSERVATIONS] == [
        "x",
        "y",
        "vx",
        "vy",
        "angle",
        "omega",
        "leg_l",
        "leg_r",
    ]
    assert syntax.FLAG_OBSERVATIONS == (6, 7)
    assert syntax.OBSERVATIONS[5].meaning == "angular velocity"


def _program(names):
    """@control whose body defines each of ``names`` in turn, each from the one before."""
    obs, mem = "%obs", "%mem"
    lines = [
        f"func.func @control({obs}: tensor<8xf64>, {mem}: tensor<4xf64>) "
        "-> (tensor<2xf64>, tensor<4xf64>) {"
    ]
    previous = mem
    for name in names:
        lines.append(
            "  " + syntax.op_line(name, "neg", [previous], ["tensor<4xf64>"], "tensor<4xf64>")
        )
        previous = name
    lines.append(
        "  "
        + syntax.op_line(
            "%act",
            "slice",
            [previous],
            ["tensor<4xf64>"],
            "tensor<2xf64>",
            {"offsets": "array<i64: 0>", "sizes": "array<i64: 2>"},
        )
    )
    lines.append(f"  return %act, {previous} : tensor<2xf64>, tensor<4xf64>")
    lines.append("}")
    return "\n".join(lines) + "\n"


def test_the_readers_agree_on_tricky_names():
    text = _program(TRICKY)
    lines = text.split("\n")

    # the evolution's parser
    program = ControlProgram.parse(text)
    assert program.defined() == [*TRICKY, "%act"]
    assert program.mem_out == TRICKY[-1]

    # the language server
    (function,) = Analysis.of(text).functions
    assert list(function.values) == ["%obs", "%mem", *TRICKY, "%act"]
    for name in TRICKY:
        assert function.values[name].origin == "tensorlang.neg"

    # the editor's lexer: each name is one variable token
    for number, name in enumerate(TRICKY, start=1):
        line = lines[number]
        variables = [
            line.encode()[start:end].decode()
            for start, end, kind in line_highlights(line)
            if kind == "variable"
        ]
        assert variables[0] == name, (line, variables)

    # and MLIR itself
    from neurojit_tui.compiler import Compiler

    assert Compiler().check(text, "tricky.mlir") == []
