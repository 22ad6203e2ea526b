"""SVG snapshots of the main screen at 80x24 (compact) and 200x60 (wide).

The app runs against a real engine (the diagnostics pane shows its answer); the core
meters get a fixed 64-core reading so the picture does not depend on this machine's
load. After an intended change of the look: pytest tests/test_snapshots.py --snapshot-update
"""

import pytest

from neurojit_tui.ui.app import NeuroJITApp
from neurojit_tui.ui.cores import CoresPane

from .conftest import SAMPLES
from .test_ui import _options

pytestmark = pytest.mark.usefixtures("private_home")  # a temporary ~/.neurojit


async def _steady(pilot):
    app = pilot.app
    # no blinking, set before the first check answers: that answer re-marks the editor,
    # which drops its cached lines (a line cached mid-blink would lack the cursor)
    app.editor.cursor_blink = False
    for _ in range(1200):
        if any("verifies" in o for o in _options(app)):
            break
        await pilot.pause(0.05)
    app.editor.mark_diagnostics(app.diagnostics)  # again, in case it answered first
    cores = app.query_one(CoresPane)
    cores.pause()
    cores.meters.processes = [("ui", 2.0, ""), ("engine", 0.0, "")]
    for _ in range(16):  # a full history: 64 cores in a ramp
        cores.show([(i * 37) % 101 for i in range(64)])
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
def test_main_screen(snap_compare, size):
    app = NeuroJITApp(str(SAMPLES / "heuristic.mlir"), remember_layout=False)
    assert snap_compare(app, terminal_size=size, run_before=_steady)
