"""The L1/L2 registry: round trip through object code, integrity under every failure."""

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from neurojit_tui.compiler import ControllerSlot
from neurojit_tui.memory import Registry, cache_key, rebuild_with, remember
from neurojit_tui.sim import Environment

from .conftest import SAMPLES, body_lines, scripted_agents

MODELS = {"reasoning": "smol.gguf:1", "synthesis": "gemma.gguf:2"}
OBS = np.linspace(-1, 1, 8)


@pytest.fixture
def stored(tmp_path, compiler):
    """A registry folder with the heuristic controller stored under the Moon key."""
    key, key_data = cache_key(Environment(), MODELS)
    text = (SAMPLES / "heuristic.mlir").read_text()
    program = compiler.compile(text, "heuristic.mlir", require_control=True)
    registry = Registry(tmp_path / "registry")
    remember(
        registry,
        key,
        key_data,
        text,
        "heuristic.mlir",
        program,
        scores={"success_rate": 0.99, "cvar10_score": 209.2},
    )
    assert registry.lookup(key)[1] == "l1"
    assert registry.flush()
    (expected, _), _ = program.call("control", OBS, np.zeros(4))
    return tmp_path / "registry", key, expected


def _act(controller):
    slot = ControllerSlot(controller, "cached")
    return slot.step(OBS, np.zeros(4))[0]


def _version(root, key):
    (path,) = (root / "entries" / key).glob("*.json")
    return path


def test_warm_start_loads_object_code_without_mlir(stored):
    root, key, expected = stored
    code = f"""
import sys, numpy as np
from neurojit_tui.memory import Registry
import ctypes
controller, level = Registry({str(root)!r}).lookup({key!r})
obs, mem, act, out = np.linspace(-1, 1, 8), np.zeros(4), np.zeros(2), np.zeros(4)
control = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 4)(controller.address("control"))
control(obs.ctypes.data, mem.ctypes.data, act.ctypes.data, out.ctypes.data)
print(level, act.tolist(), "mlir" in " ".join(sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    level, rest = out.stdout.split(" ", 1)
    action, mlir_loaded = rest.rsplit(" ", 1)
    assert level == "l2" and mlir_loaded.strip() == "False"
    np.testing.assert_allclose(json.loads(action), expected)


def test_near_identical_conditions_share_a_key_and_others_do_not():
    assert (
        cache_key(Environment(gravity=1.62), MODELS)[0]
        == cache_key(Environment(gravity=1.615), MODELS)[0]
    )
    assert (
        cache_key(Environment(gravity=1.62), MODELS)[0]
        != cache_key(Environment(gravity=3.7), MODELS)[0]
    )
    other_models = {**MODELS, "synthesis": "other.gguf:3"}
    assert cache_key(Environment(), MODELS)[0] != cache_key(Environment(), other_models)[0]


def test_truncated_object_is_quarantined_and_rebuilt_from_ir(stored, compiler):
    root, key, expected = stored
    (obj,) = (root / "entries" / key).glob("obj-*.o")
    obj.write_bytes(obj.read_bytes()[:100])
    registry = Registry(root, rebuild=rebuild_with(compiler))
    controller, level = registry.lookup(key)
    assert level == "l2" and any("hash mismatch" in w for w in registry.warnings)
    np.testing.assert_allclose(_act(controller), expected)
    assert list((root / "quarantine").iterdir())


def test_flipped_byte_in_an_entry_is_caught_and_never_returns_wrong_code(stored):
    root, key, _ = stored
    path = _version(root, key)
    data = bytearray(path.read_bytes())
    at = data.index(b"0.99")
    data[at + 3] = ord("8")  # the score 0.99 -> 0.98: any edit breaks the content hash
    path.write_bytes(bytes(data))
    registry = Registry(root)
    controller, level = registry.lookup(key)
    assert (controller, level) == (None, "miss")
    assert any("content hash mismatch" in w for w in registry.warnings)


def test_foreign_toolchain_is_quarantined_and_rebuilt(stored, compiler):
    from neurojit_tui.memory.registry import _content_hash

    root, key, expected = stored
    path = _version(root, key)
    data = json.loads(path.read_text())
    data["key_data"]["toolchain"]["llvm"] = "0.0-other"
    data["entry_sha256"] = _content_hash(data)
    path.write_text(json.dumps(data))
    registry = Registry(root, rebuild=rebuild_with(compiler))
    controller, level = registry.lookup(key)
    assert level == "l2" and any("another compiler" in w for w in registry.warnings)
    np.testing.assert_allclose(_act(controller), expected)


def test_unreadable_registry_is_a_warning_not_a_crash(tmp_path):
    root = tmp_path / "registry"
    root.mkdir()
    (root / "entries").write_text("not a folder")
    registry = Registry(root)
    assert registry.lookup("0" * 32) == (None, "miss")
    assert registry.keys() == [] and registry.entries() == []


_WRITER = r"""
import sys, time
from neurojit_tui.compiler import Compiler
from neurojit_tui.memory import Registry, cache_key, remember
from neurojit_tui.sim import Environment
compiler = Compiler()
text = open(sys.argv[2]).read()
program = compiler.compile(text, "pd.mlir", require_control=True)
registry = Registry(sys.argv[1])
print("ready", flush=True)
for i in range(100000):
    key, data = cache_key(Environment(gravity=1.0 + 0.1 * (i % 7)), {"m": sys.argv[3]})
    remember(registry, key, data, text, "pd.mlir", program, scores={"success_rate": i / 1e6})
    if i % 5 == 0:
        registry.flush()
"""


def _versions(root) -> dict[str, str]:
    """Every stored version file under ``root`` with the SHA-256 of its bytes."""
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in (root / "entries").glob("*/*.json")
    }


KILLS = 20


def test_kill_9_at_random_moments_of_write_back_never_corrupts_the_registry(tmp_path):
    """A writer storing controllers as fast as it can is killed with SIGKILL at a random
    moment, 20 times over one registry: every time the registry verifies clean, every
    version stored before is still there byte for byte, and every key loads from L2."""
    root = tmp_path / "registry"
    rng = random.Random(20)
    seen: dict[str, str] = {}
    for kill in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(root), str(SAMPLES / "pd.mlir"), f"w{kill}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        registry = Registry(root)
        result = registry.verify()
        assert result["problems"] == [], f"after kill {kill + 1}: {result['problems']}"
        now = _versions(root)
        lost = {path for path in seen if now.get(path) != seen[path]}
        assert not lost, f"after kill {kill + 1}, earlier versions changed or vanished: {lost}"
        seen = now
        for key in {Path(path).parent.name for path in now}:  # a folder may be empty yet
            assert registry.lookup(key)[1] == "l2"
    assert len(seen) > KILLS  # the writers did store between the kills
    Registry(root).gc(keep_versions=10**6, tmp_age_s=0)
    assert not list((root / "tmp").glob("*.tmp"))


def test_two_processes_sharing_a_registry_lose_no_update(tmp_path):
    root = tmp_path / "registry"
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WRITER.replace("100000", "20"),
                str(root),
                str(SAMPLES / "pd.mlir"),
                name,
            ],
            stdout=subprocess.DEVNULL,
        )
        for name in ("a", "b")
    ]
    for w in writers:
        assert w.wait(timeout=120) == 0
    registry = Registry(root)
    versions = sum(len(list((root / "entries" / k).glob("*.json"))) for k in registry.keys())
    assert versions == 40 and len(registry.keys()) == 14  # 7 conditions x 2 model sets


def test_registry_cli_ls_show_verify_gc(stored):
    root, key, _ = stored
    run = lambda *a: subprocess.run(
        [sys.executable, "-m", "neurojit_tui.cli", "registry", *a, "--registry", str(root)],
        capture_output=True,
        text=True,
    )
    listing = json.loads(run("ls", "--json").stdout)
    assert listing[0]["key"] == key and listing[0]["scores"]["success_rate"] == 0.99
    assert "tensorlang.clamp" in run("show", key).stdout
    assert json.loads(run("verify", "--json").stdout)["problems"] == []
    assert run("gc").returncode == 0


def test_cross_generation_breeds_from_nearby_entries_and_the_swarm_decides(
    tmp_path, compiler, monkeypatch
):
    from neurojit_tui.agents import pipeline
    from neurojit_tui.agents.synthesis import renumbered

    registry = Registry(tmp_path / "registry")
    pd = (SAMPLES / "pd.mlir").read_text()
    for gravity, kp in ((1.5, 0.5), (1.75, 0.7)):
        key, data = cache_key(Environment(gravity=gravity), MODELS)
        remember(
            registry,
            key,
            data,
            pd,
            "pd.mlir",
            compiler.compile(pd, "pd.mlir", require_control=True),
            scores={"success_rate": 0.01},
            strategy={"family": "pd", "kp": kp, "kd": 1.0, "ki": 0.0, "rationale": ""},
        )
    registry.flush()
    far_key, far_data = cache_key(Environment(gravity=9.0), MODELS)
    remember(
        registry,
        far_key,
        far_data,
        pd,
        "pd.mlir",
        compiler.compile(pd, "pd.mlir", require_control=True),
        strategy={"family": "pid", "kp": 9.0, "kd": 9.0, "ki": 9.0, "rationale": ""},
    )
    registry.flush()
    assert [e.key_data["condition"]["gravity"] for e in registry.nearby(Environment(), 2)] == [
        1.5,
        1.75,
    ]

    child_lines = body_lines(renumbered((SAMPLES / "heuristic.mlir").read_text()))
    agents = scripted_agents(
        ['{"family": "heuristic", "kp": 0.5, "kd": 1.0, "ki": 0.0, "rationale": "merge"}'],
        child_lines,
        max_lines=60,
    )
    reasoning = agents.reasoning.backend
    monkeypatch.setattr(pipeline, "model_identities", lambda agents: MODELS)
    log = []
    run = pipeline.cross_generation(
        agents,
        Environment(),
        registry,
        parents=2,
        agents_in_swarm=64,
        out_dir=tmp_path / "out",
        compiler=compiler,
        log=log.append,
    )
    # The child is heuristic.mlir renamed: it beats its parents, not the sample itself.
    assert any(line.startswith("not remembered: not better than heuristic.mlir") for line in log)
    registry.flush()
    assert registry.best(cache_key(Environment(), MODELS)[0]) is None
    # With no sample to beat, the child that beats its parents is remembered.
    import neurojit_tui.memory.admission as admission

    monkeypatch.setattr(admission, "sample_rivals", lambda *args, **kwargs: {})
    agents = scripted_agents(
        ['{"family": "heuristic", "kp": 0.5, "kd": 1.0, "ki": 0.0, "rationale": "m"}'],
        child_lines,
        max_lines=60,
    )
    run = pipeline.cross_generation(
        agents,
        Environment(),
        registry,
        parents=2,
        agents_in_swarm=64,
        out_dir=tmp_path / "out2",
        compiler=compiler,
        log=lambda m: None,
    )
    assert reasoning.prompts[0].count("parent ") == 2 and "kp=0.7" in reasoning.prompts[0]
    assert run.best.child_wins and run.best.path.endswith("child.mlir")
    registry.flush()
    key, _ = cache_key(Environment(), MODELS)
    child = registry.best(key)
    assert child.provenance["generation"] == "cross" and len(child.provenance["parents"]) == 2
    assert child.scores["success_rate"] > 0.9 and child.scores["validation"]["agents"] == 1000


def test_synthesize_answers_known_conditions_from_memory(tmp_path, compiler, monkeypatch):
    """First run: the agents write a controller and it is remembered. Second run: L1.
    A new process (a fresh Registry on the same folder): L2. No model is asked again."""
    from neurojit_tui.agents import pipeline
    from neurojit_tui.agents.synthesis import example_program

    strategy = '{"family": "pd", "kp": 0.5, "kd": 1.0, "ki": 0.0, "rationale": "soft"}'
    lines = body_lines(example_program())

    def team():
        return scripted_agents([strategy], lines)

    monkeypatch.setattr(pipeline, "model_identities", lambda agents: MODELS)
    registry = Registry(tmp_path / "registry")
    # A controller worse than the samples is neither remembered nor, if an older registry
    # holds one, given as the answer for known conditions.
    log = []
    options = dict(
        candidates=1,
        agents_in_swarm=32,
        out_dir=tmp_path / "out",
        compiler=compiler,
        log=log.append,
    )
    refused = pipeline.synthesize(team(), Environment(), registry=registry, **options)
    assert (
        refused.best.memory["stored"] is False and "heuristic.mlir" in refused.best.memory["reason"]
    )
    key, key_data = cache_key(Environment(), MODELS)
    text = (SAMPLES / "pd.mlir").read_text()
    remember(
        registry,
        key,
        key_data,
        text,
        "pd.mlir",
        compiler.compile(text, "pd.mlir", require_control=True),
        scores={"success_rate": 1.0},
    )
    again = pipeline.synthesize(team(), Environment(), registry=registry, **options)
    assert again.cache == "miss" and any("worse than heuristic.mlir" in line for line in log)
    # With no sample to beat, what the agents write is remembered and answers from then on.
    import neurojit_tui.memory.admission as admission

    monkeypatch.setattr(admission, "sample_rivals", lambda *args, **kwargs: {})
    registry = Registry(tmp_path / "registry2")
    options["log"] = lambda m: None
    first = pipeline.synthesize(team(), Environment(), registry=registry, **options)
    assert first.cache == "miss" and first.status == "ok"
    second = pipeline.synthesize(team(), Environment(), registry=registry, **options)
    assert second.cache == "l1"
    registry.flush()
    third = pipeline.synthesize(
        team(), Environment(), registry=Registry(tmp_path / "registry2"), **options
    )
    assert third.cache == "l2" and third.best.source == first.best.source
