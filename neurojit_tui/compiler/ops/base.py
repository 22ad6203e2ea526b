"""What every TensorLang op class provides, and the plain values its grammar method
describes alternatives with.

An op class is handed the pass that runs it, the way an xDSL rewrite pattern is handed
its rewriter: ``verify(op, verifier)`` reports through the ``SemanticVerifier``,
``lower(op, lowering)`` builds at the rewriter's insertion point inside the
``Lowering``, ``reference(op, program)`` is read once by the ``ReferenceProgram``.
``alternatives(values)`` describes, for the LLM grammar, every way the op can be
written with the value types defined so far; ``agents/grammar.py`` renders that as GBNF.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

import numpy as np
from numpy.typing import NDArray

from .. import dialect as tl
from ..ir_types import MlirOperation, MlirValue

if TYPE_CHECKING:
    from ..lowering import Lowering
    from ..reference import ReferenceProgram
    from ..verifier import SemanticVerifier
    from .comparison import BatchedAssertFailure

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
    """The shape of a tensor type written as text (``tl.shape_of`` of a non-scalar)."""
    dims = tl.shape_of(type_)
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


# -- the op class ----------------------------------------------------------------------------


class Op:
    """What one TensorLang op does. Its declaration (operands, results, attributes, shape
    rule, summary) is its row in ``dialect.OPS``, found by ``name``."""

    name: str  # the short name, as in dialect.OPS

    @property
    def spec(self) -> tl.OpSpec:
        return tl.OPS_BY_NAME[f"{tl.DIALECT_NAME}.{self.name}"]

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
