"""The gcc -O3 reference of the swarm (sim/c_reference.py): C generated from model.py by
the tracer and from the controller's TensorLang, flown like the native kernel."""

import shutil

import numpy as np
import pytest

from neurojit_tui.compiler import dialect as tl
from neurojit_tui.compiler import ops
from neurojit_tui.compiler.ops.base import Op
from neurojit_tui.sim import model
from neurojit_tui.sim.c_reference import CReferenceSwarm, c_kernel_source
from neurojit_tui.sim.native import NativeSwarm

from .conftest import SAMPLES
from .test_sim import ASSERTING

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


@pytest.mark.parametrize(
    "name",
    [
        "heuristic",
        pytest.param("pid", marks=pytest.mark.slow),
        pytest.param("mlp", marks=pytest.mark.slow),
    ],
)
def test_c_trajectories_equal_the_native_kernel(compiler, name):
    """Same IEEE operations in the same order (sin/cos through the same polynomial, the
    controller's products accumulated as linalg does): the final states agree exactly,
    over whole episodes of many agents, on one thread and on two."""
    path = str(SAMPLES / f"{name}.mlir")
    text = (SAMPLES / f"{name}.mlir").read_text()
    c_swarm = CReferenceSwarm(text, path, compiler)
    native = NativeSwarm(text, path, compiler).wait_for_full_tier()
    env = model.Environment(gravity=2.5, turbulence=1.5)
    for threads in (1, 2):
        c_run = c_swarm.run(env, 600, 7, threads=threads)
        native_run = native.run(env, 600, 7, threads=threads)
        for field in model.STATE_FIELDS:
            np.testing.assert_array_equal(
                c_run.state[field], native_run.state[field], err_msg=field
            )
    assert c_run.state["done"].all() and c_run.agent_steps > 50_000


def test_every_op_writes_its_own_c():
    """c_reference.py asks each op for its C (``emit_c``) rather than knowing the ops by
    name, so a new op needs only its own method."""
    assert {op.spec.full_name for op in ops.ALL} == {spec.full_name for spec in tl.OPS}
    missing = [op.spec.full_name for op in ops.ALL if type(op).emit_c is Op.emit_c]
    assert not missing, f"ops without emit_c: {missing}"


# Every TensorLang op once, and scalar arith between them.
EVERY_OP = """func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %w = "tensorlang.constant"() {value = dense<[[0.5, -0.25, 1.0, 0.0], [2.0, 0.125, -1.0, 0.5]]> : tensor<2x4xf64>} : () -> tensor<2x4xf64>
  %m = "tensorlang.constant"() {value = dense<[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.25, -0.25]]> : tensor<4x2xf64>} : () -> tensor<4x2xf64>
  %ww = "tensorlang.matmul"(%w, %m) : (tensor<2x4xf64>, tensor<4x2xf64>) -> tensor<2x2xf64>
  %head = "tensorlang.slice"(%obs) {offsets = array<i64: 0>, sizes = array<i64: 4>} : (tensor<8xf64>) -> tensor<4xf64>
  %v = "tensorlang.matvec"(%w, %head) : (tensor<2x4xf64>, tensor<4xf64>) -> tensor<2xf64>
  %d = "tensorlang.dot"(%head, %mem) : (tensor<4xf64>, tensor<4xf64>) -> f64
  %s = "tensorlang.sum"(%head) : (tensor<4xf64>) -> f64
  %mn = "tensorlang.mean"(%mem) : (tensor<4xf64>) -> f64
  %e = "tensorlang.extract"(%ww) {index = array<i64: 1, 0>} : (tensor<2x2xf64>) -> f64
  %x0 = "tensorlang.extract"(%obs) {index = array<i64: 4>} : (tensor<8xf64>) -> f64
  %b = "tensorlang.broadcast"(%d) : (f64) -> tensor<2xf64>
  %b1 = "tensorlang.broadcast"(%s) : (f64) -> tensor<1xf64>
  %b2 = "tensorlang.broadcast"(%mn) : (f64) -> tensor<1xf64>
  %cc = "tensorlang.concat"(%b1, %b2) : (tensor<1xf64>, tensor<1xf64>) -> tensor<2xf64>
  %a1 = "tensorlang.add"(%v, %b) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %a2 = "tensorlang.sub"(%a1, %cc) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %a3 = "tensorlang.mul"(%a2, %cc) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %a4 = "tensorlang.div"(%a3, %b) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %a5 = "tensorlang.min"(%a4, %a1) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %a6 = "tensorlang.max"(%a5, %a2) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %u1 = "tensorlang.neg"(%a6) : (tensor<2xf64>) -> tensor<2xf64>
  %u2 = "tensorlang.abs"(%u1) : (tensor<2xf64>) -> tensor<2xf64>
  %u3 = "tensorlang.tanh"(%u2) : (tensor<2xf64>) -> tensor<2xf64>
  %u4 = "tensorlang.exp"(%u3) : (tensor<2xf64>) -> tensor<2xf64>
  %u5 = "tensorlang.relu"(%u4) : (tensor<2xf64>) -> tensor<2xf64>
  %u6 = "tensorlang.sigmoid"(%u5) : (tensor<2xf64>) -> tensor<2xf64>
  %lt = "tensorlang.cmp"(%u6, %a1) {predicate = "lt"} : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xi1>
  %ne = "tensorlang.cmp"(%u6, %a1) {predicate = "ne"} : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xi1>
  %sel = "tensorlang.select"(%lt, %u6, %a1) : (tensor<2xi1>, tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %sel2 = "tensorlang.select"(%ne, %sel, %u5) : (tensor<2xi1>, tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %fin = "tensorlang.cmp"(%sel2, %sel2) {predicate = "eq"} : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xi1>
  "tensorlang.assert"(%fin) {message = "finite"} : (tensor<2xi1>) -> ()
  %k = arith.constant 0.5 : f64
  %p = arith.mulf %k, %x0 : f64
  %q = arith.addf %p, %e : f64
  %bq = "tensorlang.broadcast"(%q) : (f64) -> tensor<2xf64>
  %out = "tensorlang.add"(%sel2, %bq) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %act = "tensorlang.clamp"(%out) {lo = -1.0 : f64, hi = 1.0 : f64} : (tensor<2xf64>) -> tensor<2xf64>
  return %act, %mem : tensor<2xf64>, tensor<4xf64>
}"""


def test_every_op_in_c_flies_like_the_native_kernel(compiler, tmp_path):
    path = str(tmp_path / "every_op.mlir")
    c_swarm = CReferenceSwarm(EVERY_OP, path, compiler)
    native = NativeSwarm(EVERY_OP, path, compiler).wait_for_full_tier()
    env = model.Environment(gravity=2.5, turbulence=1.5)
    c_run = c_swarm.run(env, 64, 3, threads=1)
    native_run = native.run(env, 64, 3, threads=1)
    for field in model.STATE_FIELDS:
        np.testing.assert_array_equal(c_run.state[field], native_run.state[field], err_msg=field)


def test_the_c_is_generated_not_ported(compiler):
    """The physics comes from tracing model.step: its constants and its sin/cos
    polynomial appear in the C exactly (hexadecimal literals), and the controller's
    clamp became the NaN-propagating minimum/maximum of MLIR's arith."""
    path = str(SAMPLES / "heuristic.mlir")
    module, _ = compiler.parse((SAMPLES / "heuristic.mlir").read_text(), path, require_control=True)
    with compiler.context:
        source, asserts = c_kernel_source(module, path)
    assert model.DT.hex() in source and (1.58969099521155010221e-10).hex() in source
    assert "nj_minimum(" in source and "nj_maximum(" in source and "__builtin_rint(" in source
    assert asserts == []


def test_an_assert_in_the_c_controller_reports_its_line(compiler, tmp_path):
    path = str(tmp_path / "asserting.mlir")
    c_run = CReferenceSwarm(ASSERTING, path, compiler).run(model.Environment(), 64, 0)
    native_run = NativeSwarm(ASSERTING, path, compiler).run(model.Environment(), 64, 0)
    assert c_run.assert_failure is not None
    assert c_run.assert_failure.message == "lander must stay above y = 1"
    assert (
        (c_run.assert_failure.line, c_run.assert_failure.col)
        == (native_run.assert_failure.line, native_run.assert_failure.col)
        == (5, 3)
    )


def _ieee(kind: str, a: float, b: float) -> float:
    if a != a or b != b:
        return float("nan")
    if a == b == 0.0:  # -0 < +0
        negative = (
            (np.signbit(a) or np.signbit(b))
            if kind == "minimum"
            else (np.signbit(a) and np.signbit(b))
        )
        return -0.0 if negative else 0.0
    return min(a, b) if kind == "minimum" else max(a, b)


def test_minimum_and_maximum_keep_mlir_semantics_against_known_bounds(tmp_path):
    """The one-comparison form against a known bound propagates NaN and orders -0 below
    +0, as arith.minimumf/maximumf (IEEE 754-2019 minimum/maximum) do."""
    import ctypes
    import subprocess

    from neurojit_tui.sim.c_reference import _PRELUDE, CTracer
    from neurojit_tui.sim.native import Value

    cases, functions = [], []
    for kind in ("minimum", "maximum"):
        for bound in (0.0, -0.0, 1.5, -2.0):
            for bound_first in (False, True):
                tracer = CTracer()
                x, k = Value(tracer, "x", "f64"), tracer.lift(bound, "f64")
                result = tracer.extremum(kind, k, x) if bound_first else tracer.extremum(kind, x, k)
                name = f"f{len(cases)}"
                functions.append(
                    f"double {name}(double x) {{\n"
                    + "\n".join(tracer.lines)
                    + f"\nreturn {result.name};\n}}\n"
                )
                cases.append((name, kind, bound))
    source = tmp_path / "extremum.c"
    source.write_text(_PRELUDE + "\n".join(functions))
    library = tmp_path / "extremum.so"
    subprocess.run(
        [
            "gcc",
            "-O2",
            "-std=c11",
            "-fno-trapping-math",
            "-shared",
            "-fPIC",
            str(source),
            "-o",
            str(library),
        ],
        check=True,
    )
    compiled = ctypes.CDLL(str(library))
    for name, kind, bound in cases:
        function = getattr(compiled, name)
        function.restype, function.argtypes = ctypes.c_double, [ctypes.c_double]
        for x in (float("nan"), -0.0, 0.0, 1.5, -1.5, -2.0, 3.0, -7.0):
            got, want = function(x), _ieee(kind, x, bound)
            assert (np.isnan(got) and np.isnan(want)) or (
                got == want and np.signbit(got) == np.signbit(want)
            ), (kind, bound, x, got)
