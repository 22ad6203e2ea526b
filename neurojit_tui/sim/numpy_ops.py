"""The numpy array namespace that ``model.py`` runs on for the reference simulation."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


class NumpyOps:
    """Elementwise operations over one array element per agent.

    Unsigned 64-bit arithmetic wraps around, as it does in the native kernel; constants
    become 1-element arrays because numpy warns on overflowing scalar arithmetic.
    """

    where = staticmethod(np.where)
    minimum = staticmethod(np.minimum)
    maximum = staticmethod(np.maximum)
    abs = staticmethod(np.abs)
    sqrt = staticmethod(np.sqrt)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)

    @staticmethod
    def u64(value):
        if isinstance(value, np.ndarray):
            return value
        return _u64_constant(value)

    @staticmethod
    def to_float(value):
        return value.astype(np.float64)


@lru_cache(maxsize=4096)
def _u64_constant(value: int) -> np.ndarray:
    constant = np.array([value], dtype=np.uint64)
    constant.flags.writeable = False
    return constant
