"""A controller's text as structure: the lines of ``@control``, its return, its features.

Mutations edit TensorLang as text (the form the user reads and keeps), one op per line,
which is how the samples, the synthesis agent and every mutation write it. A program
in another form (ops across lines, a ``module`` wrapper) is still compiled and tuned;
it is only not a parent for the text-editing mutations (``ProgramShapeError``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from ..compiler import Compiler
from ..compiler import dialect as tl
from ..compiler.reference import ReferenceProgram
from ..compiler.syntax import FLAG_OBSERVATIONS, OBSERVATIONS, VALUE_NAME, VALUE_NAME_PATTERN

OBS_TYPE = f"tensor<{tl.CONTROL_OBS_SIZE}xf64>"
MEM_TYPE = f"tensor<{tl.CONTROL_MEM_SIZE}xf64>"
ACTION_TYPE = f"tensor<{tl.CONTROL_ACTION_SIZE}xf64>"
LEG_OBSERVATIONS = FLAG_OBSERVATIONS  # obs indices of the leg-contact flags

_HEADER = re.compile(
    r"func\.func\s+@"
    + tl.CONTROL_ENTRY
    + rf"\s*\(\s*({VALUE_NAME_PATTERN})\s*:\s*"
    + re.escape(OBS_TYPE)
    + rf"\s*,\s*({VALUE_NAME_PATTERN})\s*:\s*"
    + re.escape(MEM_TYPE)
)
_RETURN = re.compile(
    rf"^\s*(?:func\.)?return\s+({VALUE_NAME_PATTERN})\s*,\s*({VALUE_NAME_PATTERN})\s*:"
)
_DEFINES = re.compile(rf"^\s*({VALUE_NAME_PATTERN})\s*=")
VALUE = VALUE_NAME


class ProgramShapeError(ValueError):
    """The text is not in the one-op-per-line form the mutations edit."""


@dataclass
class ControlProgram:
    """``@control`` split into the lines before its body, the body, its return and the
    lines after; ``obs``/``mem`` are the names of its two arguments."""

    before: list[str]  # comments and the func.func line
    body: list[str]  # op lines and comments between the header and the return
    action: str  # the returned action value
    mem_out: str  # the returned state value
    after: list[str]  # the closing brace and anything below it
    obs: str
    mem: str

    @classmethod
    def parse(cls, text: str) -> ControlProgram:
        lines = text.splitlines()
        header = next((i for i, line in enumerate(lines) if _HEADER.search(line)), None)
        if header is None or not lines[header].rstrip().endswith("{"):
            raise ProgramShapeError("no `func.func @control(...) -> (...) {` line")
        returns = [i for i in range(header + 1, len(lines)) if _RETURN.match(lines[i])]
        if len(returns) != 1:
            raise ProgramShapeError("@control needs exactly one `return %action, %mem : ...` line")
        obs, mem = _HEADER.search(lines[header]).groups()
        action, mem_out = _RETURN.match(lines[returns[0]]).groups()
        return cls(
            lines[: header + 1],
            lines[header + 1 : returns[0]],
            action,
            mem_out,
            lines[returns[0] + 1 :],
            obs,
            mem,
        )

    def text(self) -> str:
        ret = f"  return {self.action}, {self.mem_out} : {ACTION_TYPE}, {MEM_TYPE}"
        return "\n".join(self.before + self.body + [ret] + self.after) + "\n"

    def code_lines(self) -> list[str]:
        return [line for line in self.body if line.split("//")[0].strip()]

    def defined(self) -> list[str]:
        return [m.group(1) for line in self.body if (m := _DEFINES.match(line))]

    def fresh_prefix(self, tag: str) -> str:
        """A value-name prefix no line uses yet: ``%<tag><n>_``."""
        used = set(VALUE.findall("\n".join(self.body)))
        n = 1
        while any(name.startswith(f"%{tag}{n}_") for name in used):
            n += 1
        return f"%{tag}{n}_"

    def prune(self) -> None:
        """Drop the op lines whose value nothing uses any more (an edit removed the
        last user), until none is left."""
        while True:
            used = {self.action, self.mem_out}
            for line in self.body:
                code = line.split("//")[0]
                used.update(VALUE.findall(code.split("=", 1)[1] if _DEFINES.match(code) else code))
            dead = [
                i
                for i, line in enumerate(self.body)
                if (m := _DEFINES.match(line)) and m.group(1) not in used
            ]
            if not dead:
                return
            self.body = [line for i, line in enumerate(self.body) if i not in set(dead)]

    def rename(self, mapping: dict[str, str]) -> None:
        """Rename values in the body and the return (whole names only)."""

        def swap(match):
            return mapping.get(match.group(0), match.group(0))

        self.body = [VALUE.sub(swap, line) for line in self.body]
        self.action = mapping.get(self.action, self.action)
        self.mem_out = mapping.get(self.mem_out, self.mem_out)


@dataclass(frozen=True)
class Features:
    """What a structure looks like, for the archive's diversity cells."""

    observations: tuple[int, ...]  # which obs elements it reads
    uses_mem: bool  # whether it reads its state
    ops: int  # op lines in the body

    @property
    def cell(self) -> tuple:
        size = 0 if self.ops <= 12 else 1 if self.ops <= 30 else 2 if self.ops <= 60 else 3
        return (self.observations, self.uses_mem, size)

    def describe(self) -> str:
        return (
            f"reads {','.join(OBSERVATIONS[i].name for i in self.observations) or 'nothing'}; "
            f"{'uses' if self.uses_mem else 'no'} state; {self.ops} ops"
        )


_EXTRACT = re.compile(
    rf'"tensorlang\.extract"\(({VALUE_NAME_PATTERN})\)\s*\{{index = array<i64:\s*(\d+)>'
)
_SLICE = re.compile(
    rf'"tensorlang\.slice"\(({VALUE_NAME_PATTERN})\)\s*\{{offsets = array<i64:\s*(\d+)>,'
    r"\s*sizes = array<i64:\s*(\d+)>"
)


def read_slots(lines: list[str], value: str, size: int) -> set[int]:
    """Which elements of the rank-1 ``value`` the lines read; any use other than
    extract/slice (a matvec, an add) reads all of them. A use in the return is not a read."""
    slots: set[int] = set()
    for line in lines:
        code = line.split("//")[0]
        if _RETURN.match(code) or value not in VALUE.findall(code):
            continue
        uses = VALUE.findall(code.split("=", 1)[-1]).count(value)
        known = 0
        for m in _EXTRACT.finditer(code):
            if m.group(1) == value:
                slots.add(int(m.group(2)))
                known += 1
        for m in _SLICE.finditer(code):
            if m.group(1) == value:
                slots.update(range(int(m.group(2)), int(m.group(2)) + int(m.group(3))))
                known += 1
        if uses > known:
            slots.update(range(size))
    return slots


def state_slots_in_use(program: ControlProgram, samples: int = 64, seed: int = 0) -> set[int]:
    """The ``mem`` slots whose value can change what ``program`` does: a slot is in use
    when, with only that slot's value changed, the action or any *other* slot of the next
    state changes. A slot the text never reads (``read_slots``) is free; of the slots it
    does read, each is flown by the numpy reference on random observations and states
    with and without that change. So a slot that is only copied through to itself (the
    PID sample's untouched ``mem[2:4]``, sliced and concatenated back) is free: a new
    state may be kept there without changing how the program flies. A state whose only
    use is still multiplied by a gain of exactly 0 (as a mutation adds it) is free too.

    A program the compiler rejects, or one whose asserts fail on the samples, keeps every
    slot it reads."""
    read = read_slots(program.code_lines(), program.mem, tl.CONTROL_MEM_SIZE)
    if not read:
        return read
    return set(_slots_that_matter(program.text(), frozenset(read), samples, seed))


# A search asks this of the same parents again and again (every state mutation and
# crossover): each answer costs a parse and a few reference flights.
@functools.lru_cache(maxsize=256)
def _slots_that_matter(text: str, read: frozenset[int], samples: int, seed: int) -> frozenset[int]:
    """Of the slots ``text`` reads, those ``state_slots_in_use`` says are in use."""
    module, _ = Compiler().parse(text, "<parent>", require_control=True)
    if module is None:
        return read
    reference = ReferenceProgram(module, "<parent>")
    rng = np.random.default_rng(seed)
    obs = rng.normal(scale=2.0, size=(samples, tl.CONTROL_OBS_SIZE))
    legs = list(LEG_OBSERVATIONS)
    obs[:, legs] = rng.integers(0, 2, size=(samples, len(legs)))
    mem = rng.normal(scale=2.0, size=(samples, tl.CONTROL_MEM_SIZE))
    (action, mem_out), failure = reference.call(tl.CONTROL_ENTRY, obs, mem)
    if failure is not None:
        return read
    in_use = set()
    for slot in sorted(read):
        changed = mem.copy()
        changed[:, slot] = rng.normal(scale=2.0, size=samples)
        (action_after, mem_after), failure = reference.call(tl.CONTROL_ENTRY, obs, changed)
        others = [j for j in range(tl.CONTROL_MEM_SIZE) if j != slot]
        if (
            failure is not None
            or not np.array_equal(action_after, action, equal_nan=True)
            or not np.array_equal(mem_after[:, others], mem_out[:, others], equal_nan=True)
        ):
            in_use.add(slot)
    return frozenset(in_use)


def features(text: str) -> Features:
    try:
        program = ControlProgram.parse(text)
    except ProgramShapeError:
        return Features(tuple(range(tl.CONTROL_OBS_SIZE)), True, 0)
    code = program.code_lines()
    return Features(
        tuple(sorted(read_slots(code, program.obs, tl.CONTROL_OBS_SIZE))),
        bool(read_slots(code, program.mem, tl.CONTROL_MEM_SIZE)),
        len(code),
    )
