"""``neurojit registry ls|show|verify|gc``, and the workstation's Registry pane (F10):
the stored controllers, best per key."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from .base import (
    EXIT_DIAGNOSTICS,
    EXIT_OK,
    Command,
    CommandError,
    Context,
    Emit,
    LocalContext,
    Request,
)


@dataclass(frozen=True)
class RegistryRow:
    """A key's best stored controller, as the Registry pane lists it."""

    key: str
    file: str
    scores: dict[str, Any]  # success_rate, mean_score, cvar10_score, ...
    strategy: dict[str, Any] | None
    condition: dict[str, Any] | None  # gravity, turbulence, ...
    created: float  # time.time() when it was stored
    source: str


@dataclass(frozen=True)
class RegistryListing:
    entries: tuple[RegistryRow, ...]  # best first, unless not ``ranked``
    warnings: tuple[str, ...] = ()  # what the registry found wrong while reading


@dataclass(frozen=True)
class RegistryListRequest(Request[RegistryListing], op="registry_ls"):
    registry: str | None = None  # its folder; None: the default one
    ranked: bool = True  # best first; False: the registry's order


class Registry(Command[RegistryListRequest, RegistryListing]):
    name = "registry"
    help = "browse and check the controller registry"
    request = RegistryListRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", choices=["ls", "show", "verify", "gc"])
        parser.add_argument("key", nargs="?")
        parser.add_argument("--registry", help="registry folder")
        parser.add_argument("--json", action="store_true")

    def request_from(self, args: argparse.Namespace) -> RegistryListRequest:
        return RegistryListRequest(args.registry, ranked=False)

    def run(self, request: RegistryListRequest, emit: Emit, context: Context) -> RegistryListing:
        """Every key's best entry (entries still being written back are part of it)."""
        registry = context.registry(request.registry)
        registry.flush()
        entries = list(registry.entries())
        if request.ranked:
            entries.sort(key=lambda e: e.rank_key(), reverse=True)
        return RegistryListing(
            tuple(
                RegistryRow(
                    e.key,
                    e.file,
                    e.scores,
                    e.strategy,
                    e.key_data.get("condition"),
                    e.created,
                    e.source,
                )
                for e in entries
            ),
            tuple(registry.warnings),
        )

    def present(
        self, args: argparse.Namespace, request: RegistryListRequest, reply: RegistryListing
    ) -> int:
        if args.json:
            rows = [
                {
                    "key": e.key,
                    "file": e.file,
                    "scores": e.scores,
                    "condition": e.condition,
                    "created": e.created,
                }
                for e in reply.entries
            ]
            print(json.dumps(rows, indent=2))
        for e in reply.entries if not args.json else ():
            c = e.condition or {}
            print(
                f"{e.key}  gravity {c.get('gravity')}  turbulence {c.get('turbulence')}  "
                f"success {e.scores.get('success_rate')}  {e.file}"
            )
        _warn(reply.warnings)
        return EXIT_OK

    def main(self, args: argparse.Namespace) -> int:
        if args.action == "ls":
            return super().main(args)
        context = LocalContext()  # show, verify, gc: on the command line only
        registry = context.registry(args.registry)
        if args.action == "show":
            if not args.key:
                raise CommandError("registry show needs a KEY", kind="")
            entry = registry.best(args.key)
            if entry is None:
                print(f"neurojit: no valid entry {args.key}", file=sys.stderr)
                return EXIT_DIAGNOSTICS
            print(json.dumps(entry.to_json(), indent=2) if args.json else entry.source)
        elif args.action == "verify":
            result = registry.verify()
            print(
                json.dumps(result, indent=2)
                if args.json
                else f"checked {result['checked']} version(s); problems: {len(result['problems'])}"
            )
            for problem in result["problems"] if not args.json else []:
                print("  " + problem)
            return EXIT_OK if not result["problems"] else EXIT_DIAGNOSTICS
        elif args.action == "gc":
            result = registry.gc()
            print(json.dumps(result) if args.json else f"removed {result['removed']} file(s)")
        _warn(registry.warnings)
        return EXIT_OK


def _warn(warnings: Any) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


COMMAND = Registry()
