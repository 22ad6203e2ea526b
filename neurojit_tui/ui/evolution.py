"""The Evolution pane: an evolution run (F9) as it goes, and its result.

The engine's ``EvolveRequest`` streams ``EvolutionProgress`` events (a generation
ended, a new best, a failed candidate, a log line: ``evolve/results.py``); this pane
keeps what they say and shows the generation, evaluations per second, best and median
fitness (percent landed on the training landers, plus a tie-break worth less than one
lander); a plot of both over the generations; the best's chain of mutations back to a
seed and its diff against its parent; and at the end its training and validation
scores (native, and in the Gymnasium environment that judged the run, if one did) and
whether the registry stored it. ``a`` or Enter puts the best into the editor as one
undoable edit: the editor changes only then.

The text comes from pure functions (tested without a terminal). The status lines and
the plot have fixed sizes, so a generation repaints them without a layout pass; the
plot (plotext draws it anew each time) and the lineage and diff text (its height
changes) are drawn between keystrokes.

Each new best is announced (``NewBest``: the app flies it on the live lander), the
search's log lines go to the Reasoning pane (``Narrated``), and a winner the registry
stored has the Registry pane list again (``RegistryUpdated``).
"""

from __future__ import annotations

import difflib
import math
import time
from collections import deque
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual_plotext import PlotextPlot

from ..engine.protocol import EvolutionProgress, EvolveRequest
from ..evolve.report import native_conditions_line, provenance_lines
from ..evolve.results import (
    BestSoFar,
    EvolutionResult,
    EvolveOptions,
    GenerationEnded,
    GenerationSummary,
    GymFinalist,
    GymPolish,
    GymScores,
    LineageStep,
    Scores,
)
from ..sim.model import Environment
from .conditions import EvolutionTarget
from .engine_jobs import EngineJobs
from .results import OpenProgram, RegistryUpdated

IDLE_HINT = "F9 evolves the editor's program with the samples and stored controllers."
ACCEPT_HINT = "a / Enter here (Ctrl+G comes here): the best into the editor, Ctrl+Z undoes"
PLOT_MIN_HEIGHT = 8  # a shorter body shows the lineage alone: a plot that small says nothing


# -- pure formatting ------------------------------------------------------------------------


def number(value, digits: int = 2) -> str:
    """A score as text; missing or infinite ones (nothing flew) as "-"."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def format_progress(generation: GenerationEnded | None, best: BestSoFar | None = None) -> str:
    """The first status line, from the newest generation's event (most important
    first: a narrow pane cuts the line's end); before generation 0 is complete, the
    seeds are being tuned and ``best`` (the newest best) is all there is."""
    if generation is None:
        return "tuning the seeds" + (f"  best {number(best.fitness)}" if best else "")
    stats = generation.summary
    return (
        f"generation {stats.generation}  "
        f"best {number(stats.best_fitness)}  "
        f"median {number(stats.median_fitness)}  "
        f"{generation.evaluations_per_s:.0f} evaluations/s"
    )


def format_state(
    state: str, seconds: float = 0.0, failures: int = 0, result: EvolutionResult | None = None
) -> str:
    """The second status line: what the run is doing, or how it ended (``result``, when
    ``state`` is done)."""
    failed = f"  {failures} candidate(s) failed" if failures else ""
    if state == "idle":
        return IDLE_HINT
    if state == "running":
        return f"evolving, {seconds:.0f} s (F4 stops){failed}"
    if state == "error":
        return "the engine could not evolve (see Diagnostics)"
    if state == "refused":
        return "not evolved: the engine refused (the reason is below)"
    if result is None:  # done, the result not yet recorded
        return "done"
    ended = {"ok": "done", "cancelled": "stopped", "failed": "nothing flew"}.get(
        result.status, result.status
    )
    return (
        f"{ended} in {result.seconds:.1f} s: {result.generations} "
        f"generation(s), {result.evaluations} evaluations{failed}"
    )


def fitness_series(
    history: list[GenerationSummary], limit: int | None = None
) -> tuple[list[int], list[float], list[float]]:
    """(generations, best, median) for the plot: the rows where something flew, at most
    ``limit`` of them, evenly spread, the newest always included (the plot's cost
    grows with its points, and a pane shows only so many)."""
    rows = [h for h in history if math.isfinite(h.best_fitness) and math.isfinite(h.median_fitness)]
    if limit is not None and len(rows) > limit > 1:
        step = (len(rows) - 1) / (limit - 1)
        rows = [rows[round(i * step)] for i in range(limit)]
    return (
        [h.generation for h in rows],
        [h.best_fitness for h in rows],
        [h.median_fitness for h in rows],
    )


def format_lineage(lineage: tuple[LineageStep, ...]) -> list[str]:
    """The best's chain of first parents, newest first: one line per program, with
    how it was made and its training fitness."""
    lines = []
    for step in lineage:
        how = step.mutation
        if how == "seed":
            how = f"seed {Path(step.source or step.description).name}"
        elif step.description:
            how = f"{how}: {step.description}"
        lines.append(f"{step.id:>5} g{step.generation:<3} {number(step.fitness)}  {how}")
    return lines


def parent_name(lineage: tuple[LineageStep, ...]) -> str:
    """What the diff of a lineage's newest program is against: its first parent, or for
    a tuned seed the seed as it was written."""
    if len(lineage) > 1:
        return lineage[1].id
    source = lineage[0].source if lineage else ""
    return f"{Path(source).name or 'the seed'} as written"


def diff_against_parent(
    parent_text: str, text: str, parent: str, name: str, context: int = 1
) -> str:
    """A unified diff from the parent's program to the best's."""
    if not parent_text:
        return "(no parent to compare with)"
    if parent_text == text:
        return f"(the same program as {parent})"
    lines = difflib.unified_diff(
        parent_text.splitlines(), text.splitlines(), parent, name, n=context, lineterm=""
    )
    return "\n".join(lines)


def format_scores(name: str, scores: Scores, failure: str | None = None) -> str:
    if failure:
        return f"{name}: failed ({failure})"
    return (
        f"{name}: {scores.success_rate:.1%} landed, CVaR-10 "
        f"{number(scores.cvar10_score, 1)}, mean {number(scores.mean_score, 1)} "
        f"({scores.agents} landers)"
    )


def format_gym_scores(name: str, scores: GymScores) -> str:
    """A program's scores on Gymnasium episodes: the environment's own return and
    landings, and which environment."""
    line = (
        f"{name}: mean return {number(scores.mean_return, 1)}, CVaR-10 "
        f"{number(scores.cvar10, 1)}, {scores.landed:.1%} landed, {scores.solved:.1%} solved "
        f"({scores.episodes} episodes of {scores.env})"
    )
    return line + (f"; failed: {scores.failure}" if scores.failure else "")


def format_gym_polish(polish: GymPolish) -> str:
    """The winner's constants tuned on the environment's own training episodes."""
    return (
        f"Gymnasium polish: fitness {number(polish.start_fitness)} -> {number(polish.fitness)} "
        f"paired on {polish.paired_episodes} episodes ({polish.generations} generation(s), "
        f"{polish.evaluations} evaluations, {polish.episodes} episodes)"
        + ("" if polish.kept else "; not kept: no better than the winner")
    )


def format_gym_selection(finalists: tuple[GymFinalist, ...], objective: str) -> str:
    """The finalists as the Gymnasium selection episodes ranked them, first the chosen:
    each one's mean return and landed share."""
    ranked = ", ".join(
        f"{f.id} {number(f.scores.mean_return, 1)}/{f.scores.landed:.0%}"
        + (" failed" if f.scores.failure else "")
        for f in finalists
    )
    episodes = finalists[0].scores.episodes if finalists else 0
    return f"Gymnasium selection by {objective} ({episodes} episodes; return/landed): {ranked}"


def format_outcome(result: EvolutionResult) -> list[str]:
    """The final scores, training against validation (landers the search never flew),
    in the Gymnasium environment too when one judged the run, and what the registry
    did with the winner."""
    best = result.best
    if best is None:
        return [f"no controller flew ({len(result.failures)} failed)"]
    judged_in_gym = best.gym_validation is not None or bool(best.gym_selection)
    lines = [
        f"best {best.id}, fitness {number(best.fitness)}",
        format_scores("training", best.train),
        format_scores(
            "native validation" if judged_in_gym else "validation",
            best.validation,
            best.validation.failure,
        ),
    ]
    if best.gym_validation is not None:
        lines.append(native_conditions_line(result))
        lines.append(format_gym_scores("Gymnasium validation", best.gym_validation))
    if best.gym_polish is not None:
        lines.append(format_gym_polish(best.gym_polish))
    if best.gym_selection:
        lines.append(format_gym_selection(best.gym_selection, result.options.objective))
    registry = best.registry
    if registry is None:
        why = "the run was stopped" if result.status == "cancelled" else "no registry"
        lines.append(f"registry: not offered ({why})")
    elif registry.stored:
        lines.append(f"registry: stored under {registry.key[:12]} ({registry.reason})")
    else:
        lines.append(f"registry: not stored, {registry.reason}")
    return lines + provenance_lines(result)


def evolve_request(
    text: str,
    path: str,
    conditions: Environment,
    options: EvolveOptions,
    target: EvolutionTarget | None = None,
    with_default_seeds: bool = True,
) -> EvolveRequest:
    """The engine's request for an evolution from ``text`` for ``conditions`` with
    ``options``, judged in ``target``'s Gymnasium environment and objective if given."""
    if target is not None:
        options = replace(options, **target.request_fields())
    return EvolveRequest(
        text=text,
        path=path,
        environment=conditions,
        options=options,
        with_default_seeds=with_default_seeds,
    )


@dataclass
class F9Search:
    """What F9 asks of the engine besides the program, the conditions and the target."""

    # a minute, shorter than the command line's default, for a search the user watches
    options: EvolveOptions = field(default_factory=lambda: EvolveOptions(budget_s=60.0))
    with_default_seeds: bool = True  # the samples and stored controllers too


@dataclass
class EvolutionRun:
    """What the pane knows about one run, built from its events (no widgets)."""

    history: list[GenerationSummary] = field(default_factory=list)  # the result's, at the end
    latest: GenerationEnded | None = None  # the newest generation's event
    best: BestSoFar | None = None  # the newest best
    failures: int = 0
    result: EvolutionResult | None = None  # the engine's answer, once the run is over
    refused: str | None = None  # why the engine did not start the run, if it did not

    def record(self, event: EvolutionProgress) -> None:
        if event.generation is not None:
            self.latest = event.generation
            self.history.append(event.generation.summary)
        elif event.best is not None:
            self.best = event.best
        elif event.failure is not None:
            self.failures += 1

    def finish(self, result: EvolutionResult) -> None:
        self.result = result
        if result.history:
            self.history = list(result.history)

    @property
    def best_text(self) -> str | None:
        """The program to accept: the run's winner once it is over, else the best so far."""
        if self.result is not None and self.result.best is not None:
            return self.result.best.source
        return self.best.text if self.best else None

    @property
    def best_id(self) -> str | None:
        if self.result is not None and self.result.best is not None:
            return self.result.best.id
        return self.best.id if self.best else None

    def detail(self) -> str:
        """The lineage, the diff against the parent and (at the end) the outcome."""
        if self.refused is not None:
            return f"not evolved: {self.refused}"
        parts = []
        if self.best_text is not None:
            parts.append(ACCEPT_HINT)
        if self.result is not None:
            parts.append("\n".join(format_outcome(self.result)))
        winner = self.result.best if self.result is not None else None
        if winner is not None and (self.best is None or self.best.id != winner.id):
            # the winner was not announced as a best (a tie): no parent's text to diff
            shown = (winner.id, winner.source, winner.lineage, "")
        elif self.best is not None:
            shown = (self.best.id, self.best.text, self.best.lineage, self.best.parent_text)
        else:
            shown = None
        if shown is not None:
            name, text, lineage, parent_text = shown
            parts.append("lineage (newest first):\n" + "\n".join(format_lineage(lineage)))
            parts.append(diff_against_parent(parent_text, text, parent_name(lineage), name))
        if not parts:
            return "the best controller's lineage and its diff against its parent show here"
        return "\n\n".join(parts)


# -- the widget -------------------------------------------------------------------------------


class EvolutionPane(Vertical):
    BINDINGS = [
        Binding("a", "accept", "Accept best", id="evolution-accept"),
        Binding("enter", "accept", "Accept best", show=False, id="evolution-accept-enter"),
    ]

    @dataclass
    class Progressed(Message, bubble=False):
        """Events wait in the pane's queue. The search can report faster than the screen
        needs: a notice still waiting is replaced by the next, which takes them all."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, EvolutionPane.Progressed)

    @dataclass
    class Evolved(Message, bubble=False):
        result: EvolutionResult | None  # None: the engine failed, or refused
        refused: str | None = None  # why the engine did not start the run

    @dataclass
    class NewBest(Message):
        """A better controller than any before: the app flies it."""

        text: str
        name: str

    @dataclass
    class Narrated(Message):
        """The search's log lines, for the Reasoning pane; ``ended``: the run is over."""

        lines: tuple[str, ...]
        ended: bool = False

    def __init__(self, jobs: EngineJobs, **kwargs):
        super().__init__(**kwargs)
        self.jobs = jobs
        self.run = EvolutionRun()
        self.state = "idle"  # idle | running | done | error | refused
        self.started = 0.0  # time.monotonic() when the run started
        self.plot_fits = False  # whether the pane has room for a readable plot
        self.events: deque[EvolutionProgress] = deque()  # from the engine's reader thread
        self.announced: str | None = None  # the id of the best last announced
        self._clock = None  # ticks the elapsed time while a run is on

    def compose(self) -> ComposeResult:
        yield Static(f"generation -\n{IDLE_HINT}", id="evolution-status")
        with Horizontal(id="evolution-body"):
            yield PlotextPlot(id="evolution-plot")
            with VerticalScroll(id="evolution-detail"):
                yield Static(self.run.detail(), id="evolution-text")

    def on_mount(self) -> None:
        self.draw_plot()

    def on_resize(self) -> None:
        # the room under the two status lines (layout.tcss gives them a fixed height)
        self.plot_fits = self.size.height - 2 >= PLOT_MIN_HEIGHT
        self.show_plot_if_useful()

    def show_plot_if_useful(self) -> None:
        """The plot shows once there is a generation to plot and room for it; until
        then the lineage has the pane's whole width."""
        plot = self.query_one(PlotextPlot)
        useful = self.plot_fits and bool(self.run.history)
        if plot.display != useful:
            plot.display = useful

    # -- a run --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.state == "running"

    def evolve(
        self,
        text: str,
        path: str,
        conditions: Environment,
        target: EvolutionTarget | None = None,
        search: F9Search | None = None,
    ) -> bool:
        """Evolve for ``conditions`` as ``search`` says, judged in ``target``'s Gymnasium
        environment and objective if given, from ``text``. Whether it started: one
        evolution runs at a time."""
        search = search or F9Search()
        if self.running:
            self.notify("an evolution is running (F4 stops it)", severity="warning")
            return False
        self.events.clear()
        self.announced = None
        self.start(time.monotonic())
        self._clock = self.set_interval(1.0, self.tick)
        request = evolve_request(
            text, path, conditions, search.options, target, search.with_default_seeds
        )
        self.jobs.start(partial(self._evolve, request), "evolve")
        return True

    def _evolve(self, request: EvolveRequest) -> None:  # a worker thread
        reply = self.jobs.call(request)
        if reply is None:
            self.post_message(self.Evolved(None))
        else:
            self.post_message(self.Evolved(reply.result, reply.refused))

    def receive(self, event: EvolutionProgress) -> None:
        """From the engine client's reader thread."""
        self.events.append(event)
        self.post_message(self.Progressed())

    def tick(self) -> None:
        self.show_status(time.monotonic())

    @on(Progressed)
    def show_progress(self) -> None:
        events = []
        while self.events:
            events.append(self.events.popleft())
        if not events:
            return  # a notice whose events an earlier one took
        for event in events:
            self.run.record(event)
        lines = tuple(e.log.message for e in events if e.log is not None)
        if lines:
            self.post_message(self.Narrated(lines))
        best = next((e.best for e in reversed(events) if e.best is not None), None)
        generation_ended = any(e.generation is not None for e in events)
        if best is not None or generation_ended or any(e.failure is not None for e in events):
            self.show_status(time.monotonic())  # a fixed size: in place, no layout pass
        if generation_ended:
            self.app.between_keystrokes(self.draw_plot, once=True)
        if best is not None:
            self.announce(best.text, best.id)
            self.app.between_keystrokes(self.show_detail, once=True)

    def announce(self, text: str, name: str) -> None:
        self.announced = name
        self.post_message(self.NewBest(text, name))

    @on(Evolved)
    def show_result(self, message: Evolved) -> None:
        if self._clock is not None:
            self._clock.stop()
        self.show_progress()  # events not yet shown come first
        self.app.between_keystrokes(partial(self._show_result, message.result, message.refused))

    def _show_result(self, result: EvolutionResult | None, refused: str | None = None) -> None:
        self.finish(result, time.monotonic(), refused)
        self.post_message(self.Narrated((), ended=True))
        if refused is not None:
            self.notify(refused, title="Not evolved", severity="error", timeout=10)
        best = result.best if result is not None else None
        if best is None:
            return
        if best.id != self.announced:  # the winner was not announced as a best
            self.announce(best.source, best.id)
        if best.registry is not None and best.registry.stored:
            self.post_message(RegistryUpdated())
        self.notify(f"evolved {best.id}: a (or Enter) in the Evolution pane puts it in the editor")

    def start(self, started: float) -> None:
        self.run = EvolutionRun()
        self.state = "running"
        self.started = started
        self.show_status(started)
        self.draw_plot()
        self.show_detail()

    def finish(
        self, result: EvolutionResult | None, now: float, refused: str | None = None
    ) -> None:
        if refused is not None:
            self.state = "refused"
            self.run.refused = refused
        elif result is None:
            self.state = "error"
        else:
            self.state = "done"
            self.run.finish(result)
        self.show_status(now)
        self.draw_plot()
        self.show_detail()

    def show_status(self, now: float) -> None:
        """The two status lines (a fixed height: no layout pass)."""
        state = format_state(self.state, now - self.started, self.run.failures, self.run.result)
        progress = (
            format_progress(self.run.latest, self.run.best)
            if self.state == "running" or self.run.latest
            else "generation -"
        )
        self.query_one("#evolution-status", Static).update(f"{progress}\n{state}", layout=False)
        best = self.run.best_id
        self.border_subtitle = f"best {best}" if best else ""

    def draw_plot(self) -> None:
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        # braille puts two points in a column: more would only cost time to draw
        generations, best, median = fitness_series(self.run.history, 2 * max(8, plot.size.width))
        if generations:
            plt.plot(generations, best, label="best", marker="braille")
            plt.plot(generations, median, label="median", marker="braille")
        plt.xlabel("generation")
        self.show_plot_if_useful()
        plot.refresh()  # a fixed size: repaints the plot alone

    def show_detail(self) -> None:
        """The lineage, diff and outcome (their height changes: a layout pass)."""
        self.query_one("#evolution-text", Static).update(self.run.detail())

    def action_accept(self) -> None:
        text = self.run.best_text
        if text is None:
            self.notify("nothing evolved yet: F9 starts an evolution", severity="warning")
            return
        self.post_message(OpenProgram(text, f"the evolved best {self.run.best_id}"))
