"""``@once``: a process-wide object, created on first use, thread-safely."""

from __future__ import annotations

import functools
import threading


def once(factory):
    """Decorate a no-argument factory; every call returns the one object it made."""
    lock = threading.Lock()
    made = []

    @functools.wraps(factory)
    def get():
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return get
