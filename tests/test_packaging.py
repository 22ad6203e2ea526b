"""The wheel carries what the app reads (themes, samples) and runs from anywhere: built from a
copy of the checkout, installed into a fresh venv outside it, and run from a folder outside
it, the installed package finds its files through importlib.resources."""

import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import sysconfig
import termios
import time
import zipfile
from pathlib import Path

import pytest

from neurojit_tui import paths
from neurojit_tui.paths import PROJECT_ROOT
from neurojit_tui.resources import SHIPPED_FOLDERS, shipped_folder

BUILD_INPUTS = [
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "neurojit_tui",
    *SHIPPED_FOLDERS,
]


def test_the_checkout_reads_its_top_level_folders(monkeypatch):
    assert shipped_folder("themes") == PROJECT_ROOT / "themes"
    assert paths.themes_dir() == PROJECT_ROOT / "themes"
    assert paths.samples_dir() == PROJECT_ROOT / "samples"
    monkeypatch.setenv("NEUROJIT_SAMPLES", "/elsewhere")
    assert paths.samples_dir() == Path("/elsewhere")
    with pytest.raises(ValueError):
        shipped_folder("secrets")


def test_neurojit_samples_lists_and_copies_without_overwriting(tmp_path, capsys):
    from neurojit_tui.cli import main

    assert main(["samples", "--json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"pd.mlir", "pid.mlir", "mlp.mlir", "heuristic.mlir", "broken/wrong_abi.mlir"} <= set(
        listed
    )
    assert listed["pid.mlir"]["summary"].startswith("PID controller with explicit state")
    mine = tmp_path / "pd.mlir"
    mine.write_text("// my own pd\n")
    assert main(["samples", "--copy", str(tmp_path)]) == 0
    assert f"copied {len(listed) - 1} sample(s) to {tmp_path}; kept 1 file(s) already there" in (
        capsys.readouterr().out
    )
    assert mine.read_text() == "// my own pd\n"  # never overwritten
    assert (tmp_path / "broken" / "wrong_abi.mlir").read_bytes() == (
        PROJECT_ROOT / "samples" / "broken" / "wrong_abi.mlir"
    ).read_bytes()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the fresh venv's python, a working folder outside the checkout)."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    for name in BUILD_INPUTS:
        origin = PROJECT_ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin,
                source / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
            )
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(origin, source / name)
    dist = root / "dist"
    # No build isolation and no dependencies: the test venv's setuptools builds it offline,
    # and nothing else (llama.cpp) is built.
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            dist,
            source,
        ],
        cwd=root,
    )
    (wheel,) = dist.glob("neurojit_tui-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=root)
    python = venv / "bin" / "python"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            wheel,
        ],
        cwd=root,
    )
    # The dependencies (MLIR, llama.cpp, textual...) come from the test venv, after the
    # wheel's own files; the test venv's editable hook for the checkout is a .pth file,
    # which a folder added this way does not run.
    site = Path(
        run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root
        ).stdout.strip()
    )
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "neurojit_test_dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    outside = root / "elsewhere"
    outside.mkdir()
    return wheel, python, outside


def run(command, cwd, timeout=600, **options):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "NEUROJIT_SAMPLES", "VIRTUAL_ENV")
    }
    result = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**env, **options.pop("env", {})},
        **options,
    )
    assert result.returncode == 0, (command, result.stdout[-3000:], result.stderr[-3000:])
    return result


@pytest.mark.slow
def test_the_wheel_carries_the_themes_and_samples(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in SHIPPED_FOLDERS:
        for path in (PROJECT_ROOT / folder).rglob("*"):
            if path.is_file():
                assert f"neurojit_tui/data/{path.relative_to(PROJECT_ROOT)}" in names
    assert not any(n.startswith(("themes/", "samples/")) for n in names)  # nothing at top level


@pytest.mark.slow
def test_the_installed_package_uses_its_own_files(installed):
    _, python, outside = installed
    venv = python.parent.parent
    found = run(
        [
            python,
            "-c",
            "import neurojit_tui, neurojit_tui.paths as p, "
            "neurojit_tui.ui.themes as t; print(neurojit_tui.__file__); "
            "print(p.samples_dir()); print(t.THEMES_DIR); print(sorted(t.discover()))",
        ],
        cwd=outside,
        env={"NEUROJIT_HOME": str(outside / "home")},
    ).stdout.splitlines()
    package, samples, themes, names = found
    for path in (package, samples, themes):
        assert Path(path).is_relative_to(venv) and not Path(path).is_relative_to(PROJECT_ROOT)
    assert names == "['dark', 'high-contrast', 'light']"


@pytest.mark.slow
def test_check_and_demo_run_from_the_installed_wheel(installed):
    _, python, outside = installed
    neurojit = python.parent / "neurojit"
    env = {"NEUROJIT_HOME": str(outside / "home")}
    run([neurojit, "samples", "--copy", "mine"], cwd=outside, env=env)
    run(
        [neurojit, "check", "--controller", *sorted((outside / "mine").glob("*.mlir"))],
        cwd=outside,
        env=env,
    )
    demo = run([neurojit, "demo"], cwd=outside, env=env)
    assert "controller switches" in demo.stdout
    assert "slice out of bounds" in demo.stdout  # the packaged broken samples, checked


@pytest.mark.slow
def test_the_workstation_starts_from_the_installed_wheel(installed):
    """The real app in a pseudo-terminal: it draws its panes (its theme files parse) and
    quits on Ctrl+Q."""
    _, python, outside = installed
    program = outside / "flight.mlir"
    shutil.copy(PROJECT_ROOT / "samples" / "pd.mlir", program)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NEUROJIT_SAMPLES")}
    app = subprocess.Popen(
        [python.parent / "neurojit", program],
        cwd=outside,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={**env, "TERM": "xterm-256color", "NEUROJIT_HOME": str(outside / "home")},
        start_new_session=True,
    )
    os.close(secondary)
    screen = b""
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(
            title in screen for title in (b"Editor", b"Diagnostics", b"Lander")
        ):
            screen += read_available(primary)
        assert b"Diagnostics" in screen and b"Lander" in screen, screen[-2000:]
        assert b"Traceback" not in screen
        os.write(primary, b"\x11")  # Ctrl+Q
        deadline = time.monotonic() + 60
        while app.poll() is None and time.monotonic() < deadline:
            read_available(primary)  # keep the terminal drained while the app exits
        assert app.wait(timeout=5) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        os.close(primary)


def read_available(fd: int) -> bytes:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # the app has closed its side
        return b""
