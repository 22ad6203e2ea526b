"""tensorlang.assert reports violations without aborting; the hot-swap slot switches a
running native loop between controllers with no torn state."""

import time

import numpy as np
import pytest

from neurojit_tui.compiler import ControllerSlot, NativeLoop

ASSERTING = """func.func @f(%x: tensor<4xf64>) -> f64 {
  %limit = "tensorlang.constant"() {value = dense<2.0> : tensor<4xf64>} : () -> tensor<4xf64>
  %ok = "tensorlang.cmp"(%x, %limit) {predicate = "lt"} : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xi1>
  "tensorlang.assert"(%ok) {message = "x must stay below 2"} : (tensor<4xi1>) -> ()
  %s = "tensorlang.sum"(%x) : (tensor<4xf64>) -> f64
  %zero = arith.constant 0.0 : f64
  %pos = arith.cmpf oge, %s, %zero : f64
  "tensorlang.assert"(%pos) {message = "sum must be non-negative"} : (i1) -> ()
  return %s : f64
}
"""


def test_assert_violation_is_reported_with_location_and_process_survives(compiler):
    program = compiler.compile(ASSERTING, "asserting.mlir")
    (total,), violation = program.call("f", [0.5, 1.0, 1.5, 0.0])
    assert violation is None and total == 3.0
    (total,), violation = program.call("f", [0.5, 2.5, 1.5, 0.0])
    assert violation is not None
    assert (violation.file, violation.line, violation.col) == ("asserting.mlir", 4, 3)
    assert violation.message == "x must stay below 2"
    assert total == 4.5  # execution went on
    # the status is reset per call: a good call afterwards reports nothing
    assert program.call("f", [0.0, 0.0, 0.0, 0.0])[1] is None
    # scalar assert, and only the first violation of a call is reported
    _, violation = program.call("f", [-5.0, 0.0, 0.0, 0.0])
    assert violation.message == "sum must be non-negative" and violation.line == 8
    _, violation = program.call("f", [-5.0, 3.0, 0.0, 0.0])
    assert violation.message == "x must stay below 2"


def _constant_controller(compiler, action_value, counter_index):
    """A controller whose action is [v, v] and which counts its own steps in mem."""
    bump = [0.0] * 4
    bump[counter_index] = 1.0
    text = f"""func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {{
  %a = "tensorlang.constant"() {{value = dense<{action_value}> : tensor<2xf64>}} : () -> tensor<2xf64>
  %b = "tensorlang.constant"() {{value = dense<{bump}> : tensor<4xf64>}} : () -> tensor<4xf64>
  %m = "tensorlang.add"(%mem, %b) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  return %a, %m : tensor<2xf64>, tensor<4xf64>
}}
"""
    return compiler.compile(text, f"const{counter_index}.mlir", require_control=True)


def test_hot_swap_switches_a_running_native_loop(compiler):
    first = _constant_controller(compiler, 1.0, 0)
    second = _constant_controller(compiler, 2.0, 1)
    slot = ControllerSlot(first, "first")
    assert slot.current_id == "first"
    loop = NativeLoop(slot, np.zeros(8), steps=10**12).start()
    try:
        deadline = time.monotonic() + 30
        while loop.progress < 50_000 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert loop.progress >= 50_000, "the native loop did not start"
        slot.swap(second, "second")  # from this (another) thread, while it runs
        swapped_at = loop.progress
        while loop.progress < swapped_at + 50_000 and time.monotonic() < deadline:
            time.sleep(0.001)
    finally:
        loop.stop()
        steps = loop.join(timeout=30)
    assert steps is not None and steps > swapped_at
    switches = loop.switches()
    # exactly one switch, mid-run, from the first controller to the second
    assert [cid for _, cid in switches] == ["first", "second"]
    switch_step = switches[1][0]
    assert 50_000 <= switch_step <= swapped_at + 50_000
    # No torn state: every step ran wholly one controller. mem counts the steps each
    # controller ran; they add up to all steps, and the split is exactly at the switch.
    assert loop.mem[0] == switch_step
    assert loop.mem[0] + loop.mem[1] == steps
    assert list(loop.action) == [2.0, 2.0]
    assert slot.current_id == "second"


def test_slot_step_from_python_uses_current_controller(compiler):
    first = _constant_controller(compiler, 1.0, 0)
    second = _constant_controller(compiler, 3.0, 2)
    slot = ControllerSlot(first, "a")
    action, mem = slot.step(np.zeros(8), np.zeros(4))
    assert list(action) == [1.0, 1.0] and list(mem) == [1.0, 0.0, 0.0, 0.0]
    slot.swap(second, "b")
    action, mem = slot.step(np.zeros(8), mem)
    assert list(action) == [3.0, 3.0] and list(mem) == [1.0, 0.0, 1.0, 0.0]
    with pytest.raises(ValueError):
        slot.step(np.zeros(7), mem)
