"""One class per TensorLang op (or op family): what it checks, how it lowers, what it means in numpy
and how the LLM grammar writes it.

The op's declaration (operands, results, attributes, shape rule, summary) is its row in
``dialect.OPS``, which stays free of MLIR for the language server and the registry's
warm path; everything the op *does* is its class here. The passes look an op up by
name and hand themselves in:

* ``verifier.SemanticVerifier`` calls ``verify(op, verifier)``,
* ``lowering.Lowering`` makes one rewrite pattern per op from ``lower(op, lowering)``,
* ``reference.ReferenceProgram`` calls ``reference(op, program)`` once per op,
* ``agents/grammar.py`` renders ``alternatives(values)`` as GBNF.

Each module lists its ops in ``OPS``: one instance of each op's class, or of its family's
class when the family's ops differ only in data (the elementwise ops). To add an op: its
row in ``dialect.OPS``, its class here in the ``OPS`` of its module (a new module is
added to the list below), and a JIT-vs-numpy case in ``tests/test_ops_numpy.py``; the
tests there fail until all three exist.
"""

from __future__ import annotations

from .. import dialect as tl
from . import comparison, elementwise, linear_algebra, structure
from .base import Op

# By full name ("tensorlang.clamp"); ALL in the order of dialect.OPS.
BY_NAME: dict[str, Op] = {
    op.spec.full_name: op
    for module in (structure, elementwise, comparison, linear_algebra)
    for op in module.OPS
}
ALL: tuple[Op, ...] = tuple(BY_NAME[spec.full_name] for spec in tl.OPS)

__all__ = ["ALL", "BY_NAME", "Op"]
