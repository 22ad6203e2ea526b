"""Write the README's screenshots (SVG, from Textual) of the workstation at work.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]     # default: docs/screenshots

Each picture is the real app with a real engine: the heuristic sample in the editor, a
swarm run scored (F6), a lander flying (F7) and then hot-swapped (F8) to the PID sample.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def shoot(size: tuple[int, int], out: Path) -> None:
    from neurojit_tui.ui.app import NeuroJITApp
    from neurojit_tui.ui.lander import LanderView
    from neurojit_tui.ui.results import SwarmPane

    app = NeuroJITApp(str(ROOT / "samples" / "heuristic.mlir"), remember_layout=False)
    async with app.run_test(size=size) as pilot:

        async def until(condition, timeout=120.0):
            for _ in range(int(timeout / 0.1)):
                if condition():
                    return
                await pilot.pause(0.1)
            raise TimeoutError("the workstation did not get there")

        await until(
            lambda: app.diagnostics is not None and app.query_one("#diagnostics").option_count
        )
        await pilot.press("f6")
        await until(lambda: app.query_one(SwarmPane).runs)
        await pilot.press("f7")
        lander = app.query_one(LanderView)
        await until(lambda: lander.frame is not None and lander.frame.step > 40)
        app.editor.open_program((ROOT / "samples" / "pid.mlir").read_text(), "pid.mlir")
        await pilot.press("f8")
        await until(lambda: len(lander.controllers) > 1)
        await pilot.pause(1.5)
        app.editor.cursor_blink = False
        app.save_screenshot(str(out))
        print(f"wrote {out}")


def main() -> int:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    import os

    os.environ["NEUROJIT_HOME"] = tempfile.mkdtemp(prefix="neurojit-shots-")
    for size in [(200, 60), (80, 24)]:
        asyncio.run(shoot(size, out_dir / f"workstation-{size[0]}x{size[1]}.svg"))
    return 0


if __name__ == "__main__":  # the engine process is spawned: it re-imports this module
    sys.exit(main())
