"""The ``neurojit`` command line: parsing, and a lookup in ``commands.COMMANDS``.

The user's operations (check, compile, run, swarm, repair, synthesize, evolve, registry,
bench, gym) each live in their module of ``commands/``: their flags, request, run and
output; the engine process answers the workstation with the same code. What stays here:
``main`` (bad input as one line, ``neurojit [FILE]`` for the workstation), the
workstation's own ``ui``, and ``demo``, ``lsp`` and ``samples``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .commands import COMMANDS
from .commands.args import (
    AGENTS,
    COUNT,
    EVALUATIONS,
    FPS,
    GRAVITY,
    MAX_PROGRAM_BYTES,
    MODEL_SEED,
    SECONDS,
    SEED,
    STEPS,
    SWARM_BASE_BYTES,
    SWARM_BYTES_PER_AGENT,
    THREADS,
    TURBULENCE,
    WORKERS,
    add_condition_flags,
    environment_from,
    read_program,
)
from .commands.args import agent_overrides as _agent_overrides
from .commands.base import EXIT_DIAGNOSTICS, EXIT_OK, EXIT_USAGE_ERROR, CommandError
from .evolve.results import EvolveOptions

__all__ = [  # the argument types, for tests and scripts
    "AGENTS",
    "COUNT",
    "EVALUATIONS",
    "FPS",
    "GRAVITY",
    "MAX_PROGRAM_BYTES",
    "MODEL_SEED",
    "SECONDS",
    "SEED",
    "STEPS",
    "SWARM_BASE_BYTES",
    "SWARM_BYTES_PER_AGENT",
    "THREADS",
    "TURBULENCE",
    "WORKERS",
    "_agent_overrides",
    "build_parser",
    "main",
]

_read = read_program


def cmd_demo(args) -> int:
    from .demo import run_demo

    if args.samples:  # the user's folder: each program must be readable text
        folder = Path(args.samples)
        if not folder.is_dir():
            raise SystemExit(f"{folder}: error: not a folder of TensorLang samples")
        for path in sorted(folder.glob("*.mlir")) + sorted(folder.glob("broken/*.mlir")):
            _read(str(path))
    return run_demo(args)


def cmd_samples(args) -> int:
    """List the samples that come with NeuroJIT, or copy them into a folder to start from."""
    import shutil

    from .paths import samples_dir

    folder = samples_dir()
    samples = sorted(folder.glob("*.mlir")) + sorted(folder.glob("broken/*.mlir"))
    if args.copy:
        target = Path(args.copy)
        copied, kept = [], []
        for path in samples:
            destination = target / path.relative_to(folder)
            if destination.exists():  # never over a file the user may have changed
                kept.append(destination)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            copied.append(destination)
        if args.json:
            print(
                json.dumps(
                    {"copied": [str(p) for p in copied], "kept": [str(p) for p in kept]}, indent=2
                )
            )
        else:
            print(
                f"copied {len(copied)} sample(s) to {target}"
                + (f"; kept {len(kept)} file(s) already there" if kept else "")
            )
        return EXIT_OK
    rows = [
        {"name": str(path.relative_to(folder)), "path": str(path), "summary": _first_comment(path)}
        for path in samples
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    width = max((len(r["name"]) for r in rows), default=0)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['summary']}")
    print(
        f"\n{len(rows)} samples in {folder} (broken/: programs that fail verification, each "
        f"with its expected diagnostic); `neurojit samples --copy DIR` copies them"
    )
    return EXIT_OK


def _first_comment(path: Path) -> str:
    for line in _read(str(path)).splitlines():
        if line.startswith("//"):
            return line.lstrip("/ ").strip()
    return ""


def cmd_lsp(args) -> int:
    from .lsp.server import serve

    return serve(controller=args.controller)


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one line (argparse also prints the usage above it), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:

    parser = _Parser(
        prog="neurojit", description="NeuroJIT Workstation: TensorLang JIT compiler tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        p = sub.add_parser(command.name, help=command.help)
        command.add_arguments(p)
        p.set_defaults(handler=command.main)

    p = sub.add_parser("ui", help="the workstation (the same as `neurojit [FILE]`), with options")
    p.add_argument("file", nargs="?", default=None, help="TensorLang file to edit")
    p.add_argument(
        "--fps",
        type=FPS,
        default=None,
        help="lander frames per second (default 25, or 10 over SSH)",
    )
    p.add_argument("--theme", default=None, help="dark, light or high-contrast (themes/*.tcss)")
    p.add_argument("--layout", default=None, choices=["auto", "wide", "medium", "compact"])
    add_condition_flags(p)  # F6, F7, F9 and Shift+F9 fly in them (Ctrl+O changes them)
    # evolve's --env, --env-arg and --objective, for F9 (Ctrl+O changes them too)
    p.add_argument(
        "--env",
        default=None,
        metavar="ID",
        help="F9 evolves judged in this Gymnasium environment (as evolve --env): it "
        "chooses among the finalists and validates the winner",
    )
    p.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a gymnasium.make argument for --env (repeatable); VALUE true/false, a number or text",
    )
    p.add_argument(
        "--objective",
        choices=("landed", "return"),
        default=EvolveOptions.objective,
        help="what F9's evolutions rank by (as evolve --objective; default landed)",
    )
    p.set_defaults(handler=cmd_ui)

    p = sub.add_parser("demo", help="headless demo: compile the samples, hot-swap a running loop")
    p.add_argument("--samples", default=None, help="folder of TensorLang samples")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("lsp", help="language server for TensorLang on stdin/stdout (for editors)")
    p.add_argument(
        "--controller",
        action="store_true",
        help="hold every file to the controller ABI (as check --controller)",
    )
    p.add_argument(
        "--stdio",
        action="store_true",
        help="accepted for editors that pass it: stdio is the only transport",
    )
    p.set_defaults(handler=cmd_lsp)

    p = sub.add_parser("samples", help="list the built-in TensorLang samples, or copy them")
    p.add_argument("--copy", metavar="DIR", help="copy them into DIR (existing files are kept)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_samples)
    return parser


def cmd_ui(args) -> int:
    from .gym.environments import EnvSpec, FlightError

    spec = None
    if args.env is not None:
        try:  # the words only: the engine makes the environment when F9 asks for it
            spec = EnvSpec.parse(args.env, args.env_arg)
        except FlightError as error:
            raise CommandError(str(error), EXIT_USAGE_ERROR) from None
    elif args.env_arg:
        raise CommandError("--env-arg needs --env", EXIT_USAGE_ERROR)
    _check_workstation_start(args.file)
    from .ui.app import run_app
    from .ui.conditions import EvolutionTarget

    return run_app(
        args.file,
        fps=args.fps,
        theme=args.theme,
        layout=args.layout,
        conditions=environment_from(args, warn=False),  # the workstation warns on its screen
        target=EvolutionTarget(spec, args.objective),
    )


def _check_workstation_start(path: str | None) -> None:
    """Refuse at once what the workstation cannot work with: a file that exists but is
    not a readable UTF-8 file, and no terminal (a script, CI: the app would wait forever
    for a screen)."""
    if path is not None and Path(path).exists():
        if not Path(path).is_file():
            raise SystemExit(f"{path}: error: not a file")
        _read(path)
    try:
        terminal = sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # a stream closed or replaced
        terminal = False
    if not terminal:
        raise SystemExit(
            "neurojit: error: the workstation needs a terminal (standard input "
            "and output are not one); without one, try `neurojit demo` or "
            "`neurojit --help`"
        )


def _unknown_command(word: str, commands) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(commands), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "commands: " + ", ".join(sorted(commands))
    return (
        f"unknown command {word!r}; {hint} (to edit a file in the workstation, give one "
        f"that exists or a new name ending in .mlir)"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        # `neurojit --gravity 3 [FILE]`: the workstation's own options, given first
        argv = ["ui", *argv]
    elif not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        # `neurojit` or `neurojit FILE`: the workstation, for a file that exists or a new
        # .mlir; any other word is a mistyped command
        if argv and not (Path(argv[0]).exists() or argv[0].endswith(".mlir")):
            parser.error(_unknown_command(argv[0], commands))
        argv = ["ui", *argv]
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CommandError as error:
        print(error.line(), file=sys.stderr)
        return error.status
    except OSError as error:  # a path given on the command line that cannot be used
        where = f"{error.filename}: " if error.filename else ""
        print(f"neurojit: error: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_DIAGNOSTICS
    except KeyboardInterrupt:
        return 130  # the shell's code for Ctrl+C


if __name__ == "__main__":
    sys.exit(main())
