"""The recursive self-repair loop, one inspectable attempt at a time.

A ``RepairSession`` holds the current program and its failure (diagnostics, or a runtime
failure such as an assert violation). ``propose()`` makes one attempt and records it;
``accept()`` / ``reject()`` decide it; ``edit_and_retry(text)`` records the user's own
edit as an attempt; ``auto()`` runs propose/decide until the program verifies and
compiles, or the attempt or time budget runs out. The UI's repair stepper drives exactly
this API; ``neurojit repair`` calls ``auto()``.

Routing (mode "dual"): structural diagnostics try the symbolic tier first, then go
straight to the synthesis agent with a focused prompt (the program up to the error, the
diagnostic and the lines around it); a semantic failure goes through the reasoning
agent first, whose strategy the synthesis agent then writes. Mode "monolithic" is the
baseline: every attempt asks the reasoning model for a whole program, free-form, with no
grammar and no symbolic tier.
"""

from __future__ import annotations

import difflib
import json
import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..compiler import CompileError, Compiler
from ..compiler.diagnostics import Diagnostic
from ..compiler.syntax import VALUE_NAME, VALUE_NAME_PATTERN
from .symbolic import fix_its

SYMBOLIC, SYNTHESIS, REASONING, MONOLITHIC, USER = (
    "symbolic",
    "synthesis",
    "reasoning+synthesis",
    "monolithic",
    "user",
)
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
CONTEXT_LINES = 2  # lines either side of the error shown to the synthesis agent


@dataclass
class Attempt:
    number: int
    tier: str
    agent: str  # model identity, or "compiler" for the symbolic tier
    prompt: str
    output: str
    text: str  # the candidate program
    diff: str  # unified diff against the program it tried to repair
    diagnostics: list[Diagnostic]  # the candidate's
    explanation: str = ""
    tokens: int = 0
    seconds: float = 0.0
    decision: str = PENDING

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")

    @property
    def verifies(self) -> bool:
        return self.errors == 0

    def to_json(self) -> dict:
        return {**asdict(self), "diagnostics": [d.to_json() for d in self.diagnostics]}


def unified_diff(before: str, after: str, path: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"
        )
    )


def _identity(text: str, line: int, message: str) -> tuple[str, str]:
    rows = text.split("\n")
    row = rows[line - 1] if 0 < line <= len(rows) else ""
    return message, VALUE_NAME.sub("%", row).strip()


def _extract_program(text: str) -> str:
    """The first ``func.func ... }`` block of free-form model output."""
    start = text.find("func.func")
    if start < 0:
        return text
    end = text.rfind("}")
    return text[start : end + 1] + "\n" if end > start else text[start:]


class RepairSession:
    def __init__(
        self,
        text: str,
        path: str,
        synthesis=None,
        reasoning=None,
        mode: str = "dual",
        max_attempts: int = 6,
        time_budget_s: float = 300.0,
        compiler: Compiler | None = None,
        env=None,
        failure: str | None = None,
        on_token=None,
        slot=None,
        cancel: threading.Event | None = None,
    ):
        """``slot``: a ControllerSlot to hot-swap the repaired program into, the moment
        the session is repaired (the running simulation picks it up next step).
        ``cancel``: when set, the model stops generating and ``auto`` stops proposing."""
        self.path = path
        self.original = text
        self.text = text
        self.synthesis = synthesis
        self.reasoning = reasoning
        self.mode = mode
        self.max_attempts = max_attempts
        self.time_budget_s = time_budget_s
        self.compiler = compiler or Compiler()
        self.env = env
        self.runtime_failure = failure  # an assert violation or swarm failure, as text
        self.on_token = on_token
        self.slot = slot
        self.cancel = cancel
        self.attempts: list[Attempt] = []
        self.started = time.perf_counter()
        self.program = None  # the compiled program once repaired
        self.diagnostics = self._check(text)
        self._symbolic_tried: set[str] = set()
        self._finish_if_repaired()

    # -- state ---------------------------------------------------------------------------

    def _check(self, text: str) -> list[Diagnostic]:
        diagnostics = self.compiler.check(text, self.path, require_control=True)
        if diagnostics:
            return diagnostics
        try:
            self.compiler.lower(text, self.path, require_control=True)
        except CompileError as error:
            return error.diagnostics
        return []

    @property
    def status(self) -> str:
        if self.program is not None:
            return "repaired"
        if self.pending is None and (len(self.attempts) >= self.max_attempts or self.out_of_time):
            return "failed"
        return "in_progress"

    @property
    def out_of_time(self) -> bool:
        return time.perf_counter() - self.started > self.time_budget_s

    @property
    def pending(self) -> Attempt | None:
        if self.attempts and self.attempts[-1].decision == PENDING:
            return self.attempts[-1]
        return None

    @property
    def tiers(self) -> list[str]:
        return [a.tier for a in self.attempts]

    def _finish_if_repaired(self) -> None:
        if not self.diagnostics and self.runtime_failure is None:
            self.program = self.compiler.compile(self.text, self.path, require_control=True)
            if self.slot is not None and self.attempts:
                self.slot.swap(self.program, f"{self.path}#repair-{len(self.attempts)}")

    # -- stepping ------------------------------------------------------------------------

    def propose(self) -> Attempt:
        """Make the next attempt (it stays pending until accepted or rejected)."""
        if self.pending is not None:
            raise RuntimeError("decide the pending attempt first (accept or reject)")
        if self.status != "in_progress":
            raise RuntimeError(f"the session is {self.status}")
        if self.mode == "monolithic":
            return self._record(*self._monolithic())
        structural = bool(self.diagnostics)
        if structural and self.text not in self._symbolic_tried:
            self._symbolic_tried.add(self.text)
            found = self._symbolic()
            if found is not None:
                return self._record(*found)
        if structural:
            return self._record(*self._synthesis_focused())
        return self._record(*self._reasoning_then_synthesis())

    def accept(self) -> Attempt:
        attempt = self._decide(ACCEPTED)
        self.text = attempt.text
        self.diagnostics = list(attempt.diagnostics)
        if attempt.tier in (REASONING, MONOLITHIC, USER):
            self.runtime_failure = None  # a new program: its own failures are yet to be seen
        self._finish_if_repaired()
        return attempt

    def reject(self) -> Attempt:
        return self._decide(REJECTED)

    def edit_and_retry(self, text: str) -> Attempt:
        """The user's own edit, checked and recorded as an attempt (pending)."""
        if self.pending is not None:
            self.reject()
        start = time.perf_counter()
        return self._record(
            USER, "user", "", text, text, "edited by hand", 0, time.perf_counter() - start
        )

    def auto(self) -> str:
        """Propose and decide until repaired or out of budget; keeps an attempt only if it
        has fewer errors than the current program (or verifies)."""
        while self.status == "in_progress":
            if self.cancel is not None and self.cancel.is_set():
                break
            attempt = self.propose()
            self.accept() if self._is_progress(attempt) else self.reject()
        return self.status

    def _is_progress(self, attempt: Attempt) -> bool:
        """Verifies, or has fewer errors, or as many but none of the current ones (MLIR's
        parser stops at one error, so fixing it often reveals another). An error is the
        same if its message and its source line (value names aside) are."""
        if attempt.verifies:
            return True
        now = {
            _identity(self.text, d.line, d.message)
            for d in self.diagnostics
            if d.severity == "error"
        }
        if attempt.errors != len(now):
            return attempt.errors < len(now)
        then = {_identity(attempt.text, d.line, d.message) for d in attempt.diagnostics}
        return not now & then

    def _decide(self, decision: str) -> Attempt:
        attempt = self.pending
        if attempt is None:
            raise RuntimeError("no pending attempt")
        attempt.decision = decision
        return attempt

    def _record(self, tier, agent, prompt, output, text, explanation, tokens, seconds) -> Attempt:
        check_start = time.perf_counter()
        diagnostics = self._check(text)
        attempt = Attempt(
            len(self.attempts) + 1,
            tier,
            agent,
            prompt,
            output,
            text,
            unified_diff(self.text, text, self.path),
            list(diagnostics),
            explanation,
            tokens,
            seconds + time.perf_counter() - check_start,
        )
        self.attempts.append(attempt)
        return attempt

    # -- tiers ---------------------------------------------------------------------------

    def _tokens(self, role: str):
        """The token callback for one agent: ``on_token(role, piece)`` labels the stream."""
        if self.on_token is None:
            return None
        return lambda piece: self.on_token(role, piece)

    def _symbolic(self):
        start = time.perf_counter()
        best = None
        for diagnostic in self.diagnostics:
            for fix in fix_its(self.text, diagnostic):
                errors = sum(1 for d in self._check(fix.text) if d.severity == "error")
                if best is None or errors < best[0]:
                    best = (errors, fix)
            if best is not None:
                break  # fix the first diagnostic that has a fix-it
        if best is None:
            return None
        fix = best[1]
        return (
            SYMBOLIC,
            "compiler",
            "",
            fix.explanation,
            fix.text,
            fix.explanation,
            0,
            time.perf_counter() - start,
        )

    def _focus(self) -> tuple[list[str], str]:
        """Body lines before the first error (kept), and the prompt notes."""
        first = min(self.diagnostics, key=lambda d: (d.line or 10**9, d.col))
        lines = self.text.split("\n")
        header_at = next((i for i, row in enumerate(lines) if "func.func" in row), 0)
        keep: list[str] = []
        for row in lines[header_at + 1 : max(header_at + 1, first.line - 1)]:
            starts = re.match(rf"\s*({VALUE_NAME_PATTERN}\s*=|return\b|\"tensorlang\.)", row)
            if starts or not keep:
                keep.append(row.split("//")[0].rstrip())
            else:  # an op written over several lines
                keep[-1] += " " + row.split("//")[0].strip()
        around = lines[max(0, first.line - 1 - CONTEXT_LINES) : first.line + CONTEXT_LINES]
        notes = f"// Repair: {first.format()}\n// around it:\n" + "".join(
            f"//   {row}\n" for row in around
        )
        return keep, notes

    def _synthesis_focused(self):
        if self.synthesis is None:
            return (SYNTHESIS, "none", "", "", self.text, "no synthesis agent", 0, 0.0)
        keep, notes = self._focus()
        result = self.synthesis.write(
            None,
            keep_lines=keep,
            notes=notes,
            on_token=self._tokens("synthesis"),
            cancel=self.cancel,
        )
        return (
            SYNTHESIS,
            self.synthesis.backend.identity,
            result.prompt,
            result.output,
            result.text,
            "rewrote the program from the error on",
            result.completion_tokens,
            result.seconds,
        )

    def _reasoning_then_synthesis(self):
        if self.reasoning is None or self.synthesis is None:
            return (REASONING, "none", "", "", self.text, "no agents", 0, 0.0)
        from ..sim import Environment

        reasoning = self.reasoning.strategy(
            self.env or Environment(),
            failure=self.runtime_failure,
            on_token=self._tokens("reasoning"),
            cancel=self.cancel,
        )
        result = self.synthesis.write(
            reasoning.strategy, on_token=self._tokens("synthesis"), cancel=self.cancel
        )
        return (
            REASONING,
            f"{self.reasoning.backend.identity} -> {self.synthesis.backend.identity}",
            reasoning.prompt + "\n" + result.prompt,
            reasoning.output + "\n" + result.output,
            result.text,
            reasoning.strategy.describe()
            if reasoning.strategy
            else (reasoning.error or "no strategy"),
            reasoning.completion_tokens + result.completion_tokens,
            reasoning.seconds + result.seconds,
        )

    def _monolithic(self):
        if self.reasoning is None:
            return (MONOLITHIC, "none", "", "", self.text, "no reasoning agent", 0, 0.0)
        backend = self.reasoning.backend
        problems = "\n".join(d.format() for d in self.diagnostics) or self.runtime_failure or ""
        prompt = (
            "The following TensorLang (MLIR) lunar-lander controller has errors.\n"
            f"Errors:\n{problems}\nProgram:\n{self.text}\nThe corrected program:\n"
        )
        generation = backend.generate(
            prompt, max_tokens=700, on_token=self._tokens("reasoning"), cancel=self.cancel
        )
        return (
            MONOLITHIC,
            backend.identity,
            prompt,
            generation.text,
            _extract_program(generation.text),
            "rewrote the whole program",
            generation.completion_tokens,
            generation.seconds,
        )

    # -- log -----------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "mode": self.mode,
            "original": self.original,
            "status": self.status,
            "final": self.text,
            "seconds": time.perf_counter() - self.started,
            "attempts": [a.to_json() for a in self.attempts],
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2))


def replay(log: dict, compiler: Compiler | None = None) -> RepairSession:
    """Rebuild a session from its JSON log, re-checking every attempt with the compiler
    (so a replay shows today's diagnostics for the recorded candidates)."""
    session = RepairSession(
        log["original"],
        log["path"],
        mode=log["mode"],
        max_attempts=max(len(log["attempts"]), 1),
        compiler=compiler,
    )
    for recorded in log["attempts"]:
        attempt = session._record(
            recorded["tier"],
            recorded["agent"],
            recorded["prompt"],
            recorded["output"],
            recorded["text"],
            recorded["explanation"],
            recorded["tokens"],
            recorded["seconds"],
        )
        if recorded["decision"] == ACCEPTED:
            session.accept()
        elif recorded["decision"] == REJECTED:
            session.reject()
        del attempt
    return session
