"""The Textual workstation (see ``app.py``).

Textual repaints the screen at most ``TEXTUAL_FPS`` times a second (60 by default), so a
keystroke waits for the next tick: 8 ms on average, up to 17 ms, and longer behind a
busy tick. ``neurojit bench ui`` measured, with a lander flying and both agents
generating, a keystroke-to-screen p95 of 70-78 ms at 60 and 51 ms at 240, with no
more work per second: the lander and the token stream set the pace, not the cap. Set
before Textual is imported; a value in the environment wins.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "240")
