"""What every TensorLang op class declares and provides, and the plain values its
grammar method describes alternatives with.

An op class declares the op in its ``spec`` (operands, results, attributes, shape rule,
summary: what IRDL, the language server and the grammar read) and says what it does
in four methods.

An op class is handed the pass that runs it, the way an xDSL rewrite pattern is handed
its rewriter: ``verify(op, verifier)`` reports through the ``SemanticVerifier``,
``lower(op, lowering)`` builds at the rewriter's insertion point inside the
``Lowering``, ``reference(op, program)`` is read once by the ``ReferenceProgram``.
``alternatives(values)`` describes, for the LLM grammar, every way the op can be
written with the value types defined so far; ``agents/grammar.py`` renders that as GBNF.
``emit_c(op, ins, emitter)`` writes the op as C through the ``ControllerEmitter`` of
``sim/c_reference.py`` (the gcc reference of ``bench swarm``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np
from numpy.typing import NDArray

from ..ir_types import MlirOperation, MlirValue

if TYPE_CHECKING:
    from ..lowering import Lowering
    from ..reference import ReferenceProgram
    from ..verifier import SemanticVerifier
    from .comparison import BatchedAssertFailure

DIALECT_NAME = "tensorlang"


# -- what an op is ---------------------------------------------------------------------------


class ShapeRule(enum.Enum):
    """How an op's result type follows from its operand types: the family an op belongs
    to, which its class implements."""

    ELEMENTWISE = "elementwise"  # operands and result share one tensor type
    CLAMP = "clamp"
    COMPARE = "compare"
    SELECT = "select"
    MATMUL = "matmul"
    MATVEC = "matvec"
    DOT = "dot"
    REDUCE = "reduce"
    SLICE = "slice"
    CONCAT = "concat"
    EXTRACT = "extract"
    BROADCAST = "broadcast"
    CONSTANT = "constant"
    ASSERT = "assert"


@dataclass(frozen=True)
class OpSpec:
    """One TensorLang operation's declaration. Operand and result kinds are IRDL
    constraints: "T" (one tensor type shared by every "T" value of the op), "tensor",
    "f64" or "any"; attribute kinds are "float", "string", "i64_array" or "dense"."""

    name: str
    operands: tuple[tuple[str, str], ...]
    results: tuple[tuple[str, str], ...]
    shape_rule: ShapeRule
    summary: str
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def full_name(self) -> str:
        return f"{DIALECT_NAME}.{self.name}"


def tensor_type(shape: Iterable[int], element: str = "f64") -> str:
    """``tensor<2x8xf64>`` for shape (2, 8)."""
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def shape_of(type_: str) -> tuple[int, ...] | None:
    """(2, 8) for ``tensor<2x8xf64>``; None for a scalar."""
    match = re.fullmatch(r"tensor<((?:\d+x)+)(f64|i1)>", type_)
    if not match:
        return None
    return tuple(int(d) for d in match.group(1).rstrip("x").split("x"))


# -- what a lowering returns -----------------------------------------------------------------

# What a lowering returns when the op is not ready to be rewritten yet; MLIR then tries
# it again later (a cmp waits until its select or assert has taken it in).
NO_MATCH = object()
# What a lowering returns to erase an op that leaves no value behind.
ERASE = None


# -- how the grammar writes an op ----------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """Any float literal the grammar allows."""


NUMBER = Number()


@dataclass(frozen=True)
class OneOf:
    """One of a fixed list of words; ``name`` names the list in the grammar."""

    name: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class DenseLiteral:
    """A ``dense<[...]>`` element list of this shape, every element a ``Number``."""

    shape: tuple[int, ...]


TextPiece = str | Number | OneOf | DenseLiteral  # a str is literal text


@dataclass(frozen=True)
class Alternative:
    """One way to write an op: ``"name"(operands) attributes : (operand types) -> result``,
    the operands being defined values of ``operand_types``."""

    operand_types: tuple[str, ...]
    result_type: str
    attributes: tuple[TextPiece, ...] = ()


def tensor_shape(type_: str) -> tuple[int, ...]:
    """The shape of a tensor type written as text (``shape_of`` of a non-scalar)."""
    dims = shape_of(type_)
    assert dims is not None, f"{type_} is not a tensor type"
    return dims


class ValueTypes(Protocol):
    """The types of the values defined so far (as text), which ``alternatives`` reads."""

    f64_tensors: list[str]  # each type once, in order of first definition
    vectors: list[str]  # the rank-1 ones
    matrices: list[str]  # the rank-2 ones
    bool_tensors: list[str]
    seed_types: tuple[str, ...]  # types a new constant or broadcast may have anyway


# -- what ``reference`` returns -------------------------------------------------------------

# One value for a whole batch: an array whose leading axis is the batch (f64, or bool
# for a comparison).
Batch: TypeAlias = NDArray[np.float64 | np.bool_]
# An op with results: (its inputs, the batch size) -> its result.
Evaluate: TypeAlias = Callable[[list[Batch], int], Batch]
# An op without results (an assert): (its inputs, the batch size) -> the failure or None.
Check: TypeAlias = Callable[[list[Batch], int], "BatchedAssertFailure | None"]


# -- what ``emit_c`` writes with ----------------------------------------------------------------

# A scalar of the C being written (sim's traced ``Value``): + - * / and unary - on it
# write C as well. A tensor is written as the list of its elements, row-major.
CScalar: TypeAlias = Any
# What ``emit_c`` takes and returns for one value: a ``CScalar``, or a tensor's elements.
CValue: TypeAlias = Any


class ScalarC(Protocol):
    """Scalar C, one statement per call (sim's ``CTracer``); each returns its value."""

    def lift(self, value: float, type_: str) -> CScalar: ...

    def negate(self, a: CScalar) -> CScalar: ...

    def abs(self, a: CScalar) -> CScalar: ...

    def math(self, op: str, a: CScalar) -> CScalar: ...

    def minimum(self, a: CScalar, b: CScalar | float) -> CScalar: ...

    def maximum(self, a: CScalar, b: CScalar | float) -> CScalar: ...

    def binary(self, kind: str, lhs: CScalar, rhs: CScalar) -> CScalar: ...

    def extremum(self, kind: str, a: CScalar, b: CScalar) -> CScalar: ...

    def compare(self, predicate: str, a: CScalar, b: CScalar) -> CScalar: ...

    def select(self, condition: CScalar, a: CScalar, b: CScalar) -> CScalar: ...


class CEmitter(Protocol):
    """What writes a controller as C (sim's ``ControllerEmitter``), as an op sees it."""

    @property
    def c(self) -> ScalarC: ...

    def assert_holds(self, op: MlirOperation, holds: list[CScalar]) -> None:
        """Record ``op``, an assert, and write the check that every one of ``holds``
        is true."""


# -- the op class ----------------------------------------------------------------------------


class Op:
    """One TensorLang op: its declaration ``spec`` and what it does."""

    spec: OpSpec

    @property
    def name(self) -> str:
        """The short name ("clamp"); ``spec.full_name`` is "tensorlang.clamp"."""
        return self.spec.name

    def verify(self, op: MlirOperation, verifier: SemanticVerifier) -> None:
        """Check what IRDL cannot; report with ``verifier.error(op, message)``."""
        raise NotImplementedError

    def lower(self, op: MlirOperation, lowering: Lowering) -> MlirValue | None:
        """The value that replaces ``op``'s result, ERASE or NO_MATCH."""
        raise NotImplementedError

    def reference(self, op: MlirOperation, program: ReferenceProgram) -> Evaluate | Check:
        """A function (inputs, batch size) -> result that evaluates ``op`` with numpy,
        every value carrying a leading batch axis."""
        raise NotImplementedError

    def alternatives(self, values: ValueTypes) -> Iterable[Alternative]:
        """Every way the grammar may write this op with the values defined so far."""
        raise NotImplementedError

    def emit_c(self, op: MlirOperation, ins: list[CValue], emitter: CEmitter) -> CValue:
        """``op`` as C with its ``reference`` meaning, written through ``emitter.c``:
        ``ins`` are its operands, its result is returned the same way (None for an op
        without results). Products and reductions add from 0.0 in index order, as the
        lowered loops do, so the C computes what the JIT's code computes."""
        raise NotImplementedError
