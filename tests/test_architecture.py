"""The process split: engine packages never import textual, and the UI process never
loads MLIR, the JIT or llama.cpp (the engine process does)."""

import ast

from neurojit_tui.paths import PROJECT_ROOT

ENGINE_PACKAGES = ["compiler", "sim", "agents", "memory", "engine"]


def test_engine_packages_do_not_import_textual():
    offenders = []
    for name in ENGINE_PACKAGES:
        folder = PROJECT_ROOT / "neurojit_tui" / name
        for path in folder.rglob("*.py") if folder.exists() else []:
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                modules = []
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    modules = [node.module]
                if any(m == "textual" or m.startswith("textual.") for m in modules):
                    offenders.append(f"{path}:{node.lineno}")
    assert not offenders, offenders
    assert (PROJECT_ROOT / "neurojit_tui" / "compiler").exists()


UI_PROBE = '''
import asyncio, sys
from neurojit_tui.ui.app import NeuroJITApp
from neurojit_tui.ui.lander import LanderView

async def main():
    app = NeuroJITApp(sys.argv[1], remember_layout=False)
    async with app.run_test(size=(160, 50)) as pilot:
        for _ in range(1200):  # the engine checks the program...
            if app.diagnostics is not None and app.query_one("#diagnostics").option_count:
                break
            await pilot.pause(0.05)
        await pilot.press("f6", "f7")  # ...flies 100 landers and a live one
        view = app.query_one(LanderView)
        for _ in range(1200):
            if view.frame is not None and app.query_one("#swarm").runs:
                break
            await pilot.pause(0.05)
        assert view.frame is not None, "no frame came"
    native = sorted({m.split(".")[0] for m in sys.modules} & {"mlir", "llama_cpp", "llvmlite"})
    print("native:", ",".join(native))

if __name__ == "__main__":  # the engine is spawned: it re-imports this file
    asyncio.run(main())
'''


def test_the_ui_process_never_loads_mlir_the_jit_or_llama(tmp_path):
    """The architecture's promise, checked at run time in a fresh interpreter: while the
    engine checks, swarms and flies a program, the UI process has none of them loaded."""
    import os
    import subprocess
    import sys

    probe = tmp_path / "probe.py"
    probe.write_text(UI_PROBE)
    result = subprocess.run([sys.executable, str(probe), str(PROJECT_ROOT / "samples" / "pd.mlir")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "NEUROJIT_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "native: \n" in result.stdout or result.stdout.strip() == "native:", result.stdout


def _imports(folder):
    """(path:line, module) of every import in the package ``folder``."""
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                yield f"{path}:{node.lineno}", name


def test_the_editor_and_gym_packages_keep_to_their_side():
    """The language server and the Gymnasium environments never import textual; the server
    also never imports MLIR, the JIT or llama.cpp itself (its checks run in the engine
    process; tests/test_lsp.py checks the running server's memory map too)."""
    root = PROJECT_ROOT / "neurojit_tui"
    offenders = [(where, name) for package in ("lsp", "gym") for where, name in _imports(root / package)
                 if name.split(".")[0] == "textual"]
    offenders += [(where, name) for where, name in _imports(root / "lsp")
                  if name.split(".")[0] in ("mlir", "llvmlite", "llama_cpp")]
    assert not offenders, offenders
