"""The lander view: the live lander drawn in text, with telemetry and hot-swaps.

``draw`` is pure (frame dict in, text out) so it is tested without a terminal. Frames
come from the engine's ``fly`` request: state in metres (see sim/model.py), the action,
the id of the controller that flew this step, the wind.
"""

from __future__ import annotations

from textual.widgets import Static

from ..sim import model

TELEMETRY_LINES = 3


def draw(frame: dict | None, width: int, height: int, swaps: list[str] | None = None) -> str:
    """The scene (sky, lander, flame, ground with the pad) and telemetry below it."""
    if frame is None:
        return "F7 flies a lander with the editor's controller; F8 hot-swaps it mid-flight."
    width = max(20, width)
    rows = max(4, height - TELEMETRY_LINES)
    grid = [[" "] * width for _ in range(rows)]
    ground = rows - 1

    def column(x_m: float) -> int:
        return round((x_m / model.WORLD_W + 0.5) * (width - 1))

    def row(y_m: float) -> int:  # y_m above the ground
        return ground - round(y_m / model.WORLD_H * (rows - 1))

    for c in range(width):
        grid[ground][c] = "▔" if abs((c / (width - 1) - 0.5) * model.WORLD_W) <= model.PAD_HALF_WIDTH else "░"
    r, c = row(frame["y"] - model.LEG_DOWN + 0.6), column(frame["x"])
    tilt = frame["angle"]
    body = "◢█◣" if abs(tilt) < 0.15 else ("◤█◢" if tilt > 0 else "◣█◥")
    if frame["outcome"] == "crashed":
        body = "✶✶✶"
    legs = ("/" if frame["leg_left"] < 0.5 else "┘") + " " + ("\\" if frame["leg_right"] < 0.5 else "└")

    def put(rr: int, cc: int, text: str) -> None:
        for i, ch in enumerate(text):
            if 0 <= rr < ground and 0 <= cc + i < width:
                grid[rr][cc + i] = ch

    r = max(0, min(ground - 2, r - 1))
    put(r, c - 1, body)
    put(r + 1, c - 1, legs)
    main, lateral = frame["action"][0], frame["action"][1]
    if main > 0 and frame["fuel"] > 0 and frame["outcome"] == "flying":
        put(r + 2, c, "▼" if main > 0.5 else "▾")
    if abs(lateral) > 0.5 and frame["outcome"] == "flying":
        put(r, c - 2 if lateral > 0 else c + 2, "◂" if lateral < 0 else "▸")
    wind = frame["wind"]
    arrow = ("→" if wind > 0 else "←") * min(5, int(abs(wind) / 0.05) + 1)
    put(0, 0, f"wind {arrow}")
    lines = ["".join(cells) for cells in grid]
    lines.append(f"alt {frame['y'] - model.LEG_DOWN:6.2f} m  vx {frame['vx']:+5.2f}  "
                 f"vy {frame['vy']:+5.2f} m/s  angle {tilt:+5.2f}  fuel {frame['fuel']:4.0%}")
    lines.append(f"step {frame['step']:4}  agent {frame['agent']}  score {frame['score']:7.1f}  "
                 f"{frame['outcome']}")
    lines.append(f"controller {frame['controller']}"
                 + (f"   (hot-swaps: {' -> '.join(swaps)})" if swaps and len(swaps) > 1 else ""))
    return "\n".join(lines)


class LanderView(Static):
    def __init__(self, **kwargs):
        super().__init__(draw(None, 0, 0), **kwargs)
        self.frame: dict | None = None
        self.controllers: list[str] = []  # controller ids in the order they flew

    def show(self, frame: dict) -> None:
        self.frame = frame
        if not self.controllers or self.controllers[-1] != frame["controller"]:
            self.controllers.append(frame["controller"])
        self.update(draw(frame, self.size.width - 2, self.size.height, self.controllers))
