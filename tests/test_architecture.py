"""Engine packages never import textual: the UI process is the only one that does."""

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
