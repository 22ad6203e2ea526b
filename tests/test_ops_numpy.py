"""Every TensorLang op, JIT-compiled by real MLIR and run by its class's numpy reference,
against numpy written here."""

import numpy as np
import pytest

from neurojit_tui.compiler import dialect as tl
from neurojit_tui.compiler import ops
from neurojit_tui.compiler.dialect import tensor_type
from neurojit_tui.compiler.ops.base import Op
from neurojit_tui.compiler.reference import ReferenceProgram

RNG = np.random.default_rng(1234)
X = RNG.normal(size=(3, 4))
Y = RNG.normal(size=(3, 4)) + 0.1
V = RNG.normal(size=4)
W = RNG.normal(size=4)

UNARY = {
    "neg": np.negative,
    "abs": np.abs,
    "tanh": np.tanh,
    "exp": np.exp,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
}
BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "min": np.minimum,
    "max": np.maximum,
}
T34, T4 = tensor_type((3, 4)), tensor_type((4,))


def _case(name, body, arg_types, result_type, args, expected):
    params = ", ".join(f"%a{i}: {t}" for i, t in enumerate(arg_types))
    text = f"func.func @f({params}) -> {result_type} {{\n{body}\n  return %r : {result_type}\n}}\n"
    return pytest.param(text, args, expected, id=name)


CASES = [
    _case(n, f'  %r = "tensorlang.{n}"(%a0) : ({T34}) -> {T34}', [T34], T34, [X], fn(X))
    for n, fn in UNARY.items()
]
CASES += [
    _case(
        n,
        f'  %r = "tensorlang.{n}"(%a0, %a1) : ({T34}, {T34}) -> {T34}',
        [T34, T34],
        T34,
        [X, Y],
        fn(X, Y),
    )
    for n, fn in BINARY.items()
]
CASES += [
    _case(
        "constant",
        f'  %r = "tensorlang.constant"() {{value = dense<[1.0, -2.5, 3.0, 0.5]> : {T4}}} : () -> {T4}',
        [],
        T4,
        [],
        np.array([1.0, -2.5, 3.0, 0.5]),
    ),
    _case(
        "clamp",
        f'  %r = "tensorlang.clamp"(%a0) {{lo = -0.5 : f64, hi = 0.25 : f64}} : ({T34}) -> {T34}',
        [T34],
        T34,
        [X],
        np.clip(X, -0.5, 0.25),
    ),
    _case(
        "matmul",
        f'  %r = "tensorlang.matmul"(%a0, %a1) : ({T34}, {tensor_type((4, 2))}) -> {tensor_type((3, 2))}',
        [T34, tensor_type((4, 2))],
        tensor_type((3, 2)),
        [X, Y.T[:, :2]],
        X @ Y.T[:, :2],
    ),
    _case(
        "matvec",
        f'  %r = "tensorlang.matvec"(%a0, %a1) : ({T34}, {T4}) -> {tensor_type((3,))}',
        [T34, T4],
        tensor_type((3,)),
        [X, V],
        X @ V,
    ),
    _case(
        "dot",
        f'  %r = "tensorlang.dot"(%a0, %a1) : ({T4}, {T4}) -> f64',
        [T4, T4],
        "f64",
        [V, W],
        V @ W,
    ),
    _case("sum", f'  %r = "tensorlang.sum"(%a0) : ({T34}) -> f64', [T34], "f64", [X], X.sum()),
    _case("mean", f'  %r = "tensorlang.mean"(%a0) : ({T34}) -> f64', [T34], "f64", [X], X.mean()),
    _case(
        "slice",
        f'  %r = "tensorlang.slice"(%a0) {{offsets = array<i64: 1, 1>, sizes = array<i64: 2, 3>}} : ({T34}) -> {tensor_type((2, 3))}',
        [T34],
        tensor_type((2, 3)),
        [X],
        X[1:3, 1:4],
    ),
    _case(
        "concat",
        f'  %r = "tensorlang.concat"(%a0, %a1) : ({T4}, {tensor_type((3,))}) -> {tensor_type((7,))}',
        [T4, tensor_type((3,))],
        tensor_type((7,)),
        [V, W[:3]],
        np.concatenate([V, W[:3]]),
    ),
    _case(
        "extract",
        f'  %r = "tensorlang.extract"(%a0) {{index = array<i64: 2, 1>}} : ({T34}) -> f64',
        [T34],
        "f64",
        [X],
        X[2, 1],
    ),
    _case(
        "broadcast",
        f'  %r = "tensorlang.broadcast"(%a0) : (f64) -> {T34}',
        ["f64"],
        T34,
        [1.75],
        np.full((3, 4), 1.75),
    ),
]
for pred, fn in {
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
}.items():
    Xq = np.round(X)  # equal elements exist, so eq/ne are exercised
    Yq = np.round(Y)
    CASES.append(
        _case(
            f"cmp-select-{pred}",
            f'  %c = "tensorlang.cmp"(%a0, %a1) {{predicate = "{pred}"}} : ({T34}, {T34}) -> {tensor_type((3, 4), "i1")}\n'
            f'  %r = "tensorlang.select"(%c, %a0, %a1) : ({tensor_type((3, 4), "i1")}, {T34}, {T34}) -> {T34}',
            [T34, T34],
            T34,
            [Xq, Yq],
            np.where(fn(Xq, Yq), Xq, Yq),
        )
    )

COVERED = {"cmp", "select", "assert"}  # assert: test_assert.py


@pytest.mark.parametrize("text,args,expected", CASES)
def test_op_matches_numpy(compiler, text, args, expected):
    program = compiler.compile(text, "op.mlir")
    (result,), violation = program.call("f", *args)
    assert violation is None
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    # the op's numpy reference, on a batch of one
    module, _ = compiler.parse(text, "op.mlir")
    (batched,), failure = ReferenceProgram(module, "op.mlir").call(
        "f", *[np.asarray(a, dtype=np.float64)[None] for a in args]
    )
    assert failure is None
    np.testing.assert_allclose(batched[0], expected, rtol=1e-12, atol=1e-12)


def test_every_op_has_a_test_here():
    tested = {p.id for p in CASES} | COVERED
    missing = [op.name for op in tl.OPS if op.name not in tested]
    assert not missing, f"ops without a JIT-vs-numpy test: {missing}"


@pytest.mark.parametrize("spec", tl.OPS, ids=[spec.name for spec in tl.OPS])
def test_every_op_has_one_class_that_verifies_lowers_evaluates_and_writes_it(spec):
    semantics = ops.BY_NAME[spec.full_name]
    assert semantics.spec is spec
    for part in ("verify", "lower", "reference", "alternatives"):
        assert getattr(type(semantics), part) is not getattr(Op, part), (spec.name, part)


def test_the_dialect_is_declared_by_its_op_classes_each_op_once():
    assert [op.spec for op in ops.ALL] == list(tl.OPS)
    assert len(ops.BY_NAME) == len(ops.ALL), "two op classes declare the same op"
    assert set(ops.BY_NAME) == set(tl.OPS_BY_NAME)


def test_reading_the_dialect_its_op_classes_and_the_syntax_loads_no_mlir():
    """The workstation, the language server and the registry's warm path read the
    declarations and the surface syntax (the editor's lexer, the server's analysis); the
    op modules must defer MLIR until an op is verified or lowered."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from neurojit_tui.compiler import dialect, ops, syntax\n"
        "dialect.irdl_source()\n"
        "syntax.op_line('%r', 'neg', ['%a'], ['f64'], 'f64')\n"
        "assert all(op.spec.summary for op in ops.ALL)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mlir', 'llvmlite'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_irdl_source_is_generated_from_the_table():
    text = tl.irdl_source()
    for op in tl.OPS:
        assert f"irdl.operation @{op.name} " in text
