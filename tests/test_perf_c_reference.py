"""The gcc -O3 reference of the swarm (sim/c_reference.py): C generated from model.py by
the tracer and from the controller's TensorLang, flown like the native kernel."""

import shutil

import numpy as np
import pytest

from neurojit_tui.sim import model
from neurojit_tui.sim.c_reference import CReferenceSwarm, c_kernel_source
from neurojit_tui.sim.native import NativeSwarm

from .conftest import SAMPLES

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

ASSERTING = """func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %y = "tensorlang.extract"(%obs) {index = array<i64: 1>} : (tensor<8xf64>) -> f64
  %floor = arith.constant 0.5 : f64
  %high = arith.cmpf ogt, %y, %floor : f64
  "tensorlang.assert"(%high) {message = "stays above half the screen"} : (i1) -> ()
  %zero = "tensorlang.constant"() {value = dense<0.0> : tensor<2xf64>} : () -> tensor<2xf64>
  return %zero, %mem : tensor<2xf64>, tensor<4xf64>
}
"""


@pytest.mark.parametrize("name", ["heuristic", pytest.param("pid", marks=pytest.mark.slow),
                                  pytest.param("mlp", marks=pytest.mark.slow)])
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
            np.testing.assert_array_equal(c_run.state[field], native_run.state[field], err_msg=field)
    assert c_run.state["done"].all() and c_run.agent_steps > 50_000


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
    assert c_run.assert_failure.message == "stays above half the screen"
    assert (c_run.assert_failure.line, c_run.assert_failure.col) == (
        native_run.assert_failure.line, native_run.assert_failure.col) == (5, 3)
