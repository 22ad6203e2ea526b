"""A JIT-compiled TensorLang module and the C calling convention of its functions.

Calling convention (what the lowering pipeline produces): each argument in order, a
tensor as a bare pointer to its contiguous elements, an ``f64`` as a double, an ``i1``
as a bool; then one out-pointer per tensor result (caller-owned buffers). Scalar
results are returned by value (several as a struct).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .dialect import ASSERT_STATUS_GLOBAL

if TYPE_CHECKING:
    from .machine_code import LinkedCode

_DTYPES: dict[str, type[np.float64] | type[np.bool_]] = {"f64": np.float64, "i1": np.bool_}
_CTYPES: dict[str, type[ctypes.c_double] | type[ctypes.c_bool]] = {
    "f64": ctypes.c_double,
    "i1": ctypes.c_bool,
}
# One result of ``CompiledProgram.call``: an array for a tensor, a float or bool for a scalar.
ResultValue = NDArray[np.float64 | np.bool_] | float | bool


@dataclass(frozen=True)
class ValueType:
    kind: str  # "f64" or "i1"
    shape: tuple[int, ...] | None  # None for a scalar

    def __str__(self) -> str:
        if self.shape is None:
            return self.kind
        return "tensor<" + "x".join(str(s) for s in self.shape) + f"x{self.kind}>"


@dataclass(frozen=True)
class FunctionSignature:
    name: str
    inputs: tuple[ValueType, ...]
    results: tuple[ValueType, ...]


@dataclass
class Timings:
    """Where a compile's time went (the driver fills it in)."""

    parse_verify_s: float = 0.0
    lower_s: float = 0.0
    jit_s: float = 0.0


@dataclass(frozen=True)
class AssertViolation:
    """A ``tensorlang.assert`` that failed during a call (the first one, if several)."""

    message: str
    file: str
    line: int
    col: int

    def format(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: error: assertion failed: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "severity": "error",
            "message": f"assertion failed: {self.message}",
        }


@dataclass(frozen=True)
class AssertSite:
    """Where assert number ``number`` (1-based) is, and what it says. The lowering finds
    them; a compiled program and a stored one (the registry's entry) keep them to name
    the assert a run violated."""

    number: int
    message: str
    file: str
    line: int
    col: int

    def violation(self) -> AssertViolation:
        return AssertViolation(self.message, self.file, self.line, self.col)


class AssertStatus:
    """The status word of one piece of linked code: lowered asserts write the number of
    the first one that failed into it (``dialect.ASSERT_STATUS_GLOBAL``)."""

    def __init__(self, address: int, violations: dict[int, AssertViolation]):
        self._word = ctypes.c_int32.from_address(address)
        self._violations = violations  # by assert number

    def take(self) -> AssertViolation | None:
        """The first assert that failed since the last call to this, then reset."""
        number, self._word.value = self._word.value, 0
        return self._violations[number] if number else None


class CompiledProgram:
    """Owns its linked machine code, which lives exactly as long as this object."""

    def __init__(
        self,
        linked: LinkedCode,
        path: str,
        signatures: dict[str, FunctionSignature],
        asserts: list[AssertSite],
        timings: Timings,
    ):
        self._linked = linked  # holding it keeps the code loaded
        assert linked.object_bytes is not None  # compiled in memory, not linked from a file
        self.object_bytes: bytes = linked.object_bytes
        self.path = path
        self.signatures: dict[str, FunctionSignature] = signatures
        self.addresses: dict[str, int] = linked.addresses
        self.asserts = {a.number: a for a in asserts}
        self.timings = timings
        self._assert_status = AssertStatus(
            self.addresses[ASSERT_STATUS_GLOBAL], {a.number: a.violation() for a in asserts}
        )
        self._prototypes: dict[str, Callable[..., Any]] = {}

    def take_assert_violation(self) -> AssertViolation | None:
        """The first assert that failed since the last call to this, then reset."""
        return self._assert_status.take()

    # -- calling ----------------------------------------------------------------------

    def address(self, name: str) -> int:
        if name not in self.addresses or name not in self.signatures:
            raise KeyError(
                f"no function @{name} in {self.path}; functions: "
                + ", ".join("@" + n for n in self.signatures)
            )
        return self.addresses[name]

    def _prototype(self, sig: FunctionSignature) -> Callable[..., Any]:
        if sig.name in self._prototypes:
            return self._prototypes[sig.name]
        argtypes: list[type[ctypes.c_void_p] | type[ctypes.c_double] | type[ctypes.c_bool]] = [
            ctypes.c_void_p if t.shape is not None else _CTYPES[t.kind] for t in sig.inputs
        ]
        argtypes += [ctypes.c_void_p for t in sig.results if t.shape is not None]
        scalars = [t for t in sig.results if t.shape is None]
        restype: type[ctypes.c_double] | type[ctypes.c_bool] | type[ctypes.Structure] | None
        if not scalars:
            restype = None
        elif len(scalars) == 1:
            restype = _CTYPES[scalars[0].kind]
        else:
            restype = cast(
                "type[ctypes.Structure]",
                type(
                    "Results",
                    (ctypes.Structure,),
                    {"_fields_": [(f"r{i}", _CTYPES[t.kind]) for i, t in enumerate(scalars)]},
                ),
            )
        proto = ctypes.CFUNCTYPE(restype, *argtypes)(self.address(sig.name))
        self._prototypes[sig.name] = proto
        return proto

    def call(self, name: str, *args: ArrayLike) -> tuple[list[ResultValue], AssertViolation | None]:
        """Call ``@name`` with numpy-convertible arguments; returns (results, violation).

        Arguments are checked against the signature, so a wrong shape is a Python error
        rather than an out-of-bounds read in native code.
        """
        if name not in self.signatures:
            self.address(name)  # raises with the list of functions
        sig = self.signatures[name]
        if len(args) != len(sig.inputs):
            raise ValueError(
                f"@{name} takes {len(sig.inputs)} arguments "
                f"({', '.join(map(str, sig.inputs))}), got {len(args)}"
            )
        keep: list[NDArray[Any]] = []
        native: list[int | ctypes.c_double | ctypes.c_bool] = []
        for i, (value, t) in enumerate(zip(args, sig.inputs)):
            if t.shape is None:
                native.append(_CTYPES[t.kind](cast(float, value)))  # a scalar argument
                continue
            array = np.ascontiguousarray(np.asarray(value, dtype=_DTYPES[t.kind]))
            if array.shape != t.shape:
                raise ValueError(
                    f"argument {i} of @{name} must have shape {t.shape} ({t}), got {array.shape}"
                )
            keep.append(array)
            native.append(array.ctypes.data)
        outputs = [
            np.zeros(t.shape, dtype=_DTYPES[t.kind]) for t in sig.results if t.shape is not None
        ]
        native += [o.ctypes.data for o in outputs]
        returned = self._prototype(sig)(*native)
        scalars = [t for t in sig.results if t.shape is None]
        if len(scalars) == 1:
            scalar_values = [returned]
        elif scalars:
            scalar_values = [getattr(returned, f"r{i}") for i in range(len(scalars))]
        else:
            scalar_values = []
        results: list[ResultValue] = []
        for t in sig.results:
            results.append(outputs.pop(0) if t.shape is not None else scalar_values.pop(0))
        return results, self.take_assert_violation()

    def dump_object(self, path: str) -> None:
        """Write the machine code as a relocatable object file (what the registry links)."""
        with open(path, "wb") as out:
            out.write(self.object_bytes)
