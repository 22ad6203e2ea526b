"""The Swarm and Registry panes: tables of scored controllers, a score histogram.

Swarm: one row per controller flown (the editor's program with F6, each candidate a
synthesis run wrote, Shift+F9), the selected row's conditions and score distribution
under the table.
Registry: the best stored controller per condition (L2, ``~/.neurojit/registry``).
In both, Enter opens the row's program in the editor (an undoable edit: Ctrl+Z brings
the previous buffer back). A new row lays the screen out again, so rows are added
between keystrokes (``keystrokes.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ..engine.protocol import RegistryListRequest, RegistryRow, SwarmRequest
from ..sim.model import Environment
from ..sim.report import SwarmReport
from .conditions import describe
from .engine_jobs import EngineJobs

SWARM_TIMEOUT_S = 300.0
LISTING_TIMEOUT_S = 120.0

BARS = " ▁▂▃▄▅▆▇█"


def draw_histogram(counts: list[int], edges: list[float], rows: int = 3) -> str:
    """Scores as vertical bars, one column pair per bin, ``rows`` tall, with the range
    underneath: a pure function (tested with plain lists)."""
    if not counts:
        return ""
    top = max(counts) or 1
    levels = [c / top * rows * (len(BARS) - 1) for c in counts]
    lines = []
    for row in range(rows - 1, -1, -1):
        cells = []
        for level in levels:
            filled = min(len(BARS) - 1, max(0, round(level - row * (len(BARS) - 1))))
            cells.append(BARS[filled] * 2)
        lines.append("".join(cells).rstrip() or " ")
    width = 2 * len(counts)
    low, high = f"{edges[0]:.0f}", f"{edges[-1]:.0f}"
    lines.append(low + high.rjust(max(1, width - len(low))))
    return "\n".join(lines)


def flown_in(report: SwarmReport) -> str:
    """The conditions a swarm flew in, as " in g 3 m/s² · turbulence 0.8" ("" if its
    report does not say)."""
    env = report.environment
    if "gravity" not in env or "turbulence" not in env:
        return ""
    return " in " + describe(Environment(gravity=env["gravity"], turbulence=env["turbulence"]))


def swarm_request(text: str, path: str, conditions: Environment) -> SwarmRequest:
    """The engine's request for 100 landers flying ``text``'s controller in ``conditions``."""
    return SwarmRequest(text, path, environment=conditions)


@dataclass
class OpenProgram(Message):
    """Put ``text`` in the editor (a swarm row, a registry entry, a synthesized or evolved
    best, a sample from the command palette)."""

    text: str
    origin: str


@dataclass
class RegistryUpdated(Message):
    """A run may have stored a controller: the Registry pane lists it again."""


@dataclass(frozen=True)
class SwarmRun:
    """One row of the Swarm pane: a controller, its program, and how its swarm flew."""

    name: str
    report: SwarmReport
    text: str


class SwarmPane(Vertical):
    @dataclass
    class Flown(Message, bubble=False):
        run: SwarmRun

    def __init__(self, jobs: EngineJobs, **kwargs):
        super().__init__(**kwargs)
        self.jobs = jobs
        self.runs: list[SwarmRun] = []  # in the table's order

    def compose(self) -> ComposeResult:
        table = DataTable(id="swarm-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("#", "controller", "landed", "mean", "CVaR-10", "M steps/s")
        yield table
        yield Static(
            "F6 flies 100 landers with the editor's controller; Shift+F9 synthesizes.",
            id="swarm-histogram",
        )

    def fly_swarm(self, text: str, path: str, conditions: Environment) -> None:
        """Fly 100 landers in ``conditions`` with ``text``'s controller; a row when they
        have landed."""
        self.border_subtitle = "flying 100 landers..."
        self.jobs.start(partial(self._fly_swarm, swarm_request(text, path, conditions)), "swarm")

    def _fly_swarm(self, request: SwarmRequest) -> None:  # a worker thread
        reply = self.jobs.call(request, timeout=SWARM_TIMEOUT_S)
        if reply is not None:
            run = SwarmRun(Path(request.path).name, reply.report, request.text)
            self.post_message(self.Flown(run))

    @on(Flown)
    def show_flown(self, message: Flown) -> None:
        self.app.between_keystrokes(partial(self.add_run, message.run))

    def add_runs(self, runs: Iterable[SwarmRun]) -> None:
        for run in runs:
            self.add_run(run)

    def add_run(self, run: SwarmRun) -> None:
        self.runs.append(run)
        table = self.query_one(DataTable)
        r = run.report
        if r.failure:
            row = (str(len(self.runs)), run.name, "failed", "-", "-", "-")
        else:
            row = (
                str(len(self.runs)),
                run.name,
                f"{r.landed}/{r.agents}",
                f"{r.mean_score:.1f}",
                f"{r.cvar10_score:.1f}",
                f"{r.agent_steps_per_s / 1e6:.1f}",
            )
        table.add_row(*row, key=str(len(self.runs) - 1))
        table.move_cursor(row=len(self.runs) - 1)
        self.show_run(len(self.runs) - 1)

    def show_run(self, index: int) -> None:
        run = self.runs[index]
        r = run.report
        if r.failure:
            detail = f"{run.name}: {r.failure}"
        else:
            h = r.score_histogram or {}
            # the conditions it flew in: runs in different ones are not comparable
            detail = (
                f"{run.name}{flown_in(r)}: success {r.success_rate:.0%}, crashed {r.crashed}, "
                f"out {r.out_of_bounds}, flying {r.timed_out}\n"
                + draw_histogram(h.get("counts", []), h.get("edges", [0, 0]))
            )
        # its height is fixed (layout.tcss): no layout pass needed
        self.query_one("#swarm-histogram", Static).update(detail, layout=False)
        self.border_subtitle = f"{len(self.runs)} run(s)"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.show_run(int(event.row_key.value))

    def on_data_table_row_selected(self) -> None:  # Enter on a row
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.runs and table.cursor_row is not None:
            run = self.runs[table.cursor_row]
            self.post_message(OpenProgram(run.text, run.name))


class RegistryPane(Vertical):
    BINDINGS = [("r", "reload", "Reload")]

    @dataclass
    class Listed(Message, bubble=False):
        entries: tuple[RegistryRow, ...]

    def __init__(self, jobs: EngineJobs, **kwargs):
        super().__init__(**kwargs)
        self.jobs = jobs
        self.entries: tuple[RegistryRow, ...] = ()

    def compose(self) -> ComposeResult:
        table = DataTable(id="registry-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("key", "gravity", "turb.", "success", "mean", "from")
        yield table
        yield Static("F10 lists the stored controllers (r reloads).", id="registry-detail")

    def list_entries(self) -> None:
        self.jobs.start(self._list_entries, "registry")

    def _list_entries(self) -> None:  # a worker thread
        reply = self.jobs.call(RegistryListRequest(), timeout=LISTING_TIMEOUT_S)
        if reply is not None:
            self.post_message(self.Listed(reply.entries))

    @on(Listed)
    def show_listed(self, message: Listed) -> None:
        self.app.between_keystrokes(partial(self.show, message.entries))

    def show(self, entries: tuple[RegistryRow, ...]) -> None:
        self.entries = entries
        table = self.query_one(DataTable)
        table.clear()
        for index, e in enumerate(entries):
            c, s = e.condition or {}, e.scores
            success = s.get("success_rate")
            mean = s.get("mean_score")
            table.add_row(
                e.key[:10],
                str(c.get("gravity", "?")),
                str(c.get("turbulence", "?")),
                "-" if success is None else f"{success:.0%}",
                "-" if mean is None else f"{mean:.1f}",
                Path(e.file).name,
                key=str(index),
            )
        self.border_subtitle = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
        if entries:
            self.show_entry(0)
        else:
            self.query_one("#registry-detail", Static).update(
                "the registry is empty: F9 evolves a controller (Shift+F9 synthesizes one) "
                "and stores the best"
            )

    def show_entry(self, index: int) -> None:
        e = self.entries[index]
        strategy = e.strategy or {}
        gains = ", ".join(f"{k}={v}" for k, v in strategy.items() if k != "family")
        self.query_one("#registry-detail", Static).update(
            f"{e.key}  {strategy.get('family', '?')} {gains}\n"
            f"stored {time.strftime('%Y-%m-%d %H:%M', time.localtime(e.created))}  {e.file}"
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.show_entry(int(event.row_key.value))

    def on_data_table_row_selected(self) -> None:  # Enter on a row
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.entries and table.cursor_row is not None:
            entry = self.entries[table.cursor_row]
            self.post_message(OpenProgram(entry.source, f"registry {entry.key[:10]}"))

    def action_reload(self) -> None:
        self.list_entries()
