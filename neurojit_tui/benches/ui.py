"""``neurojit bench ui``: keystroke-to-screen latency of the real workstation, idle,
under load (inference + a flying lander + swarm runs) and while an evolution runs (F9,
the Evolution pane plotting each generation), in a real terminal (tmux).

One sample: send one key with ``tmux send-keys``, then read the screen with
``tmux capture-pane`` until the editor's first line has changed. That is what a user
sees: the key went through the terminal, Textual, the editor and back to the screen.
The tmux round trip itself (one capture) is measured too and reported, since every
sample includes at least one. The baseline is the idle workstation in the same run.
"""

from __future__ import annotations

import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..paths import samples_dir

TARGET_MS = 50.0
# typed in turn: type a letter, delete it. The line stays inside the editor's width;
# typing past its right edge scrolls it sideways and redraws every line, which is a
# different (rarer) case than the one measured here
TYPED = ("x", "BSpace")
POLL_S = 0.001


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True).stdout


class TerminalSession:
    """The installed ``neurojit`` in a detached tmux session, driven through one tmux
    control-mode client: a key or a screen read is a line on its pipe, not a new tmux
    process. Spawning one per read was slow and, polled back to back, took CPU from the
    very app being measured."""

    def __init__(self, command: str, size=(200, 60), env: dict | None = None):
        self.name = f"neurojit-bench-{os.getpid()}"
        extra = [item for k, v in (env or {}).items() for item in ("-e", f"{k}={v}")]
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(size[0]),
                "-y",
                str(size[1]),
                *extra,
                command,
            ],
            check=True,
        )
        # ignore-size: the pane keeps its size; no-output: no copy of the app's output
        self._control = subprocess.Popen(
            ["tmux", "-C", "attach-session", "-f", "ignore-size,no-output", "-t", self.name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def _command(self, command: str) -> list[str]:
        """Run one tmux command on the control client; its output lines."""
        try:
            self._control.stdin.write(command + "\n")
            self._control.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError(f"the tmux session ended (running {command!r})") from None
        lines, inside = [], False
        for line in self._control.stdout:  # notifications (%...) come between replies
            line = line.rstrip("\n")
            # "%begin <time> <number> <flags>": flags 1 answers a command of this client;
            # blocks with flags 0 come from tmux itself (the attach, hooks)
            if line.startswith("%begin") and line.endswith(" 1"):
                inside, lines = True, []
            elif inside and (line.startswith("%end") or line.startswith("%error")):
                if line.startswith("%error"):
                    raise RuntimeError(f"tmux {command!r}: {' '.join(lines)}")
                return lines
            elif inside:
                lines.append(line)
        raise RuntimeError(f"the tmux session ended (running {command!r})")

    def screen(self) -> list[str]:
        return self._command(f"capture-pane -p -t {self.name}")

    def keys(self, *keys: str) -> None:
        self._command(f"send-keys -t {self.name} " + " ".join(shlex.quote(k) for k in keys))

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.screen()):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{text!r} did not appear on the screen")

    def wait_gone(self, timeout: float = 30.0) -> None:
        """Wait until the app has quit (the tmux session ends with it)."""
        deadline = time.monotonic() + timeout
        while (
            time.monotonic() < deadline
            and subprocess.run(
                ["tmux", "has-session", "-t", self.name], capture_output=True
            ).returncode
            == 0
        ):
            time.sleep(0.1)

    def close(self) -> None:
        _tmux("kill-session", "-t", self.name)
        try:
            self._control.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._control.kill()


def keystroke_latency(
    terminal: TerminalSession, row: int, key: str = "x", timeout: float = 5.0
) -> float:
    """Seconds from sending one key until screen row ``row`` shows a change.

    The screen is read every ``POLL_S``: reading it back to back kept tmux and this
    process busy on a core the app under test needed (2 cores here)."""
    before = terminal.screen()[row]
    start = time.perf_counter()
    terminal.keys(key)
    while time.perf_counter() - start < timeout:
        if terminal.screen()[row] != before:
            return time.perf_counter() - start
        time.sleep(POLL_S)
    return timeout


def summarize_ms(samples: list[float]) -> dict:
    ms = sorted(1000 * s for s in samples)
    return {
        "n": len(ms),
        "p50_ms": statistics.median(ms),
        "p95_ms": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))],
        "max_ms": ms[-1],
    }


def bench_ui(keys: int = 100, interval_s: float = 0.2, log=print) -> dict:
    if shutil.which("tmux") is None:
        raise SystemExit("neurojit: bench ui needs tmux")
    neurojit = Path(sys.executable).parent / "neurojit"
    home = tempfile.mkdtemp(prefix="neurojit-bench-ui-")  # empty registry: real inference
    # the largest sample, not the scratch buffer: what the editor does per keystroke
    # grows with the file (highlighting, the gutter, the check)
    program = Path(home) / "heuristic.mlir"
    shutil.copy(samples_dir() / "heuristic.mlir", program)
    terminal = TerminalSession(
        f"{neurojit} ui --layout wide {program}", env={"NEUROJIT_HOME": home}
    )
    try:
        terminal.wait_for("the controller verifies")
        editor_row = 1  # the editor's first text line, a comment: typing there keeps
        terminal.keys("End")  # the program valid, so F7 can fly it
        round_trip = []
        for _ in range(20):
            start = time.perf_counter()
            terminal.screen()
            round_trip.append(time.perf_counter() - start)
        log("idle: typing into the editor")
        idle = []
        for k in range(keys):
            idle.append(keystroke_latency(terminal, editor_row, TYPED[k % 2]))
            time.sleep(interval_s)
        log(
            "loaded: F7 (lander at 25 fps), Shift+F9 (both agents generating), F6 (swarm) "
            "repeatedly"
        )
        terminal.keys("F7")
        terminal.keys("S-F9")
        terminal.wait_for("[reasoning]", timeout=180)  # the models are loaded and talking
        loaded, seen = [], set()
        for k in range(keys):
            if k % 10 == 0:
                terminal.keys("F6")
            loaded.append(keystroke_latency(terminal, editor_row, TYPED[k % 2]))
            seen.update(line for line in terminal.screen() if "engine " in line)
            time.sleep(interval_s)
        load_lines = sorted(line.strip(" │┃") for line in seen)
        log("evolving: F9 (the search in the engine, the Evolution pane plotting it)")
        terminal.keys("F4")  # stop the agents: F9 does not start while they run
        time.sleep(2.0)
        terminal.keys("F9")
        terminal.wait_for("evolving", timeout=120)
        evolving = []
        for k in range(keys):
            evolving.append(keystroke_latency(terminal, editor_row, TYPED[k % 2]))
            time.sleep(interval_s)
        terminal.keys("F4", "C-q")  # stop the evolution, quit
        terminal.wait_gone()
    finally:
        terminal.close()
        shutil.rmtree(home, ignore_errors=True)
    result = {
        "idle": summarize_ms(idle),
        "loaded": summarize_ms(loaded),
        "evolving": summarize_ms(evolving),
        "tmux_capture_ms": 1000 * statistics.median(round_trip),
        "engine_load_seen": [line for line in load_lines if "inference" in line][:3],
        "target_ms": TARGET_MS,
    }
    result["loaded_over_idle_p50"] = result["loaded"]["p50_ms"] / result["idle"]["p50_ms"]
    result["evolving_over_idle_p50"] = result["evolving"]["p50_ms"] / result["idle"]["p50_ms"]
    result["met"] = max(result["loaded"]["p95_ms"], result["evolving"]["p95_ms"]) <= TARGET_MS
    return result


def format_ui_table(result: dict) -> str:
    lines = ["| state | keys | p50 | p95 | max |", "| --- | ---: | ---: | ---: | ---: |"]
    for state in ("idle", "loaded", "evolving"):
        r = result[state]
        lines.append(
            f"| {state} | {r['n']} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms | "
            f"{r['max_ms']:.1f} ms |"
        )
    lines.append(
        f"\nloaded / idle p50: {result['loaded_over_idle_p50']:.2f}x; evolving / idle p50: "
        f"{result['evolving_over_idle_p50']:.2f}x; one tmux "
        f"capture: {result['tmux_capture_ms']:.1f} ms (part of every sample); "
        f"target p95 <= {result['target_ms']:.0f} ms under load: "
        + ("met" if result["met"] else "NOT met")
    )
    for line in result["engine_load_seen"]:
        lines.append(f"cores pane during the loaded run: {line}")
    return "\n".join(lines)
