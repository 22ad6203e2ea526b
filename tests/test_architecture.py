"""The architecture: packages in layers, each importing only from the layers below it;
textual only in the UI; and the process split: the UI process never loads MLIR, the
JIT or llama.cpp (the engine process does)."""

import ast
import re

from neurojit_tui.paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "neurojit_tui"

# From the bottom. A unit is a package of neurojit_tui or one of its top-level modules;
# the package's own small modules (__init__ with the version, bounded, once, paths,
# resources) are one unit, "base". A unit may import itself and the units of lower
# layers only; units that share a layer do not import each other.
LAYERS = (
    ("base",),
    ("compiler",),  # TensorLang: dialect, verifier, lowering, JIT, hot-swap
    ("sim",),  # the lander, swarms of it (native kernels from the compiler)
    ("gym", "memory", "cluster"),  # Gymnasium environments; the registry (flies rivals with
    # sim); Ray clusters flying sim's kernels (Ray imported only when one is asked for)
    ("agents",),  # the LLM agents and the synthesis pipeline (answers from memory)
    ("evolve",),  # the evolutionary search (compiler, sim, memory, agents)
    ("benches",),  # neurojit bench's measurements, which the product never imports
    ("commands",),  # the user's operations: request, flags, run, presentation (one each)
    ("engine",),  # the engine process: everything above the UI runs in it
    ("demo", "lsp", "ui"),  # programs that talk to the engine, or run the demo
    ("cli",),
)
BASE_MODULES = {
    "__init__",
    "bounded",
    "config",
    "lazy",
    "once",
    "paths",
    "resources",
    "version",
}


def _unit(module: str) -> str | None:
    """The unit of a dotted module name inside neurojit_tui, None for anything outside."""
    parts = module.split(".")
    if parts[0] != "neurojit_tui":
        return None
    if len(parts) == 1 or parts[1] in BASE_MODULES:
        return "base"
    return parts[1]


def _module_name(path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = PROJECT_ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(folder):
    """(path:line, imported module) of every import in ``folder``'s Python files, relative
    ones resolved (``from p import x`` imports module p.x when there is one, else p)."""
    for path in sorted(folder.rglob("*.py")):
        package = _module_name(path).split(".")
        if path.name != "__init__.py":
            package = package[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
                module = ".".join(filter(None, [base, node.module]))
                names = [
                    f"{module}.{a.name}" if _is_module(f"{module}.{a.name}") else module
                    for a in node.names
                ]
            for name in names:
                yield f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}", name


def test_every_unit_has_a_layer():
    placed = {unit for layer in LAYERS for unit in layer}
    found = {_unit(_module_name(path)) for path in PACKAGE.rglob("*.py")}
    assert found == placed, (
        f"not in LAYERS: {sorted(found - placed)}; in LAYERS but missing: {sorted(placed - found)}"
    )


def test_units_import_only_from_lower_layers():
    layer_of = {unit: n for n, layer in enumerate(LAYERS) for unit in layer}
    offenders = []
    for where, module in _imports(PACKAGE):
        importer = _unit(_module_name(PROJECT_ROOT / where.split(":")[0]))
        imported = _unit(module)
        if (
            imported is not None
            and imported != importer
            and (layer_of[imported] >= layer_of[importer])
        ):
            offenders.append(f"{where}: {importer} imports {module}")
    assert not offenders, "\n".join(offenders)


# Inside the compiler: the modules the driver builds on never import it back.
BELOW_THE_DRIVER = ("neurojit_tui/compiler/jit.py", "neurojit_tui/compiler/machine_code.py")


def test_the_jit_and_machine_code_do_not_import_the_driver():
    """The driver (text to machine code) uses jit.py (a compiled program) and
    machine_code.py (LLVM, the process JIT); they are lower, and do not import it, not
    even for type annotations."""
    offenders = [
        f"{where}: {name}"
        for where, name in _imports(PACKAGE / "compiler")
        if where.split(":")[0] in BELOW_THE_DRIVER
        and name.startswith("neurojit_tui.compiler.driver")
    ]
    assert not offenders, offenders


def test_only_the_ui_imports_textual():
    offenders = [
        f"{where}: {name}"
        for where, name in _imports(PACKAGE)
        if name.split(".")[0] == "textual" and not where.startswith("neurojit_tui/ui/")
    ]
    assert not offenders, offenders


UI_PROBE = """
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
"""


def test_the_ui_process_never_loads_mlir_the_jit_or_llama(tmp_path):
    """The architecture's promise, checked at run time in a fresh interpreter: while the
    engine checks, swarms and flies a program, the UI process has none of them loaded."""
    import os
    import subprocess
    import sys

    probe = tmp_path / "probe.py"
    probe.write_text(UI_PROBE)
    result = subprocess.run(
        [sys.executable, str(probe), str(PROJECT_ROOT / "samples" / "pd.mlir")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NEUROJIT_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "native: \n" in result.stdout or result.stdout.strip() == "native:", result.stdout


def test_the_language_server_keeps_to_its_side():
    """The language server never imports MLIR, the JIT or llama.cpp itself (its checks run
    in the engine process; tests/test_lsp.py checks the running server's memory map too),
    nor anything of the compiler but its MLIR-free parts."""
    offenders = [
        (where, name)
        for where, name in _imports(PACKAGE / "lsp")
        if name.split(".")[0] in ("mlir", "llvmlite", "llama_cpp")
        or (
            _unit(name) == "compiler"
            and name
            not in (
                "neurojit_tui.compiler.dialect",
                "neurojit_tui.compiler.diagnostics",
                "neurojit_tui.compiler.syntax",
            )
        )
    ]
    assert not offenders, offenders


# A regex literal that spells an SSA value name: "%" then a character class ("%[\w.]+",
# "%(?:[0-9]+|...)"). Value names are spelled once, in compiler/syntax.py.
_VALUE_NAME_LITERAL = re.compile(r"%(?:\(\?:)?\[")


def test_value_names_are_spelled_only_in_the_syntax_module():
    home = PACKAGE / "compiler" / "syntax.py"
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == home:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _VALUE_NAME_LITERAL.search(node.value)
            ):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert not offenders, "SSA-name patterns outside compiler/syntax.py: " + ", ".join(offenders)


def test_the_settings_file_has_one_reader():
    """Only neurojit_tui/config.py parses config.toml; the packages read their section."""
    readers = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "tomllib" in path.read_text()
    ]
    assert readers == ["config.py"], readers


# The workstation's App class composes the panes, turns keys into pane calls and routes
# messages between them; behaviour lives in the panes and the small modules beside it.
APP_CLASS_MAX_LINES = 250


def test_the_workstation_app_class_only_composes_and_routes():
    path = PACKAGE / "ui" / "app.py"
    tree = ast.parse(path.read_text(), str(path))
    (app,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "NeuroJITApp"]
    lines = app.end_lineno - app.lineno + 1
    assert lines <= APP_CLASS_MAX_LINES, (
        f"NeuroJITApp is {lines} lines (at most {APP_CLASS_MAX_LINES}): move behaviour into "
        "its pane or a module of ui/, and keep the class to composition and routing"
    )


# -- commands: one home per user operation ---------------------------------------------------


def test_commands_are_registered_once():
    """Each module of commands/ (but base and args) is one command, in the table once, with
    its own name and request type; the command line's parser and the engine's handler
    table are built from that table, and neither names a command's operation itself."""
    import functools

    from neurojit_tui import cli
    from neurojit_tui.commands import BY_REQUEST, COMMANDS
    from neurojit_tui.engine import server

    modules = sorted(
        path.stem
        for path in (PACKAGE / "commands").glob("*.py")
        if path.stem not in ("__init__", "base", "args")
    )
    homes = sorted(type(command).__module__.rsplit(".", 1)[-1] for command in COMMANDS.values())
    assert homes == modules, "each commands/ module holds one command, listed in COMMANDS"
    assert sorted(COMMANDS) == sorted({command.name for command in COMMANDS.values()})
    requests = [c.request for c in COMMANDS.values() if c.request is not None]
    assert len(requests) == len(set(requests)) == len(BY_REQUEST)
    # the command line: a subparser per command, whose handler is the command's
    choices = cli.build_parser()._subparsers._group_actions[0].choices
    for name, command in COMMANDS.items():
        assert choices[name].get_default("handler") == command.main, name
    spelled = [
        f"cli.py:{node.lineno}"
        for node in ast.walk(ast.parse((PACKAGE / "cli.py").read_text()))
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", None) == "add_parser"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value in COMMANDS
    ]
    assert not spelled, f"a command's parser built outside its module: {spelled}"
    # the engine: its handler for a command's request is the command's run
    table = server.Handlers().table()
    for request, command in BY_REQUEST.items():
        handler = table[request]
        assert isinstance(handler, functools.partial) and handler.func == command.run, request
    handled_by_methods = {
        name for name in vars(server.Handlers) if name in {r.op for r in BY_REQUEST}
    }
    assert not handled_by_methods, f"the engine re-implements {sorted(handled_by_methods)}"
