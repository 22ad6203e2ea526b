"""The synthesis agent: writes TensorLang, one grammar-constrained line at a time.

Input: a strategy (from the reasoning agent), or a program to repair from a given line
on, with the diagnostics. Output: a complete ``@control`` program. Each line is sampled
under a grammar generated from the dialect table and the values defined so far
(``grammar.LineGrammar``), so the program parses by construction.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

from ..compiler import dialect as tl
from ..compiler.syntax import VALUE_NAME, VALUE_NAME_PATTERN
from ..paths import samples_dir
from .backend import Backend, TokenCallback
from .grammar import ACTION_TYPE, MEM_TYPE, LineGrammar, SymbolTable, result_type_of

HEADER = tl.CONTROL_SIGNATURE + " {\n"
MAX_LINES = 12


@dataclass
class Synthesis:
    text: str
    prompt: str
    output: str  # what the model generated (the lines)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    grammar_chars: int = 0  # size of the last line's grammar, for the record


def renumbered(text: str) -> str:
    """``text`` with comments dropped, each op on one line and its values renamed
    %v0, %v1, ... in order of definition: the naming scheme the grammar writes in, so a
    small model can follow the example line by line."""
    code = " ".join(line.split("//")[0].strip() for line in text.splitlines())
    code = re.sub(r"\s+", " ", code)
    names = {}
    for match in re.finditer(rf"({VALUE_NAME_PATTERN})\s*=", code):
        if match.group(1) not in ("%obs", "%mem"):
            names.setdefault(match.group(1), f"%v{len(names)}")
    code = VALUE_NAME.sub(lambda m: names.get(m.group(0), m.group(0)), code)
    head, _, body = code.partition("{ ")
    statements = re.split(r" (?=%v\d+ = |return )", body.rsplit("}", 1)[0].strip())
    return head.strip() + " {\n" + "".join(f"  {s.strip()}\n" for s in statements) + "}\n"


def example_program(strategy=None) -> str:
    """The few-shot example: the PD sample in the grammar's naming scheme; with a
    strategy, its gain matrix carries the strategy's gains. (Small models follow the
    example closely, so this is how the reasoning agent's numbers reach the program.)"""
    text = renumbered((samples_dir() / "pd.mlir").read_text())
    if strategy is None:
        return text
    kp, kd = (max(-9.99, min(9.99, g)) for g in (strategy.kp, strategy.kd))
    rows = [[0.0, -kp, 0.0, -kd, 0.0, 0.0, 0.0, 0.0], [-kp, 0.0, -kd, 0.0, -2 * kp, -kd, 0.0, 0.0]]
    dense = "[" + ", ".join("[" + ", ".join(f"{v:.2f}" for v in row) + "]" for row in rows) + "]"
    return re.sub(r"dense<\[\[.*?\]\]>", f"dense<{dense}>", text, count=1)


def strategy_comment(strategy) -> str:
    if strategy is None:
        return "// Strategy: land softly on the pad: hold altitude, damp speed, keep level.\n"
    return "// Strategy: " + strategy.describe() + "\n"


class SynthesisAgent:
    def __init__(self, backend: Backend, max_lines: int = MAX_LINES):
        self.backend = backend
        self.default_max_lines = max_lines

    def write(
        self,
        strategy=None,
        keep_lines: list[str] | None = None,
        notes: str = "",
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        seed: int | None = None,
        max_new_lines: int | None = None,
        with_example: bool = True,
    ) -> Synthesis:
        """Write @control for ``strategy``; ``keep_lines`` are body lines to keep as they
        are (a repair regenerates only what follows them; a mutation extends them);
        ``notes`` go into the prompt (the diagnostics of a repair, a proposed change);
        ``max_new_lines`` bounds the lines written after the kept ones (default: the
        program as a whole gets ``max_lines``); ``with_example=False`` leaves the
        few-shot example out (the kept lines show the style, and the prompt stays short)."""
        start = time.perf_counter()
        self.max_lines = self.default_max_lines
        symbols = SymbolTable()
        body = []
        renamed: dict[str, str] = {}
        for line in keep_lines or []:
            # Kept lines move into the grammar's naming scheme (%v0, %v1, ...), so the
            # model continues in the scheme its grammar writes.
            definition = re.match(rf"\s*({VALUE_NAME_PATTERN})\s*=(.*)$", line.rstrip("\n"))
            defined = result_type_of(line)
            if definition is None or defined is None:
                break
            name = symbols.next_name()
            rest = VALUE_NAME.sub(
                lambda m: renamed.get(m.group(0), m.group(0)),
                definition.group(2),
            )
            renamed[definition.group(1)] = name
            symbols.types[name] = defined
            body.append(f"  {name} ={rest}\n")
        if max_new_lines is not None:
            self.max_lines = len(body) + max_new_lines
        preamble = (
            "// TensorLang: an MLIR dialect. A lunar-lander controller.\n"
            + (example_program(strategy) + "\n" if with_example else "")
            + notes
            + strategy_comment(strategy)
            + HEADER
        )
        result = Synthesis("", preamble, "")
        generated = []
        while True:
            lines_left = self.max_lines - len(body)
            try:
                grammar = LineGrammar(symbols).text(allow_define=lines_left > 0)
            except ValueError:  # out of lines and nothing to return: let the compiler say so
                break
            result.grammar_chars = len(grammar)
            generation = self.backend.generate(
                preamble + "".join(body),
                grammar=grammar,
                max_tokens=160,
                on_token=on_token,
                cancel=cancel,
                seed=seed,
            )
            result.prompt_tokens += generation.prompt_tokens
            result.completion_tokens += generation.completion_tokens
            line = generation.text
            if generation.cancelled:
                result.cancelled = True
                break
            if not line.endswith("\n"):
                line += "\n"  # token budget hit: the compiler will say what is wrong
            if lines_left <= 0 and not line.strip().startswith("return"):
                break  # only a backend that ignores the grammar gets here
            if _repeats(line, body):
                # Small models fall into loops (clamp of clamp of clamp...): drop the
                # repetition and let the next line only return.
                if lines_left <= 0:
                    break
                self.max_lines = len(body)
                continue
            body.append(line)
            generated.append(line)
            if line.strip().startswith("return"):
                break
            defined = result_type_of(line)
            if defined is None:
                break
            symbols.types[symbols.next_name()] = defined
        if not body or not body[-1].strip().startswith("return"):
            # Stopped before a return: return the newest action-shaped value, or leave a
            # name the compiler will report.
            action = (symbols.names(ACTION_TYPE) or ["%missing"])[-1]
            body.append(f"  return {action}, %mem : {ACTION_TYPE}, {MEM_TYPE}\n")
        result.text = HEADER + "".join(body) + "}\n"
        result.output = "".join(generated)
        result.seconds = time.perf_counter() - start
        return result


def _op_shape(line: str) -> str:
    """A line without its value names: equal for the same op applied again."""
    return re.sub(r"%v\d+", "%", line.split("=", 1)[-1]).strip()


def _repeats(line: str, body: list[str]) -> bool:
    """The same op again, applied to the previous line's result (clamp(clamp(x)))."""
    if not body or "=" not in line or _op_shape(line) != _op_shape(body[-1]):
        return False
    previous = body[-1].split("=", 1)[0].strip()
    return previous in re.findall(r"%v\d+", line.split("=", 1)[1])
