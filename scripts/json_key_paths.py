"""The key paths of the CLI's --json outputs (and run's JSON line), to compare before and
after a refactoring: ``python scripts/json_key_paths.py OUT.json`` runs each command and
writes {command: sorted key paths}; ``--compare A.json B.json`` prints the differences.

A key path is the chain of keys down to a value, list elements merged as ``[]``
(``evaluations[].id``), with the value's JSON type: ``seeds[].path: str``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(os.environ.get("NEUROJIT_ROOT") or Path(__file__).resolve().parent.parent)
SAMPLES = ROOT / "samples"


def key_paths(value: object, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        paths = {f"{prefix}: object"} if not value else set()
        for key, item in value.items():
            paths |= key_paths(item, f"{prefix}.{key}" if prefix else str(key))
        return paths
    if isinstance(value, list):
        paths = {f"{prefix}[]: (list)"}
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
        return paths
    kind = {bool: "bool", int: "number", float: "number", str: "str", type(None): "null"}
    return {f"{prefix}: {kind.get(type(value), type(value).__name__)}"}


def commands(registry: str) -> dict[str, list[str]]:
    pd, broken = str(SAMPLES / "pd.mlir"), str(SAMPLES / "broken" / "undefined_value.mlir")
    evolve = ["evolve", "--evaluations", "200", "--no-llm", "--json", "--seed", "1"]
    return {
        "check": ["check", "--json", pd],
        "check broken": ["check", "--json", broken],
        "run": ["run", str(SAMPLES / "pd.mlir"), "--entry", "control", *RUN_ARGS],
        "swarm": ["swarm", pd, "--json", "--agents", "50"],
        "swarm broken": ["swarm", broken, "--json", "--agents", "50"],
        "evolve": [*evolve, "--no-cache"],
        "evolve registry": [*evolve, "--registry", registry],
        "registry ls": ["registry", "ls", "--json", "--registry", registry],
        # known conditions: the registry answers, no model is loaded
        "synthesize": ["synthesize", "--json", "--registry", registry, "--agents", "50"],
        "gym": ["gym", pd, "--env", "NeuroJIT/LunarLander-v0", "--workers", "0", "--json"],
        "bench jit": ["bench", "jit", "--json", "--repeats", "1"],
    }


RUN_ARGS = ["--arg", json.dumps([0.0] * 8), "--arg", json.dumps([0.0] * 4)]


def record(out: str) -> None:
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "NEUROJIT_HOME": home}
        for name, argv in commands(str(Path(home) / "registry")).items():
            run = subprocess.run(
                [sys.executable, "-m", "neurojit_tui.cli", *argv],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
            )
            try:
                paths: object = sorted(key_paths(json.loads(run.stdout)))
            except json.JSONDecodeError:
                paths = {"stdout": run.stdout[-500:], "stderr": run.stderr[-500:]}
            results[name] = {"exit": run.returncode, "paths": paths}
            print(name, run.returncode, file=sys.stderr)
    Path(out).write_text(json.dumps(results, indent=1) + "\n")


def compare(before: str, after: str) -> int:
    a, b = json.loads(Path(before).read_text()), json.loads(Path(after).read_text())
    differ = 0
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            differ += 1
            print(f"{name}: differs")
            pa, pb = a.get(name, {}), b.get(name, {})
            if pa.get("exit") != pb.get("exit"):
                print(f"  exit {pa.get('exit')} -> {pb.get('exit')}")
            la, lb = pa.get("paths"), pb.get("paths")
            if isinstance(la, list) and isinstance(lb, list):
                for path in sorted(set(la) - set(lb)):
                    print(f"  - {path}")
                for path in sorted(set(lb) - set(la)):
                    print(f"  + {path}")
            else:
                print(f"  {la!r}\n  -> {lb!r}")
        else:
            print(f"{name}: same")
    return 1 if differ else 0


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    record(sys.argv[1])
