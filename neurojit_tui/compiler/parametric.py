"""Parametric compilation: a program's tunable numbers become a run-time parameter vector.

``lift_parameters`` rewrites a verified ``@control`` before lowering. Every number a
search may tune becomes one element of a new last argument ``%theta: tensor<Kxf64>``:

* ``arith.constant`` of type ``f64`` (one parameter),
* each element of a ``tensorlang.constant`` (a splat ``dense<v>`` is one parameter),
* the ``lo`` and ``hi`` bounds of ``tensorlang.clamp``.

Indices, shapes, predicates and the numbers inside an op's own semantics (relu's 0,
sigmoid's 1) are never parameters. The compiled function is then
``control(obs, mem, theta, action, mem_out)``, so one machine-code function serves every
value of the constants: a swarm kernel built from it flies a whole population of
candidates that share the structure, each with its own ``theta``.

``ParameterTable`` remembers where each parameter came from (line, column, kind), so
``write_back`` puts new values into the program text at the same places: the text stays
what the user reads, diffs and keeps, and compiling the written-back text gives the same
numbers the parametric kernel ran with.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from mlir import ir
from mlir.dialects import arith, tensor
from numpy.typing import ArrayLike, NDArray

from . import dialect as tl
from .diagnostics import location_parts
from .ir_types import MlirOperation, MlirType, MlirValue
from .ops.builders import elementwise

SCALAR, DENSE, CLAMP_LO, CLAMP_HI = "scalar", "dense", "clamp.lo", "clamp.hi"


@dataclass(frozen=True)
class ParameterSite:
    """Where one parameter lives in the source text."""

    kind: str  # SCALAR, DENSE (one element of a dense literal), CLAMP_LO, CLAMP_HI
    line: int  # of the op that holds it (1-based)
    col: int
    element: int = 0  # row-major index into a dense literal
    shape: tuple[int, ...] = ()  # the dense literal's shape; () for a splat or a scalar
    splat: bool = False

    def describe(self) -> str:
        where = f"{self.line}:{self.col}"
        if self.kind == DENSE:
            return f"{where} dense[{self.element}]" if not self.splat else f"{where} dense splat"
        return f"{where} {self.kind}"


@dataclass
class ParameterTable:
    """The tunable numbers of one program, in the order of ``theta``."""

    sites: list[ParameterSite] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sites)

    @property
    def initial(self) -> NDArray[np.float64]:
        return np.array(self.values, dtype=np.float64)

    def constrain(self, values: ArrayLike) -> NDArray[np.float64]:
        """``values`` made valid for the program: each clamp's bounds in order (the
        verifier wants lo <= hi). A search flies the constrained values, so what it
        scores is what ``write_back`` writes."""
        out = np.array(values, dtype=np.float64)
        for k, site in enumerate(self.sites):
            if site.kind == CLAMP_LO and k + 1 < len(self.sites) and out[k] > out[k + 1]:
                out[k], out[k + 1] = out[k + 1], out[k]
        return out

    def write_back(self, text: str, values: Iterable[float]) -> str:
        """``text`` with parameter k replaced by ``values[k]``, at the same places."""
        values = [float(v) for v in values]
        if len(values) != len(self.sites):
            raise ValueError(f"{len(values)} values for {len(self.sites)} parameters")
        if not all(math.isfinite(v) for v in values):
            raise ValueError("parameter values must be finite")
        line_starts = [0]
        for source_line in text.splitlines(keepends=True):
            line_starts.append(line_starts[-1] + len(source_line))
        edits: dict[tuple[int, int], str] = {}  # (start, end) in text -> replacement
        by_op: dict[tuple[int, int], list[int]] = {}
        for k, site in enumerate(self.sites):
            by_op.setdefault((site.line, site.col), []).append(k)
        for (line, col), ks in by_op.items():
            offset = line_starts[line - 1] + col - 1
            kind = self.sites[ks[0]].kind
            if kind == SCALAR:
                match = _SCALAR_LITERAL.search(text, offset)
                assert match is not None  # the op at (line, col) holds the literal
                edits[match.span(1)] = format_float(values[ks[0]])
            elif kind == DENSE:
                start = text.index("dense<", offset) + len("dense<")
                end = _matching_angle(text, start)
                site = self.sites[ks[0]]
                if site.splat:
                    edits[(start, end)] = format_float(values[ks[0]])
                else:
                    edits[(start, end)] = _nested(
                        np.array([values[k] for k in ks]).reshape(site.shape)
                    )
            else:
                for k in ks:
                    name = "lo" if self.sites[k].kind == CLAMP_LO else "hi"
                    match = re.compile(rf"\b{name}\s*=\s*({_FLOAT})\s*:\s*f64").search(text, offset)
                    assert match is not None  # the clamp at (line, col) has both bounds
                    edits[match.span(1)] = format_float(values[k])
        out = text
        for (start, end), replacement in sorted(edits.items(), reverse=True):
            out = out[:start] + replacement + out[end:]
        return out

    def structure_key(self, text: str) -> str:
        """Equal for two programs that differ only in their tunable numbers (and in
        comments or blank lines): the kernel cache's key."""
        masked = self.write_back(text, [0.0] * len(self.sites))
        code = [line.split("//")[0].strip() for line in masked.splitlines()]
        return hashlib.sha256("\n".join(c for c in code if c).encode()).hexdigest()[:16]


_FLOAT = r"[-+]?(?:0x[0-9A-Fa-f]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
# `arith.constant 0.5 : f64`, or the generic form `"arith.constant"() {value = 0.5 : f64}`
_SCALAR_LITERAL = re.compile(
    rf"(?:arith\.constant\"?\s*(?:\(\)\s*\{{\s*value\s*=\s*)?)({_FLOAT})\s*:\s*f64"
)


def format_float(value: float) -> str:
    """A decimal literal MLIR parses back to exactly ``value`` (repr is shortest
    round-trip; MLIR wants a '.' in the mantissa)."""
    text = repr(float(value))
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + (e + exponent if e else "")


def _nested(array: NDArray[np.float64]) -> str:
    if array.ndim == 1:
        return "[" + ", ".join(format_float(v) for v in array) + "]"
    return "[" + ", ".join(_nested(row) for row in array) + "]"


def _matching_angle(text: str, start: int) -> int:
    """Index of the '>' closing the ``dense<`` whose content starts at ``start``."""
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "<":
            depth += 1
        elif text[i] == ">":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unterminated dense<...> literal")


def _control_function(module_op: MlirOperation) -> MlirOperation:
    for op in module_op.regions[0].blocks[0].operations:
        op = op.operation
        if (
            op.name == "func.func"
            and ir.StringAttr(op.attributes["sym_name"]).value == tl.CONTROL_ENTRY
        ):
            return op
    raise ValueError(f"no @{tl.CONTROL_ENTRY} to make parametric")


def lift_parameters(
    module_op: MlirOperation, path: str, text: str, line_one_shift: int = 0
) -> ParameterTable:
    """Rewrite ``@control`` of a verified module in place (see the module docstring).

    ``text`` is the source ``module_op`` was parsed from: a dense literal written as one
    number is one parameter, one written as a list has one per element (MLIR stores a
    list of equal numbers as a splat too, so the attribute alone cannot tell).
    ``line_one_shift``: columns on line 1 are shifted by this much in ``module_op``'s
    locations (the driver's implicit ``module {`` wrapper)."""
    line_starts = [0]
    for source_line in text.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(source_line))

    def written_as_list(line: int, col: int) -> bool:
        start = text.index("dense<", line_starts[line - 1] + col - 1) + len("dense<")
        return text[start:].lstrip().startswith("[")

    function = _control_function(module_op)
    block = function.regions[0].blocks[0]
    table = ParameterTable()
    # (op, [parameter indices]) in program order
    holders: list[tuple[MlirOperation, list[int]]] = []

    def site_of(op: MlirOperation) -> tuple[int, int]:
        _, line, col = location_parts(op.location, path)
        return line, (col - line_one_shift if line == 1 and col > line_one_shift else col)

    for op in block.operations:
        op = op.operation
        if op.name == "arith.constant" and isinstance(op.results[0].type, ir.F64Type):
            line, col = site_of(op)
            holders.append((op, [len(table.sites)]))
            table.sites.append(ParameterSite(SCALAR, line, col))
            table.values.append(ir.FloatAttr(op.attributes["value"]).value)
        elif op.name == f"{tl.DIALECT_NAME}.constant":
            attr = ir.DenseFPElementsAttr(op.attributes["value"])
            line, col = site_of(op)
            shape = tuple(ir.RankedTensorType(op.results[0].type).shape)
            splat = not written_as_list(line, col)
            if attr.is_splat:
                values = [ir.FloatAttr(attr.get_splat_value()).value] * (
                    1 if splat else math.prod(shape)
                )
            else:
                values = [float(v) for v in np.array(attr).reshape(-1)]
            indices = list(range(len(table.sites), len(table.sites) + len(values)))
            holders.append((op, indices))
            for e, v in enumerate(values):
                table.sites.append(ParameterSite(DENSE, line, col, e, shape, splat))
                table.values.append(v)
        elif op.name == f"{tl.DIALECT_NAME}.clamp":
            line, col = site_of(op)
            holders.append((op, [len(table.sites), len(table.sites) + 1]))
            table.sites += [ParameterSite(CLAMP_LO, line, col), ParameterSite(CLAMP_HI, line, col)]
            table.values += [
                ir.FloatAttr(op.attributes["lo"]).value,
                ir.FloatAttr(op.attributes["hi"]).value,
            ]

    f64 = ir.F64Type.get()
    theta_type = ir.RankedTensorType.get([max(1, len(table.sites))], f64)
    theta = block.add_argument(theta_type, function.location)
    ftype = ir.FunctionType(ir.TypeAttr(function.attributes["function_type"]).value)
    function.attributes["function_type"] = ir.TypeAttr.get(
        ir.FunctionType.get(list(ftype.inputs) + [theta_type], list(ftype.results))
    )

    for op, indices in holders:
        with ir.InsertionPoint(op), op.location:
            values = [
                tensor.extract(theta, [arith.constant(ir.IndexType.get(), k)]) for k in indices
            ]
            if op.name == "arith.constant":
                replacement = values[0]
            elif op.name == f"{tl.DIALECT_NAME}.constant":
                result_type = ir.RankedTensorType(op.results[0].type)
                count = math.prod(result_type.shape)
                elements = values * count if len(values) == 1 else values
                replacement = tensor.from_elements(result_type, elements)
            else:  # clamp: the lowering's min(max(x, lo), hi), with run-time bounds
                lo, hi = values
                replacement = _clamp(op.operands[0], op.results[0].type, lo, hi)
        op.results[0].replace_all_uses_with(replacement)
        op.erase()
    return table


def _clamp(x: MlirValue, result_type: MlirType, lo: MlirValue, hi: MlirValue) -> MlirValue:
    return elementwise([x], result_type, lambda v: arith.minimumf(arith.maximumf(v, lo), hi))
