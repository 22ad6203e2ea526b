"""The TensorLang ops, one class per op (or op family): its declaration, what it checks,
how it lowers, what it means in numpy and how the LLM grammar writes it.

An op class is the one place an op is defined:

* ``spec`` declares it (operands, results, attributes, shape rule, summary); the
  dialect's IRDL, the language server's hover and completion and the op table in docs/tensorlang.md
  are generated from these (``dialect.OPS``),
* ``verifier.SemanticVerifier`` calls ``verify(op, verifier)``,
* ``lowering.Lowering`` makes one rewrite pattern per op from ``lower(op, lowering)``,
* ``reference.ReferenceProgram`` calls ``reference(op, program)`` once per op,
* ``agents/grammar.py`` renders ``alternatives(values)`` as GBNF.

The op modules load no MLIR when imported (``bindings``), so processes that only read
the declarations (the workstation, the language server, the registry's warm path) never
load it.

Each module lists its ops in ``OPS``: one instance of each op's class, or of its family's
class when the family's ops differ only in data (the elementwise ops). To add an op,
write its class in the module of its kind and list it in that module's ``OPS`` (a new
module goes into ``MODULES`` below); ``tests/test_ops_numpy.py`` then fails until the op
has a JIT-vs-numpy case there.
"""

from __future__ import annotations

from . import comparison, elementwise, linear_algebra, structure
from .base import Op, OpSpec, ShapeRule

MODULES = (structure, elementwise, comparison, linear_algebra)

# Every op, in the order the dialect declares them; and by full name ("tensorlang.clamp").
ALL: tuple[Op, ...] = tuple(op for module in MODULES for op in module.OPS)
BY_NAME: dict[str, Op] = {op.spec.full_name: op for op in ALL}

__all__ = ["ALL", "BY_NAME", "MODULES", "Op", "OpSpec", "ShapeRule"]
