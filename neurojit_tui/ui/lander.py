"""The lander view: the live lander drawn in text, with telemetry and hot-swaps.

``draw`` is pure (a frame in, text out) so it is tested without a terminal. Frames come
from the engine's ``FlyRequest`` as ``LanderFrame`` events: state in metres (see
sim/model.py), the action, the id of the controller that flew this step, the wind.
"""

from __future__ import annotations

import textwrap

from rich.segment import Segment
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ..engine.protocol import LanderFrame
from ..sim import model

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
    lines = pack([f"alt {frame.y - model.LEG_DOWN:6.2f} m", f"vx {frame.vx:+5.2f}",
                  f"vy {frame.vy:+5.2f} m/s", f"angle {frame.angle:+5.2f}",
                  f"fuel {frame.fuel:4.0%}", f"step {frame.step:4}",
                  f"agent {frame.agent}", f"score {frame.score:7.1f}", frame.outcome],
                 width)
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


def draw(frame: LanderFrame | None, width: int, height: int,
         swaps: list[str] | None = None) -> str:
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
        grid[ground][c] = "▔" if abs((c / (width - 1) - 0.5) * model.WORLD_W) <= model.PAD_HALF_WIDTH else "░"
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


class LanderView(Widget):
    """Draws ``draw``'s lines with Textual's line API: at 25 frames/s this is several
    times cheaper than a Static, which would turn every frame into rich content."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.frame: LanderFrame | None = None
        self.controllers: list[str] = []  # controller ids in the order they flew
        self.lines: list[str] = draw(None, 0, 0).split("\n")
        self._style = None  # rich_style walks the DOM: once per frame, not once per line

    def show(self, frame: LanderFrame) -> None:
        self.frame = frame
        if not self.controllers or self.controllers[-1] != frame.controller:
            self.controllers.append(frame.controller)
        lines = draw(frame, self.size.width, self.size.height, self.controllers).split("\n")
        previous, self.lines = self.lines, lines
        # a whole repaint when the style changed since the last drawing (``_style`` is
        # None then) or the pane's size did (a different number of rows)
        if self._style is not None and len(lines) == len(previous) and self.is_mounted:
            # repaint only the rows that changed (the lander, its flame, the telemetry):
            # a frame then costs about a third of a whole-pane repaint, 25 times a second
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
