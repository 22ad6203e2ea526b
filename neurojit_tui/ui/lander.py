"""The Lander pane: the live lander drawn in text, with telemetry and hot-swaps, and
the flight behind it.

``draw`` is pure (a frame in, text out) so it is tested without a terminal. Frames come
from the engine's ``FlyRequest`` as ``LanderFrame`` events: state in metres (see
sim/model.py), the action, the id of the controller that flew this step, the wind. The
pane starts flights (F7) in the app's conditions, hot-swaps the editor's program into one
(F8), flies each new best of an evolution (hot-swapped into the flight, or in a new
one), and starts the flight in the air again when the conditions change.
"""

from __future__ import annotations

import textwrap
import threading
from dataclasses import dataclass
from functools import partial

from rich.segment import Segment
from textual import on
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import Worker, WorkerState, get_current_worker

from ..engine.protocol import FlyRequest, LanderFrame, SwapRequest
from ..sim import model
from .engine_jobs import EngineJobs

SWAP_TIMEOUT_S = 60.0


def pack(items: list[str], width: int) -> list[str]:
    """Telemetry items on as few lines of ``width`` as they fit (two spaces apart)."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += "  " + item
        else:
            lines.append(item)
    return lines


def telemetry(frame: LanderFrame, width: int, swaps: list[str] | None) -> list[str]:
    lines = pack(
        [
            f"alt {frame.y - model.LEG_DOWN:6.2f} m",
            f"vx {frame.vx:+5.2f}",
            f"vy {frame.vy:+5.2f} m/s",
            f"angle {frame.angle:+5.2f}",
            f"fuel {frame.fuel:4.0%}",
            f"step {frame.step:4}",
            f"agent {frame.agent}",
            f"score {frame.score:7.1f}",
            frame.outcome,
        ],
        width,
    )
    lines.append(f"controller {short_id(frame.controller)}"[:width])
    if swaps and len(swaps) > 1:  # the hot-swap history gets its own line: it must show
        names = [short_id(s) for s in swaps]
        text = "hot-swaps: " + " -> ".join(names)
        while len(text) > width and len(names) > 1:  # drop the oldest first
            names = names[1:]
            text = "hot-swaps: ... -> " + " -> ".join(names)
        lines.append(text[:width])
    return lines


def short_id(controller_id: str) -> str:
    """``/long/path/pd.mlir#2`` -> ``pd.mlir#2``: the file's name and the version."""
    return controller_id.rsplit("/", 1)[-1]


def draw(frame: LanderFrame | None, width: int, height: int, swaps: list[str] | None = None) -> str:
    """The scene (sky, lander, flame, ground with the pad) and telemetry below it."""
    if frame is None:
        return "F7 flies a lander with the editor's controller; F8 hot-swaps it mid-flight."
    width = max(20, width)
    below = telemetry(frame, width, swaps)
    rows = max(4, height - len(below))
    grid = [[" "] * width for _ in range(rows)]
    ground = rows - 1

    def column(x_m: float) -> int:
        return round((x_m / model.WORLD_W + 0.5) * (width - 1))

    def row(y_m: float) -> int:  # y_m above the ground
        return ground - round(y_m / model.WORLD_H * (rows - 1))

    for c in range(width):
        grid[ground][c] = (
            "▔" if abs((c / (width - 1) - 0.5) * model.WORLD_W) <= model.PAD_HALF_WIDTH else "░"
        )
    r, c = row(frame.y - model.LEG_DOWN + 0.6), column(frame.x)
    tilt = frame.angle
    body = "◢█◣" if abs(tilt) < 0.15 else ("◤█◢" if tilt > 0 else "◣█◥")
    if frame.outcome == "crashed":
        body = "✶✶✶"
    legs = ("/" if frame.leg_left < 0.5 else "┘") + " " + ("\\" if frame.leg_right < 0.5 else "└")

    def put(rr: int, cc: int, text: str) -> None:
        for i, ch in enumerate(text):
            if 0 <= rr < ground and 0 <= cc + i < width:
                grid[rr][cc + i] = ch

    r = max(0, min(ground - 2, r - 1))
    put(r, c - 1, body)
    put(r + 1, c - 1, legs)
    main, lateral = frame.action[0], frame.action[1]
    if main > 0 and frame.fuel > 0 and frame.outcome == "flying":
        put(r + 2, c, "▼" if main > 0.5 else "▾")
    if abs(lateral) > 0.5 and frame.outcome == "flying":
        put(r, c - 2 if lateral > 0 else c + 2, "◂" if lateral < 0 else "▸")
    wind = frame.wind
    arrow = ("→" if wind > 0 else "←") * min(5, int(abs(wind) / 0.05) + 1)
    put(0, 0, f"wind {arrow}")
    lines = ["".join(cells) for cells in grid] + below
    return "\n".join(lines)


def fly_request(
    text: str, path: str, conditions: model.Environment, fps: float, flight: int
) -> FlyRequest:
    """The engine's request for live flight number ``flight`` with ``text``'s controller,
    in ``conditions``, at ``fps`` frames a second."""
    return FlyRequest(text, path, environment=conditions, fps=fps, flight=flight)


class LanderView(Widget):
    """Draws ``draw``'s lines with Textual's line API: at 25 frames/s this is several
    times cheaper than a Static, which would turn every frame into rich content."""

    @dataclass
    class FrameArrived(Message, bubble=False):
        frame: LanderFrame

        def can_replace(self, message: Message) -> bool:
            # a newer frame replaces one still waiting: a slow terminal (SSH) skips
            # frames instead of queueing them
            return isinstance(message, LanderView.FrameArrived)

    @dataclass
    class Swapped(Message, bubble=False):
        """``text`` flies now, as ``controller``."""

        controller: str
        text: str
        path: str
        say: bool  # a hot-swap by hand (F8) is said; an evolution's bests fly without a word

    @dataclass
    class NothingFlying(Message, bubble=False):
        """A program meant for the flight found none: it flies a new one."""

        text: str
        path: str

    def __init__(
        self, jobs: EngineJobs, fps: float, conditions: model.Environment, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.jobs = jobs
        self.fps = fps
        self.conditions = conditions  # what flights fly in (the app's)
        # the program the flight in the air flies now (the last one swapped in), and
        # the job that waits for the flight to end: to fly it again in new conditions
        self.program: tuple[str, str] | None = None
        self._flight: Worker | None = None
        self.flight_number = 0  # the flight whose frames are drawn (older ones are dropped)
        self.frame: LanderFrame | None = None
        self.controllers: list[str] = []  # controller ids in the order they flew
        self.lines: list[str] = draw(None, 0, 0).split("\n")
        self._style = None  # rich_style walks the DOM: once per frame, not once per line
        self._fly_or_swap_lock = threading.Lock()

    # -- the flight -----------------------------------------------------------------------

    def receive(self, frame: LanderFrame) -> None:
        """From the engine client's reader thread."""
        self.post_message(self.FrameArrived(frame))

    @on(FrameArrived)
    def show_frame(self, message: FrameArrived) -> None:
        self.show(message.frame)

    def fly(self, text: str, path: str) -> None:
        """A new flight with ``text``'s controller (the one in the air lands for good)."""
        self.controllers.clear()
        self.program = (text, path)
        self.flight_number += 1
        request = fly_request(text, path, self.conditions, self.fps, self.flight_number)
        self._flight = self.jobs.start(partial(self.jobs.call, request), "fly")

    @property
    def flying(self) -> bool:
        """Whether a flight is up (it flies until another replaces it or the engine fails)."""
        return self._flight is not None and self._flight.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def fly_in(self, conditions: model.Environment) -> bool:
        """Fly in ``conditions`` from now on: the flight in the air, if one is, starts
        again in them with the program it flies now. Whether it did."""
        self.conditions = conditions
        if not self.flying or self.program is None:
            return False
        self.fly(*self.program)
        return True

    def hot_swap(self, text: str, path: str) -> None:
        self.jobs.start(partial(self._hot_swap, text, path), "swap")

    def _hot_swap(self, text: str, path: str) -> None:  # a worker thread
        reply = self.jobs.call(SwapRequest(text, path), timeout=SWAP_TIMEOUT_S)
        if reply is not None and reply.controller is not None:
            self.post_message(self.Swapped(reply.controller, text, path, say=True))

    @on(Swapped)
    def note_swapped(self, message: Swapped) -> None:
        self.program = (message.text, message.path)
        if message.say:
            self.notify(f"hot-swapped to {message.controller}")

    def fly_or_swap(self, text: str, path: str) -> None:
        """Hot-swap ``text`` into the flight, or fly it when nothing is flying. One at a
        time: a newer program makes an older one that is still waiting moot."""
        self.jobs.start(partial(self._fly_or_swap, text, path), "fly-or-swap")

    def _fly_or_swap(self, text: str, path: str) -> None:  # a worker thread
        with self._fly_or_swap_lock:
            if get_current_worker().is_cancelled:
                return
            reply = self.jobs.call(
                SwapRequest(text, path, only_if_flying=True), timeout=SWAP_TIMEOUT_S
            )
            if reply is None:
                return
            if reply.controller is None:
                self.post_message(self.NothingFlying(text, path))
            else:
                self.post_message(self.Swapped(reply.controller, text, path, say=False))

    @on(NothingFlying)
    def fly_it(self, message: NothingFlying) -> None:
        self.fly(message.text, message.path)

    # -- drawing --------------------------------------------------------------------------

    def show(self, frame: LanderFrame) -> None:
        if frame.flight != self.flight_number:
            return  # a frame of the flight the newest one replaced, still on its way
        self.frame = frame
        if not self.controllers or self.controllers[-1] != frame.controller:
            self.controllers.append(frame.controller)
        lines = draw(frame, self.size.width, self.size.height, self.controllers).split("\n")
        previous, self.lines = self.lines, lines
        # a whole repaint when the style changed since the last drawing (``_style`` is
        # None then) or the pane's size did (a different number of rows)
        if self._style is not None and len(lines) == len(previous) and self.is_mounted:
            # repaint only the rows that changed (the lander, its flame, the telemetry):
            # a frame then costs a fraction of a whole-pane repaint, many times a second
            for y, (old, new) in enumerate(zip(previous, lines)):
                if old != new:
                    self.refresh(Region(0, y, self.size.width, 1))
        else:
            self.refresh()

    def notify_style_update(self) -> None:
        self._style = None  # a new theme: the next frame repaints it all in the new style
        super().notify_style_update()

    def render(self) -> str:
        """The whole picture as text (what tests and screenshots read)."""
        return "\n".join(self.lines)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        # before the first flight: the hint, wrapped to the pane
        lines = self.lines if self.frame is not None else textwrap.wrap(self.lines[0], width)
        text = lines[y] if y < len(lines) else ""
        if self._style is None:
            self._style = self.rich_style
        return Strip([Segment(text[:width].ljust(width), self._style)], width)
