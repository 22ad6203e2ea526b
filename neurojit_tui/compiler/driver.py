"""The compiler driver: text -> parsed and verified module -> lowered -> ORC JIT.

``Compiler`` keeps one MLIR context (creating one costs ~10 ms because every upstream
dialect is registered) and replaces it every ``recycle_after`` programs so memory held
by uniqued attributes stays bounded. A ``Compiler`` is not thread-safe: use one per
thread.
"""

from __future__ import annotations

import ctypes
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from mlir import ir, passmanager

from ..once import once
from . import dialect as tl
from .diagnostics import ERROR, Diagnostic, collect, from_mlir, has_errors
from .ir_types import MlirContext, MlirOperation, MlirPassManager, MlirType
from .jit import AssertSite, CompiledProgram, FunctionSignature, Timings, ValueType
from .lowering import LLVM_PIPELINE, Lowering, add_assert_status_global
from .machine_code import QUICK, machine_code
from .parametric import ParameterTable, lift_parameters
from .verifier import SemanticVerifier

EMIT_KINDS = ("mlir-lowered", "llvm-dialect", "obj")

# A program without a top-level ``module`` is parsed as "module {" + text + "}"; the
# prefix shares line 1 so every line number stays right (line-1 columns are shifted back).
_WRAP_PREFIX = "module {"
_STARTS_WITH_MODULE = re.compile(r"\A(\s|//[^\n]*\n)*module\b")
_PIPELINE_TEXT = "builtin.module(" + ",".join(LLVM_PIPELINE) + ")"


class CompileError(Exception):
    """The program did not verify or compile; ``diagnostics`` says where and why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics) or "compilation failed")


@dataclass
class Lowered:
    """Result of the MLIR stages before the JIT."""

    module: MlirOperation
    signatures: dict[str, FunctionSignature]
    asserts: list[AssertSite]
    ir_after_tensorlang: str = ""
    timings: Timings = field(default_factory=Timings)
    parameters: ParameterTable | None = None  # set when lowered with parametric=True


class Compiler:
    def __init__(self, tier: str = QUICK, recycle_after: int = 256):
        """``tier``: how hard LLVM works on the code (see ``machine_code.MachineCode``)."""
        self.tier = tier
        self.recycle_after = recycle_after
        self._context: MlirContext | None = None
        self._pass_manager: MlirPassManager | None = None
        self._uses = 0

    # -- context ------------------------------------------------------------------

    @property
    def context(self) -> MlirContext | None:
        """The MLIR context that the modules of the last ``parse`` or ``lower`` live in
        (None before the first). IR built or parsed to go with such a module, such as
        the swarm kernel that a lowered controller is linked into, must be made in this
        context (``with compiler.context:``), and before the next ``parse``: that may
        replace the context (see ``recycle_after``)."""
        return self._context

    def _fresh_context(self) -> MlirContext:
        if self._context is None or self._uses >= self.recycle_after:
            context = ir.Context()
            context.enable_multithreading(False)  # small modules: threads cost more
            with context:
                tl.load_tensorlang(context)
            self._context, self._uses, self._pass_manager = context, 0, None
        self._uses += 1
        return self._context

    def _parsed_context(self) -> MlirContext:
        """The context of the last ``parse``, which ``lower`` and ``parameters`` have just run."""
        assert self._context is not None
        return self._context

    def _pipeline(self, print_ir_after_all: bool) -> MlirPassManager:
        """The upstream pass pipeline; parsed once per context unless IR printing is on."""
        if print_ir_after_all:
            manager = passmanager.PassManager.parse(_PIPELINE_TEXT)
            manager.enable_ir_printing(print_after_all=True)
            return manager
        if self._pass_manager is None:
            self._pass_manager = passmanager.PassManager.parse(_PIPELINE_TEXT)
            # Verifying after every pass cost 2-4 ms per compile; upstream passes on
            # verified input are trusted, and ``lower`` verifies the result once.
            self._pass_manager.enable_verifier(False)
        return self._pass_manager

    # -- front end ----------------------------------------------------------------

    def parse(
        self, text: str, path: str, require_control: bool = False
    ) -> tuple[MlirOperation | None, list[Diagnostic]]:
        """Parse and verify ``text``; returns (module_op or None, diagnostics)."""
        context = self._fresh_context()
        wrapped = not _STARTS_WITH_MODULE.match(text)
        source = _WRAP_PREFIX + text + "\n}" if wrapped else text
        with context, ir.Location.unknown(), collect(context, path) as emitted:
            try:
                module = ir.Operation.parse(source, source_name=path)
            except ir.MLIRError as error:
                found = [from_mlir(d, path) for d in error.error_diagnostics]
                found = found or [Diagnostic(path, 0, 0, ERROR, str(error))]
                return None, _unwrap(emitted + found, path, wrapped)
            SemanticVerifier(module).run(require_control=require_control)
        diagnostics = _unwrap(emitted, path, wrapped)
        return (None if has_errors(diagnostics) else module), diagnostics

    def check(self, text: str, path: str, require_control: bool = False) -> list[Diagnostic]:
        return self.parse(text, path, require_control)[1]

    def parameters(self, text: str, path: str) -> ParameterTable:
        """The tunable numbers of ``@control`` (see ``parametric``), without lowering;
        CompileError if the program does not verify."""
        module, diagnostics = self.parse(text, path, require_control=True)
        if module is None:
            raise CompileError(diagnostics)
        with self._parsed_context(), ir.Location.unknown():
            return lift_parameters(module, path, text, _line_one_shift(text))

    # -- middle and back end ---------------------------------------------------------

    def lower(
        self,
        text: str,
        path: str,
        require_control: bool = False,
        stop_after_tensorlang: bool = False,
        print_ir_after_all: bool = False,
        parametric: bool = False,
    ) -> Lowered:
        """``parametric``: lift the tunable numbers of ``@control`` into a parameter
        argument first (``parametric.lift_parameters``); ``Lowered.parameters`` says
        which numbers, from where."""
        t0 = time.perf_counter()
        module, diagnostics = self.parse(text, path, require_control or parametric)
        if module is None:
            raise CompileError(diagnostics)
        t1 = time.perf_counter()
        parameters = None
        context = self._parsed_context()
        with context, ir.Location.unknown(), collect(context, path) as emitted:
            if parametric:
                parameters = lift_parameters(module, path, text, _line_one_shift(text))
            signatures = _signatures(module)
            add_assert_status_global(module)
            asserts = Lowering(module, path).run()
            after_tensorlang = str(module) if stop_after_tensorlang else ""
            if not stop_after_tensorlang:
                try:
                    self._pipeline(print_ir_after_all).run(module)
                    module.verify()  # once, at the end (see _pipeline)
                except ir.MLIRError as error:
                    raise CompileError(
                        emitted + [from_mlir(d, path) for d in error.error_diagnostics]
                    ) from None
                _reject_external_calls(module, path)
        lowered = Lowered(module, signatures, asserts, after_tensorlang, parameters=parameters)
        lowered.timings.parse_verify_s = t1 - t0
        lowered.timings.lower_s = time.perf_counter() - t1
        return lowered

    def compile(
        self, text: str, path: str, require_control: bool = False, print_ir_after_all: bool = False
    ) -> CompiledProgram:
        lowered = self.lower(text, path, require_control, print_ir_after_all=print_ir_after_all)
        t0 = time.perf_counter()
        with self._parsed_context():
            llvm_ir = translate_to_llvm_ir(lowered.module)
        symbols = list(lowered.signatures) + [tl.ASSERT_STATUS_GLOBAL]
        linked = machine_code().compile(llvm_ir, symbols, Path(path).stem, self.tier)
        lowered.timings.jit_s = time.perf_counter() - t0
        return CompiledProgram(linked, path, lowered.signatures, lowered.asserts, lowered.timings)


def _line_one_shift(text: str) -> int:
    """How far ``parse``'s implicit wrapper shifts the columns of line 1."""
    return 0 if _STARTS_WITH_MODULE.match(text) else len(_WRAP_PREFIX)


def _unwrap(diagnostics: list[Diagnostic], path: str, wrapped: bool) -> list[Diagnostic]:
    """Undo the column shift that the implicit ``module {`` wrapper put on line 1."""
    if not wrapped:
        return diagnostics
    shift = len(_WRAP_PREFIX)

    def fix(d: Diagnostic) -> Diagnostic:
        col = d.col - shift if d.line == 1 and d.col > shift else d.col
        return Diagnostic(
            d.file, d.line, col, d.severity, d.message, tuple(fix(n) for n in d.notes)
        )

    return [fix(d) for d in diagnostics]


def _value_type(t: MlirType) -> ValueType:
    if isinstance(t, ir.RankedTensorType):
        rt = ir.RankedTensorType(t)
        kind = "f64" if isinstance(rt.element_type, ir.F64Type) else "i1"
        return ValueType(kind, tuple(rt.shape))
    return ValueType("f64" if isinstance(t, ir.F64Type) else "i1", None)


def _signatures(module: MlirOperation) -> dict[str, FunctionSignature]:
    signatures: dict[str, FunctionSignature] = {}
    for op in module.regions[0].blocks[0].operations:
        op = op.operation
        if op.name != "func.func":
            continue
        name = ir.StringAttr(op.attributes["sym_name"]).value
        ftype = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
        signatures[name] = FunctionSignature(
            name,
            tuple(_value_type(t) for t in ftype.inputs),
            tuple(_value_type(t) for t in ftype.results),
        )
    return signatures


def _reject_external_calls(module: MlirOperation, path: str) -> None:
    """Compiled TensorLang must be self-contained: a declared-but-undefined function
    (say, a runtime helper some lowering pulled in) would be resolved at run time or not
    at all. Such a module is a compiler bug; refuse it rather than run it."""
    for op in module.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "llvm.func" and len(op.regions[0].blocks) == 0:
            name = ir.StringAttr(op.attributes["sym_name"]).value
            raise CompileError(
                [
                    Diagnostic(
                        path,
                        0,
                        0,
                        ERROR,
                        f"internal compiler error: lowering produced a call to "
                        f"the external function @{name}; please report this program",
                    )
                ]
            )


def translate_to_llvm_ir(module_op: MlirOperation) -> str:
    """LLVM IR text of a module that holds only LLVM-dialect operations.

    The Python bindings have no call for this, so it goes through MLIR's C API in the
    library the bindings load (``mlirTranslateModuleToLLVMIRToString``). That call has no
    error path (a module it cannot translate crashes it), so only modules the pass
    pipeline produced and ``verify()`` accepted come here, and only in the engine process."""
    capi = _translation_capi()
    operation = capi.capsule_pointer(module_op.operation._CAPIPtr, b"mlir.ir.Operation._CAPIPtr")
    text = capi.translate(operation)
    try:
        return ctypes.string_at(text).decode()
    finally:
        capi.free(text)


@once
def _translation_capi() -> SimpleNamespace:
    import mlir._mlir_libs as libs

    capi = ctypes.CDLL(str(Path(libs.__file__).parent / "libMLIRPythonCAPI.so"))
    translate = capi.mlirTranslateModuleToLLVMIRToString
    translate.restype, translate.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
    capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    capsule_pointer.restype = ctypes.c_void_p
    capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    free = ctypes.CDLL(None).free  # the string is LLVM's strdup
    free.argtypes = [ctypes.c_void_p]
    return SimpleNamespace(translate=translate, capsule_pointer=capsule_pointer, free=free)
