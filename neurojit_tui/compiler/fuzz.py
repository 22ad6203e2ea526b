"""Mutation fuzzing of the compiler: ``python -m neurojit_tui.compiler.fuzz``.

Takes the sample programs, applies random structural mutations (deleted tokens,
swapped types, wrong operand counts, changed numbers, swapped lines), and feeds each
mutant through check, compile and one call. Every mutant must end as diagnostics or as
a program that runs; anything else (a Python exception escaping, a crash) is a bug.

Run it in a child process (tests do): a native crash then kills only the child, and
the mutant being tried is in ``--last`` to reproduce it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

from ..paths import controller_samples
from .driver import CompileError, Compiler
from .syntax import VALUE_NAME_PATTERN

TOKEN = re.compile(VALUE_NAME_PATTERN + r"|\"[^\"]*\"|[\w.]+|[^\s\w]")
TYPES = [
    "f64",
    "i1",
    "i32",
    "index",
    "tensor<2xf64>",
    "tensor<4xf64>",
    "tensor<8xf64>",
    "tensor<3x2xf64>",
    "tensor<?xf64>",
    "tensor<2xi1>",
    "memref<4xf64>",
    "!llvm.ptr",
]
TYPE_IN_TEXT = re.compile(r"tensor<[^>]*>|\bf64\b|\bi1\b")


def _delete_token(text: str, rng: random.Random) -> str:
    tokens = list(TOKEN.finditer(text))
    m = rng.choice(tokens)
    return text[: m.start()] + text[m.end() :]


def _swap_type(text: str, rng: random.Random) -> str:
    found = list(TYPE_IN_TEXT.finditer(text))
    m = rng.choice(found)
    return text[: m.start()] + rng.choice(TYPES) + text[m.end() :]


def _operand_count(text: str, rng: random.Random) -> str:
    calls = list(re.finditer(r'"tensorlang\.\w+"\(([^)]*)\)', text))
    if not calls:
        return _delete_token(text, rng)
    m = rng.choice(calls)
    operands = [o.strip() for o in m.group(1).split(",") if o.strip()]
    if operands and rng.random() < 0.5:
        operands.pop(rng.randrange(len(operands)))
    else:
        operands.append(rng.choice(operands or ["%obs"]))
    return text[: m.start(1)] + ", ".join(operands) + text[m.end(1) :]


def _change_number(text: str, rng: random.Random) -> str:
    numbers = list(re.finditer(r"-?\d+(\.\d+)?", text))
    m = rng.choice(numbers)
    value = rng.choice(["0", "-1", "9", "1.0e308", "100000", "3", "2", "-0.0"])
    return text[: m.start()] + value + text[m.end() :]


def _swap_lines(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


MUTATIONS = [_delete_token, _swap_type, _operand_count, _change_number, _swap_lines]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.choice([1, 1, 2, 3])):
        text = rng.choice(MUTATIONS)(text, rng)
    return text


def run(seed: int, count: int, last: Path | None) -> dict[str, int]:
    rng = random.Random(seed)
    sources = [(p.name, p.read_text()) for p in controller_samples()]
    compiler = Compiler()
    outcome = {"diagnostics": 0, "compiled": 0, "ran": 0, "assert_violations": 0}
    for i in range(count):
        name, text = rng.choice(sources)
        mutant = mutate(text, rng)
        if last is not None:
            last.write_text(f"// mutant {i} of {name}, seed {seed}\n" + mutant)
        path = f"mutant-{i}-{name}"
        try:
            program = compiler.compile(mutant, path)
        except CompileError as error:
            assert error.diagnostics, "a CompileError must carry diagnostics"
            for d in error.diagnostics:
                assert d.file == path and d.line >= 0 and d.col >= 0 and d.message
            outcome["diagnostics"] += 1
            continue
        outcome["compiled"] += 1
        if "control" in program.signatures and [
            str(t) for t in program.signatures["control"].inputs
        ] == ["tensor<8xf64>", "tensor<4xf64>"]:
            obs = np.array([rng.uniform(-1, 1) for _ in range(8)])
            _, violation = program.call("control", obs, np.zeros(4))
            outcome["ran"] += 1
            outcome["assert_violations"] += violation is not None
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--last", type=Path, help="write each mutant here before trying it")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.seed, args.count, args.last)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
