"""A terminal that goes away: a dropped SSH connection sends SIGHUP.

The workstation then writes an unsaved buffer to ``~/.neurojit/recovery/``, saves the
layout, closes the engine (which flushes the registry) and quits. Textual's own exit
can hang on a hung-up terminal: a burst of output (tokens, frames) fills its writer
queue after the writer has stopped, and the final write then waits forever (seen under
inference). Everything is saved by then, so a process still there after a grace period
ends itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading

EXIT_GRACE_S = 5.0  # after a dropped terminal, the longest a clean exit may take
EXIT_STATUS = 129  # 128 + SIGHUP


class HangupGuard:
    def __init__(self, app):
        self.app = app
        self.recovery_file = None  # where the unsaved buffer went, if it was unsaved

    def install(self) -> None:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.terminal_dropped)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (tests) or no signals here

    def terminal_dropped(self) -> None:
        app = self.app
        app.terminal_gone = True  # engine events are dropped: nothing is left to draw them on
        text = app.editor.text
        if app.file.is_modified(text):
            self.recovery_file = app.file.write_recovery(text)
        app.screen_layout.save()
        app.engine.close()  # the registry is flushed now, whatever the exit does next
        if app.hard_exit_on_hangup:
            watchdog = threading.Timer(EXIT_GRACE_S, os._exit, args=(EXIT_STATUS,))
            watchdog.daemon = True
            watchdog.start()
        app.exit(return_code=EXIT_STATUS)
