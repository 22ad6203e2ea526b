"""The neurojit CLI (names and JSON keys are relied on by later work)."""

import json
import subprocess
import sys

import numpy as np

from neurojit_tui.paths import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "samples"


def neurojit(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "neurojit_tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_check_valid_samples_exit_0():
    result = neurojit("check", *sorted(SAMPLES.glob("*.mlir")), "--controller")
    assert result.returncode == 0, result.stderr


def test_check_text_format_and_exit_1():
    path = SAMPLES / "broken" / "slice_bounds.mlir"
    result = neurojit("check", path)
    assert result.returncode == 1
    assert f"{path}:5:11: error: slice out of bounds" in result.stderr


def test_check_json():
    path = SAMPLES / "broken" / "matvec_shape.mlir"
    result = neurojit("check", path, SAMPLES / "pd.mlir", "--json")
    assert result.returncode == 1
    diagnostics = json.loads(result.stdout)
    assert len(diagnostics) == 1
    d = diagnostics[0]
    assert {"file", "line", "col", "severity", "message"} <= set(d)
    assert (d["file"], d["line"], d["col"], d["severity"]) == (str(path), 7, 10, "error")


def test_compile_emits(tmp_path):
    pd = SAMPLES / "pd.mlir"
    lowered = neurojit("compile", pd, "--emit", "mlir-lowered")
    assert lowered.returncode == 0 and "linalg.matvec" in lowered.stdout
    assert "tensorlang." not in lowered.stdout
    llvm = neurojit("compile", pd, "--emit", "llvm-dialect")
    assert llvm.returncode == 0 and "llvm.func @control" in llvm.stdout
    obj = tmp_path / "pd.o"
    result = neurojit("compile", pd, "--emit", "obj", "-o", obj)
    assert result.returncode == 0 and obj.read_bytes()[:4] == b"\x7fELF"
    printed = neurojit("compile", pd, "--print-ir-after-all")
    assert printed.returncode == 0 and "IR Dump After" in printed.stderr


def test_compile_reports_errors():
    # A function named @control is always held to the controller ABI.
    result = neurojit("compile", SAMPLES / "broken" / "wrong_abi.mlir")
    assert (
        result.returncode == 1
        and "wrong_abi.mlir:3:1: error: @control does not match" in result.stderr
    )
    assert neurojit("compile", SAMPLES / "broken" / "raw_memory.mlir").returncode == 1


def test_run_prints_results_as_json():
    obs = [0.3, 1.2, -0.1, -0.3, 0.05, 0.01, 0.0, 0.0]
    result = neurojit(
        "run",
        SAMPLES / "heuristic.mlir",
        "--entry",
        "control",
        "--arg",
        json.dumps(obs),
        "--arg",
        "[0,0,0,0]",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    action, mem = out["results"]
    np.testing.assert_allclose(action, [-1.0, 0.2], atol=1e-12)  # computed by hand
    assert mem == [0, 0, 0, 0] and out["assert_violation"] is None


def test_run_reports_assert_violation(tmp_path):
    prog = tmp_path / "a.mlir"
    prog.write_text(
        "func.func @f(%x: f64) -> f64 {\n  %z = arith.constant 0.0 : f64\n"
        "  %ok = arith.cmpf ogt, %x, %z : f64\n"
        '  "tensorlang.assert"(%ok) {message = "x must be positive"} : (i1) -> ()\n'
        "  return %x : f64\n}\n"
    )
    result = neurojit("run", prog, "--entry", "f", "--arg", "-1.5")
    assert result.returncode == 2
    out = json.loads(result.stdout)
    assert out["results"] == [-1.5]
    assert out["assert_violation"]["line"] == 4 and "x must be positive" in result.stderr


def test_run_bad_arguments_are_clear():
    result = neurojit(
        "run", SAMPLES / "pd.mlir", "--entry", "control", "--arg", "[1,2]", "--arg", "[0,0,0,0]"
    )
    assert result.returncode != 0 and "shape" in result.stderr
    result = neurojit("run", SAMPLES / "pd.mlir", "--entry", "nope")
    assert result.returncode != 0 and "no function @nope" in result.stderr
    result = neurojit("check", PROJECT_ROOT / "does-not-exist.mlir")
    assert result.returncode != 0 and "cannot read" in result.stderr


def test_bench_jit_json_keys():
    result = neurojit("bench", "jit", "--json", "--repeats", "2")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["file"].rsplit("/", 1)[-1] for r in rows} >= {
        "pd.mlir",
        "pid.mlir",
        "mlp.mlir",
        "heuristic.mlir",
    }
    for r in rows:
        assert r["verify_s"] > 0 and r["jit_s"] > 0
        assert r["full_total_s"] > 0 and r["speedup"] > 0  # the O3 baseline, same run


def test_demo_runs():
    result = neurojit("demo")
    assert result.returncode == 0, result.stderr
    assert "controller switches" in result.stdout


def test_conditions_no_controller_can_land_in_get_a_warning(tmp_path):
    heuristic = str(SAMPLES / "heuristic.mlir")
    flags = ["--agents", "20", "--max-steps", "50", "--json"]
    heavy = neurojit("swarm", heuristic, "--gravity", "6", *flags)
    assert heavy.returncode in (0, 1), heavy.stderr
    assert "warning: gravity 6 m/s^2 is not below the main engine's 5 m/s^2" in heavy.stderr
    assert json.loads(heavy.stdout)["agents"] == 20  # the run still goes ahead
    moon = neurojit("swarm", heuristic, *flags)
    assert "warning" not in moon.stderr


def test_evolve_s_defaults_are_evolve_options_own():
    """The command line, the engine's request and the workstation share one set of
    defaults, EvolveOptions's: evolve without flags asks for them (the budget too), and a
    bound given alone leaves the budget off."""
    from dataclasses import replace

    from neurojit_tui.cli import build_parser
    from neurojit_tui.commands.evolve import COMMAND, EvolveRequest
    from neurojit_tui.evolve.results import EvolveOptions

    def options(*flags):
        return COMMAND.request_from(build_parser().parse_args(["evolve", *flags])).options

    assert options() == EvolveOptions() == EvolveRequest().options
    assert options("--evaluations", "200") == replace(
        EvolveOptions(), budget_s=None, evaluations=200
    )
    assert options("--no-llm", "--operator-choice", "bandit", "--seed", "7") == replace(
        EvolveOptions(), use_llm=False, operator_choice="bandit", seed=7
    )


def test_an_environment_run_on_the_clock_polishes_by_default():
    """--env: a run a time budget bounds (given or the default) polishes ENV_POLISH_SHARE
    of it in the environment; one bounded by a count polishes only when told to."""
    from neurojit_tui.cli import build_parser
    from neurojit_tui.commands.evolve import COMMAND
    from neurojit_tui.evolve.results import ENV_POLISH_SHARE

    def share(*flags):
        args = build_parser().parse_args(["evolve", "--env", "LunarLanderContinuous-v3", *flags])
        return COMMAND.request_from(args).options.gym_polish_share

    assert 0 < ENV_POLISH_SHARE < 1
    assert share() == share("--budget", "30") == ENV_POLISH_SHARE
    assert share("--evaluations", "40") == share("--generations", "2") == 0.0
    assert share("--budget", "30", "--polish", "0") == 0.0
    assert share("--evaluations", "40", "--polish", "0.5") == 0.5
