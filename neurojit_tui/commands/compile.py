"""``neurojit compile FILE``, and the workstation's compile: lower and JIT-compile a
program, or print its lowered IR, or write its object file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..compiler.diagnostics import Diagnostic
from .args import print_diagnostics, read_program
from .base import EXIT_DIAGNOSTICS, EXIT_OK, Command, Context, Emit, Request


@dataclass(frozen=True)
class CompileTimings:
    parse_verify_s: float
    lower_s: float
    jit_s: float


@dataclass(frozen=True)
class CompileReply:
    diagnostics: tuple[Diagnostic, ...]
    timings: CompileTimings | None = None  # None: it did not compile (or only lowered)
    entries: tuple[str, ...] = ()  # the compiled functions, without @
    ir: str | None = None  # emit mlir-lowered or llvm-dialect: the IR
    object_path: str | None = None  # emit obj: where the object file went

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics) and (
            self.timings is not None or self.ir is not None
        )


@dataclass(frozen=True)
class CompileRequest(Request[CompileReply], op="compile"):
    text: str
    path: str
    controller: bool = True  # hold it to the controller ABI
    emit: str | None = None  # None: compile; or one of compiler.driver.EMIT_KINDS
    output: str | None = None  # emit obj: the object file (default: PATH's name with .o)
    tier: str = "quick"  # quick: a short LLVM pipeline; full: LLVM -O3
    print_ir_after_all: bool = False  # the IR after every pass, on stderr


class _EmitKinds:
    """``--emit``'s choices, read from the compiler driver only when argparse checks a
    value or prints help: importing the driver loads MLIR, which the processes that only
    build this parser (the workstation's UI, the language server) must not do."""

    @staticmethod
    def _kinds() -> tuple[str, ...]:
        from ..compiler.driver import EMIT_KINDS

        return tuple(EMIT_KINDS)

    def __contains__(self, kind: object) -> bool:
        return kind in self._kinds()

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds())


class Compile(Command[CompileRequest, CompileReply]):
    name = "compile"
    help = "lower and JIT-compile a TensorLang file"
    request = CompileRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--emit",
            choices=_EmitKinds(),
            metavar="KIND",
            help="print lowered IR or write an object file (%(choices)s)",
        )
        parser.add_argument("-o", "--output", help="object file path for --emit obj")
        parser.add_argument(
            "--print-ir-after-all",
            action="store_true",
            help="print the IR after every pass (to stderr)",
        )
        parser.add_argument(
            "--tier",
            default=CompileRequest.tier,
            choices=("quick", "full"),
            help="quick: a short LLVM pipeline and fast code generation (default); full: LLVM -O3",
        )

    def request_from(self, args: argparse.Namespace) -> CompileRequest:
        return CompileRequest(
            read_program(args.file),
            args.file,
            controller=False,  # any program: `run` calls any function
            emit=args.emit,
            output=args.output,
            tier=args.tier,
            print_ir_after_all=args.print_ir_after_all,
        )

    def run(self, request: CompileRequest, emit: Emit, context: Context) -> CompileReply:
        from ..compiler import CompileError, Compiler

        compiler = context.compiler() if request.tier == "quick" else Compiler(tier=request.tier)
        text, path, after_all = request.text, request.path, request.print_ir_after_all
        try:
            if request.emit == "mlir-lowered":
                lowered = compiler.lower(
                    text, path, stop_after_tensorlang=True, print_ir_after_all=after_all
                )
                return CompileReply((), ir=str(lowered.ir_after_tensorlang))
            if request.emit == "llvm-dialect":
                lowered = compiler.lower(text, path, print_ir_after_all=after_all)
                return CompileReply((), ir=str(lowered.module))
            program = compiler.compile(
                text, path, require_control=request.controller, print_ir_after_all=after_all
            )
        except CompileError as error:
            return CompileReply(tuple(error.diagnostics))
        out = None
        if request.emit == "obj":
            out = request.output or str(Path(path).with_suffix(".o").name)
            program.dump_object(out)
        t = program.timings
        return CompileReply(
            (),
            CompileTimings(t.parse_verify_s, t.lower_s, t.jit_s),
            tuple(program.signatures),
            object_path=out,
        )

    def present(
        self, args: argparse.Namespace, request: CompileRequest, reply: CompileReply
    ) -> int:
        if reply.diagnostics:
            print_diagnostics(reply.diagnostics, False)
            return EXIT_DIAGNOSTICS
        if reply.ir is not None:
            print(reply.ir)
            return EXIT_OK
        if reply.object_path is not None:
            print(f"wrote {reply.object_path}", file=sys.stderr)
        t = reply.timings
        assert t is not None
        print(
            f"{request.path}: compiled {', '.join('@' + n for n in reply.entries)} "
            f"(parse+verify {t.parse_verify_s * 1e3:.1f} ms, lower {t.lower_s * 1e3:.1f} ms, "
            f"JIT {t.jit_s * 1e3:.1f} ms)",
            file=sys.stderr,
        )
        return EXIT_OK


COMMAND = Compile()
