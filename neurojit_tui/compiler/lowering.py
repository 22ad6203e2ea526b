"""Lowering: TensorLang -> linalg/tensor/arith/math (Python rewrite patterns), then the
upstream pipeline (bufferization, loops, LLVM dialect).

Each TensorLang op has one pattern in ``PATTERNS``; a test checks that the table covers
the whole dialect. Elementwise ops share ``elementwise``, which builds one
``linalg.generic`` whose body is the scalar function of the op.

``tensorlang.assert`` becomes a store into a module-level status word (0 = no
violation, n = assert number n failed first), so a violation is reported to the caller
without aborting: the JIT wrapper reads and resets the word around each call.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlir import ir, rewrite
from mlir.dialects import arith, linalg, math, memref, tensor

from . import dialect as tl
from .diagnostics import location_parts
from .jit import AssertViolation

ASSERT_STATUS_GLOBAL = tl.ASSERT_STATUS_GLOBAL

# Upstream pipeline from tensors to the LLVM dialect. Results become caller-owned
# out-parameters and every memref argument a bare pointer, which gives controllers the
# plain C ABI documented in dialect.py. Buffers are small (MAX_TENSOR_ELEMENTS), so
# promoting them to the stack removes every malloc from the compiled code.
LLVM_PIPELINE = (
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}",
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions}",
    "func.func(promote-buffers-to-stack{max-alloc-size-in-bytes=1000000000 max-rank-of-allocated-memref=2})",
    "canonicalize",
    "convert-linalg-to-loops",
    "expand-strided-metadata",
    "lower-affine",
    "convert-scf-to-cf",
    "convert-math-to-llvm",
    "convert-arith-to-llvm",
    "finalize-memref-to-llvm",
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv}",
    "convert-cf-to-llvm",
    "reconcile-unrealized-casts",
)


@dataclass(frozen=True)
class AssertSite:
    """Where assert number ``number`` (1-based) is, and what it says."""

    number: int
    message: str
    file: str
    line: int
    col: int

    def violation(self) -> AssertViolation:
        return AssertViolation(self.message, self.file, self.line, self.col)


NO_MATCH = object()


def _with_element(tensor_type, element_type):
    return ir.RankedTensorType.get(list(tensor_type.shape), element_type)


def _f64() -> ir.Type:
    return ir.F64Type.get()


def _const(value: float) -> ir.Value:
    return arith.constant(_f64(), value)


def _empty(result_type) -> ir.Value:
    t = ir.RankedTensorType(result_type)
    return tensor.empty(t.shape, t.element_type)


def elementwise(inputs, result_type, scalar_fn) -> ir.Value:
    """One linalg.generic applying ``scalar_fn`` to matching elements of ``inputs``."""
    rank = ir.RankedTensorType(result_type).rank
    identity = ir.AffineMap.get_identity(rank)
    generic = linalg.GenericOp_(
        list(inputs), [_empty(result_type)], [identity] * (len(inputs) + 1),
        [linalg.IteratorType.parallel] * rank)
    block = generic.regions[0].blocks[0]
    with ir.InsertionPoint(block):
        linalg.YieldOp([scalar_fn(*block.arguments[: len(inputs)])])
    return generic.result


def _full_reduction(x, init_value: float, combine) -> ir.Value:
    """Reduce every element of tensor ``x`` to a scalar with ``combine``."""
    t = ir.RankedTensorType(x.type)
    init = linalg.fill(arith.constant(t.element_type, init_value),
                       outs=[tensor.empty([], t.element_type)])
    maps = [ir.AffineMap.get_identity(t.rank),
            ir.AffineMap.get(t.rank, 0, [])]
    generic = linalg.GenericOp_([x], [init], maps, [linalg.IteratorType.reduction] * t.rank)
    block = generic.regions[0].blocks[0]
    with ir.InsertionPoint(block):
        linalg.YieldOp([combine(block.arguments[0], block.arguments[1])])
    return tensor.extract(generic.result, [])


_BINARY = {
    "add": arith.addf, "sub": arith.subf, "mul": arith.mulf, "div": arith.divf,
    "min": arith.minimumf, "max": arith.maximumf,
}
_UNARY = {
    "neg": arith.negf,
    "abs": math.absf,
    "tanh": math.tanh,
    "exp": math.exp,
    "relu": lambda x: arith.maximumf(x, _const(0.0)),
    "sigmoid": lambda x: arith.divf(_const(1.0),
                                    arith.addf(_const(1.0), math.exp(arith.negf(x)))),
}
_PREDICATES = {
    "lt": arith.CmpFPredicate.OLT, "le": arith.CmpFPredicate.OLE,
    "gt": arith.CmpFPredicate.OGT, "ge": arith.CmpFPredicate.OGE,
    "eq": arith.CmpFPredicate.OEQ, "ne": arith.CmpFPredicate.ONE,
}


class Lowering:
    """Rewrites one verified module from TensorLang to upstream dialects, in place."""

    def __init__(self, module_op, default_file: str):
        self.module = module_op
        self.default_file = default_file
        self.asserts: list[AssertSite] = []

    def run(self) -> list[AssertSite]:
        patterns = rewrite.RewritePatternSet()
        for spec in tl.OPS:
            patterns.add(spec.full_name, self._pattern(spec.name))
        rewrite.apply_patterns_and_fold_greedily(self.module, patterns.freeze())
        return self.asserts

    def _pattern(self, short_name: str):
        method = getattr(self, "lower_" + short_name, None)
        if method is None:  # a plain elementwise op: its scalar function says it all
            scalar_fn = _BINARY.get(short_name) or _UNARY[short_name]

            def method(op):
                return elementwise(op.operands, op.results[0].type, scalar_fn)

        def pattern(op, rewriter):
            with rewriter.ip, op.location:
                replacement = method(op)
            if replacement is NO_MATCH:
                return True  # a truthy return tells MLIR the pattern did not apply
            if replacement is None:
                rewriter.erase_op(op.operation)
            else:
                rewriter.replace_op(op, [replacement])

        return pattern

    # One method per op that is not a plain unary/binary elementwise op.

    def lower_constant(self, op):
        return arith.constant(op.results[0].type, op.attributes["value"])

    def lower_clamp(self, op):
        lo = ir.FloatAttr(op.attributes["lo"]).value
        hi = ir.FloatAttr(op.attributes["hi"]).value
        return elementwise(op.operands, op.results[0].type,
                            lambda x: arith.minimumf(arith.maximumf(x, _const(lo)), _const(hi)))

    # Boolean tensors are never stored: MLIR cannot lower a buffer of i1. The verifier
    # lets a cmp result flow only into select or assert, which evaluate the comparison
    # inline; the cmp op itself then has no users and is erased.

    def lower_cmp(self, op):
        if len(list(op.results[0].uses)) > 0:
            return NO_MATCH
        return None

    def _comparison(self, cmp_op):
        predicate = _PREDICATES[ir.StringAttr(cmp_op.attributes["predicate"]).value]
        return list(cmp_op.operands), lambda a, b: arith.cmpf(predicate, a, b)

    def lower_select(self, op):
        (lhs, rhs), compare = self._comparison(op.operands[0].owner)
        return elementwise([lhs, rhs, op.operands[1], op.operands[2]], op.results[0].type,
                            lambda a, b, t, f: arith.select(compare(a, b), t, f))

    def _zero_filled(self, result_type):
        return linalg.fill(_const(0.0), outs=[_empty(result_type)])

    def lower_matmul(self, op):
        init = self._zero_filled(op.results[0].type)
        return linalg.matmul(op.operands[0], op.operands[1], outs=[init])

    def lower_matvec(self, op):
        init = self._zero_filled(op.results[0].type)
        return linalg.matvec(op.operands[0], op.operands[1], outs=[init])

    def lower_dot(self, op):
        product = elementwise(op.operands, op.operands[0].type, arith.mulf)
        return _full_reduction(product, 0.0, arith.addf)

    def lower_sum(self, op):
        return _full_reduction(op.operands[0], 0.0, arith.addf)

    def lower_mean(self, op):
        shape = ir.RankedTensorType(op.operands[0].type).shape
        count = 1
        for s in shape:
            count *= s
        total = _full_reduction(op.operands[0], 0.0, arith.addf)
        return arith.divf(total, _const(float(count)))

    def lower_slice(self, op):
        offsets = list(ir.DenseI64ArrayAttr(op.attributes["offsets"]))
        sizes = list(ir.DenseI64ArrayAttr(op.attributes["sizes"]))
        view = tensor.extract_slice(op.results[0].type, op.operands[0], [], [], [],
                                    offsets, sizes, [1] * len(sizes))
        # Copy the strided view into a dense tensor. Left as a view, a slice that is
        # returned needs memref.copy with a strided layout, which lowers to a call into
        # MLIR's C runner library; this keeps the compiled code self-contained.
        return elementwise([view], op.results[0].type, lambda x: x)

    def lower_concat(self, op):
        result = _empty(op.results[0].type)
        offset = 0
        for value in op.operands:
            size = ir.RankedTensorType(value.type).shape[0]
            result = tensor.insert_slice(value, result, [], [], [], [offset], [size], [1])
            offset += size
        return result

    def lower_extract(self, op):
        index = [arith.constant(ir.IndexType.get(), i)
                 for i in ir.DenseI64ArrayAttr(op.attributes["index"])]
        return tensor.extract(op.operands[0], index)

    def lower_broadcast(self, op):
        return linalg.fill(op.operands[0], outs=[_empty(op.results[0].type)])

    def lower_assert(self, op):
        number = len(self.asserts) + 1
        file, line, col = location_parts(op.location, self.default_file)
        message = ir.StringAttr(op.attributes["message"]).value
        self.asserts.append(AssertSite(number, message, file, line, col))
        cond = op.operands[0]
        i32 = ir.IntegerType.get_signless(32)
        if isinstance(cond.type, ir.RankedTensorType):
            (lhs, rhs), compare = self._comparison(cond.owner)
            holds = elementwise([lhs, rhs], _with_element(lhs.type, i32),
                                 lambda a, b: arith.extui(i32, compare(a, b)))
            all_hold = _full_reduction(holds, 1, arith.andi)
            cond = arith.cmpi(arith.CmpIPredicate.ne, all_hold, arith.constant(i32, 0))
        status_type = ir.MemRefType.get([], i32)
        status = memref.get_global(status_type, ASSERT_STATUS_GLOBAL)
        previous = memref.load(status, [])
        # Keep the first violation of this call: write our number only if none yet.
        none_yet = arith.cmpi(arith.CmpIPredicate.eq, previous, arith.constant(i32, 0))
        violated = arith.xori(cond, arith.constant(ir.IntegerType.get_signless(1), 1))
        record = arith.andi(none_yet, violated)
        memref.store(arith.select(record, arith.constant(i32, number), previous), status, [])
        return None


def add_assert_status_global(module_op) -> None:
    """Declare the mutable status word that lowered asserts write to."""
    with ir.InsertionPoint.at_block_begin(module_op.regions[0].blocks[0]), ir.Location.unknown():
        i32 = ir.IntegerType.get_signless(32)
        memref.global_(ASSERT_STATUS_GLOBAL, ir.TypeAttr.get(ir.MemRefType.get([], i32)),
                       sym_visibility="public",
                       initial_value=ir.DenseElementsAttr.get_splat(
                           ir.RankedTensorType.get([], i32), ir.IntegerAttr.get(i32, 0)),
                       alignment=8)
