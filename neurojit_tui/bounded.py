"""A number a person typed (a command's flag, a field in the workstation), read and held
to its range, with one message for each way it can be wrong."""

from __future__ import annotations

import math


def bounded_float(text: str, low: float, high: float, low_open: bool = False) -> float:
    """``text`` as a finite number from ``low`` to ``high`` (above ``low`` if
    ``low_open``); otherwise ValueError saying what is wrong and the range."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    allowed = f"above {low:g} and at most {high:g}" if low_open else f"from {low:g} to {high:g}"
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number: give one {allowed}")
    if value > high or value < low or (low_open and value == low):
        raise ValueError(f"{text} is out of range: give a number {allowed}")
    return value
