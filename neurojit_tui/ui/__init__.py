"""The Textual workstation (see ``app.py``).

Textual repaints the screen at most ``TEXTUAL_FPS`` times a second (60 by default), so a
keystroke waits for the next tick, and longer behind a busy tick. A higher cap draws a
keystroke sooner without more work per second: the lander and the token stream set the
pace, not the cap (``neurojit bench ui`` compares them). Set before Textual is
imported; a value in the environment wins.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "240")
