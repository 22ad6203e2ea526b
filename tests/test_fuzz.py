"""Random mutations of the samples never crash the compiler: each mutant ends as
diagnostics or as a program that compiles and runs. The fuzzer runs in a child process
so that a native crash fails this test (with the mutant saved) instead of killing pytest."""

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("seed", [101, 202])
def test_mutants_give_diagnostics_or_compile(tmp_path, seed):
    last = tmp_path / "last-mutant.mlir"
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "neurojit_tui.compiler.fuzz",
            "--seed",
            str(seed),
            "--count",
            "400",
            "--last",
            str(last),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0, (
        f"fuzzer died with {child.returncode} on:\n{last.read_text() if last.exists() else '?'}"
        f"\n{child.stderr[-3000:]}"
    )
    outcome = json.loads(child.stdout.strip().splitlines()[-1])
    assert outcome["diagnostics"] + outcome["compiled"] == 400
    # both outcomes occur, so the mutations really exercise the verifier and the JIT
    assert outcome["diagnostics"] > 100 and outcome["compiled"] > 5
