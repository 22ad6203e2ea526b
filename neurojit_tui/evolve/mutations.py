"""Symbolic mutation operators: small, typed edits of a controller's structure.

Each operator is one class with a ``name`` and ``apply(parent, rng, other=None)``, which
returns the child's text and a one-line description, or raises ``NotApplicable``.
New numbers enter as the identity (a gain of 0, a gate of 1), so a child starts out
flying exactly like its parent and the tuner moves from there: a structure is only
worse than its parent if no tuning of it is better.

Every edit writes well-typed TensorLang; the compiler still checks each child, and a
child that does not compile is recorded with its diagnostics like any other failure.
"""

from __future__ import annotations

from ..compiler import dialect as tl
from ..compiler.syntax import OBSERVATIONS, arith_constant_line, arith_line, op_line
from .program import (
    _DEFINES,
    ACTION_TYPE,
    LEG_OBSERVATIONS,
    MEM_TYPE,
    VALUE,
    ControlProgram,
    ProgramShapeError,
    state_slots_in_use,
)

OBSERVATION_NAMES = tuple(o.words for o in OBSERVATIONS)
CHANNELS = ("main engine", "lateral engine")
SCALAR_TYPE = "tensor<1xf64>"


class NotApplicable(Exception):
    """The operator cannot edit this parent (the reason is the message)."""


def _op(
    name: str,
    op: str,
    operands: list[str],
    operand_types: list[str],
    result_type: str,
    **attributes: str,
) -> str:
    """An op line of the body (``syntax.op_line``, indented)."""
    return "  " + op_line(name, op, operands, operand_types, result_type, attributes)


def _arith(name: str, op: str, a: str, b: str) -> str:
    return "  " + arith_line(name, op, (a, b), "f64")


def _scalar(name: str, literal: str) -> str:
    return "  " + arith_constant_line(name, literal, "f64")


def _extract(name: str, source: str, index: int, size: int) -> str:
    return _op(
        name, "extract", [source], [f"tensor<{size}xf64>"], "f64", index=f"array<i64: {index}>"
    )


def _broadcast(name: str, scalar: str, size: int) -> str:
    return _op(name, "broadcast", [scalar], ["f64"], f"tensor<{size}xf64>")


def _constant(name: str, values: list[float], type_: str | None = None) -> str:
    """A dense constant; one value is a splat (of ``type_``, default one element)."""
    type_ = type_ or f"tensor<{len(values)}xf64>"
    literal = (
        ("[" + ", ".join(f"{v:.1f}" for v in values) + "]")
        if len(values) > 1
        else f"{values[0]:.1f}"
    )
    return _op(name, "constant", [], [], type_, value=f"dense<{literal}> : {type_}")


def _binary(name: str, op: str, a: str, b: str, type_: str = ACTION_TYPE) -> str:
    return _op(name, op, [a, b], [type_, type_], type_)


def _clamp(name: str, x: str, type_: str, bound: float) -> str:
    """``name`` = ``x`` clamped to [-bound, bound]."""
    return _op(name, "clamp", [x], [type_], type_, lo=f"{-bound} : f64", hi=f"{bound} : f64")


def add_to_channel(program: ControlProgram, prefix: str, term: str, channel: int) -> list[str]:
    """Lines that add the f64 ``term`` to action channel ``channel`` and re-clamp the
    action to [-1, 1]; the program's action becomes the result."""
    other = f"{prefix}zero"
    parts = [f"{prefix}t", other] if channel == 0 else [other, f"{prefix}t"]
    lines = [
        _broadcast(f"{prefix}t", term, 1),
        _constant(other, [0.0]),
        _op(f"{prefix}d", "concat", parts, [SCALAR_TYPE, SCALAR_TYPE], ACTION_TYPE),
        _binary(f"{prefix}sum", "add", program.action, f"{prefix}d"),
        _clamp(f"{prefix}act", f"{prefix}sum", ACTION_TYPE, 1.0),
    ]
    program.action = f"{prefix}act"
    return lines


def merge_state(prefix: str, slots: set[int], new: str, old: str) -> list[str]:
    """Lines defining ``<prefix>mem``: the state ``new`` at ``slots`` and ``old`` at
    every other slot."""
    mask = [1.0 if i in slots else 0.0 for i in range(tl.CONTROL_MEM_SIZE)]
    bools = f"tensor<{tl.CONTROL_MEM_SIZE}xi1>"
    return [
        _constant(f"{prefix}hot", mask),
        _constant(f"{prefix}half", [0.5], MEM_TYPE),
        _op(
            f"{prefix}is",
            "cmp",
            [f"{prefix}hot", f"{prefix}half"],
            [MEM_TYPE, MEM_TYPE],
            bools,
            predicate='"gt"',
        ),
        _op(
            f"{prefix}mem",
            "select",
            [f"{prefix}is", new, old],
            [bools, MEM_TYPE, MEM_TYPE],
            MEM_TYPE,
        ),
    ]


class AddObservationTerm:
    """action[channel] += gain * obs[k], gain starting at 0."""

    name = "add-term"

    def apply(
        self,
        parent: str,
        rng,
        other: str | None = None,
        observation: int | None = None,
        channel: int | None = None,
    ) -> tuple[str, str]:
        """``observation`` and ``channel`` (0 main, 1 lateral) are drawn unless given."""
        program = ControlProgram.parse(parent)
        k = int(rng.integers(tl.CONTROL_OBS_SIZE)) if observation is None else observation
        channel = int(rng.integers(2)) if channel is None else channel
        p = program.fresh_prefix("a")
        program.body += [
            _extract(f"{p}o", program.obs, k, tl.CONTROL_OBS_SIZE),
            _scalar(f"{p}g", "0.0"),
            _arith(f"{p}term", "arith.mulf", f"{p}g", f"{p}o"),
        ] + add_to_channel(program, p, f"{p}term", channel)
        return program.text(), f"add a term on {OBSERVATION_NAMES[k]} to the {CHANNELS[channel]}"


class DropTerm:
    """Replace one ``a + b`` or ``a - b`` by ``a``: drop a term of a sum."""

    name = "drop-term"

    def apply(self, parent: str, rng, other: str | None = None) -> tuple[str, str]:
        program = ControlProgram.parse(parent)
        sums = []
        for i, line in enumerate(program.body):
            code = line.split("//")[0]
            for op in ("arith.addf ", "arith.subf ", '"tensorlang.add"(', '"tensorlang.sub"('):
                if op in code and _DEFINES.match(code):
                    sums.append(i)
        if not sums:
            raise NotApplicable("no sum to drop a term from")
        i = sums[int(rng.integers(len(sums)))]
        line = program.body[i]
        result = _DEFINES.match(line).group(1)
        kept = VALUE.findall(line.split("=", 1)[1])[0]
        del program.body[i]
        program.rename({result: kept})
        program.prune()
        return program.text(), f"drop the second term of {result} (keep {kept})"


class AddState:
    """A new controller state in a free ``mem`` slot: the integral of an observation
    (``s += dt * obs[k]``, bounded) or a low-pass filter of it (``s = a*s + (1-a)*obs[k]``),
    fed to an action channel with a gain starting at 0."""

    def __init__(self, kind: str):
        self.kind = kind  # "integral" or "filter"
        self.name = f"add-{kind}"

    def apply(
        self,
        parent: str,
        rng,
        other: str | None = None,
        observation: int | None = None,
        channel: int | None = None,
    ) -> tuple[str, str]:
        """``observation`` and ``channel`` (0 main, 1 lateral) are drawn unless given."""
        if observation is not None and observation >= LEG_OBSERVATIONS[0]:
            raise NotApplicable(f"{OBSERVATION_NAMES[observation]} is a 0/1 flag, not a signal")
        program = ControlProgram.parse(parent)
        used = state_slots_in_use(program)
        free = [s for s in range(tl.CONTROL_MEM_SIZE) if s not in used]
        if not free:
            raise NotApplicable("every mem slot is in use")
        slot = free[int(rng.integers(len(free)))]
        # the legs are 0/1 flags: nothing to integrate or filter
        k = int(rng.integers(LEG_OBSERVATIONS[0])) if observation is None else observation
        channel = int(rng.integers(2)) if channel is None else channel
        p = program.fresh_prefix("s")
        lines = [
            _extract(f"{p}o", program.obs, k, tl.CONTROL_OBS_SIZE),
            _extract(f"{p}m", program.mem, slot, tl.CONTROL_MEM_SIZE),
        ]
        if self.kind == "integral":
            lines += [
                _scalar(f"{p}dt", "0.02"),
                _arith(f"{p}step", "arith.mulf", f"{p}dt", f"{p}o"),
                _arith(f"{p}raw", "arith.addf", f"{p}m", f"{p}step"),
                _broadcast(f"{p}rt", f"{p}raw", 1),
                _clamp(f"{p}bt", f"{p}rt", SCALAR_TYPE, 5.0),
                _extract(f"{p}s", f"{p}bt", 0, 1),
            ]
        else:
            lines += [
                _scalar(f"{p}a", "0.9"),
                _arith(f"{p}keep", "arith.mulf", f"{p}a", f"{p}m"),
                _arith(f"{p}ao", "arith.mulf", f"{p}a", f"{p}o"),
                _arith(f"{p}new", "arith.subf", f"{p}o", f"{p}ao"),
                _arith(f"{p}s", "arith.addf", f"{p}keep", f"{p}new"),
            ]
        lines += [_broadcast(f"{p}sv", f"{p}s", tl.CONTROL_MEM_SIZE)]
        lines += merge_state(p, {slot}, f"{p}sv", program.mem_out)
        lines += [
            _scalar(f"{p}g", "0.0"),
            _arith(f"{p}term", "arith.mulf", f"{p}g", f"{p}s"),
        ]
        program.mem_out = f"{p}mem"
        program.body += lines + add_to_channel(program, p, f"{p}term", channel)
        what = "integral" if self.kind == "integral" else "low-pass filter"
        return (
            program.text(),
            f"add the {what} of {OBSERVATION_NAMES[k]} as state mem[{slot}], "
            f"fed to the {CHANNELS[channel]}",
        )


class LimitOutput:
    """Bounds on each engine's command, tunable per engine: ``min(max(action, lo), hi)``
    with lo = [-1, -1] and hi = [1, 1] to start, the engines' own range (the lander clips
    commands to it), so the child first flies like its parent. Lets the search cap an
    engine: a gentler lateral thruster, a main engine that never cuts out entirely."""

    name = "limit-output"

    def apply(self, parent: str, rng, other: str | None = None) -> tuple[str, str]:
        program = ControlProgram.parse(parent)
        p = program.fresh_prefix("l")
        program.body += [
            _constant(f"{p}lo", [-1.0, -1.0]),
            _constant(f"{p}hi", [1.0, 1.0]),
            _binary(f"{p}floor", "max", program.action, f"{p}lo"),
            _binary(f"{p}act", "min", f"{p}floor", f"{p}hi"),
        ]
        program.action = f"{p}act"
        return program.text(), "limit each engine's command to tunable bounds"


class GateOnContact:
    """Once a leg touches, scale the action by tunable gains (starting at 1, the
    identity): lets the search learn to cut the engines on touchdown."""

    name = "gate-on-contact"

    def apply(self, parent: str, rng, other: str | None = None) -> tuple[str, str]:
        program = ControlProgram.parse(parent)
        p = program.fresh_prefix("g")
        program.body += [
            _op(
                f"{p}legs",
                "slice",
                [program.obs],
                [f"tensor<{tl.CONTROL_OBS_SIZE}xf64>"],
                ACTION_TYPE,
                offsets=f"array<i64: {LEG_OBSERVATIONS[0]}>",
                sizes=f"array<i64: {len(LEG_OBSERVATIONS)}>",
            ),
            _op(f"{p}c", "sum", [f"{p}legs"], [ACTION_TYPE], "f64"),
            _broadcast(f"{p}ct", f"{p}c", 2),
            _constant(f"{p}th", [0.5], ACTION_TYPE),
            _constant(f"{p}gain", [1.0, 1.0]),
            _binary(f"{p}scaled", "mul", program.action, f"{p}gain"),
            _op(
                f"{p}on",
                "cmp",
                [f"{p}ct", f"{p}th"],
                [ACTION_TYPE, ACTION_TYPE],
                "tensor<2xi1>",
                predicate='"gt"',
            ),
            _op(
                f"{p}act",
                "select",
                [f"{p}on", f"{p}scaled", program.action],
                ["tensor<2xi1>", ACTION_TYPE, ACTION_TYPE],
                ACTION_TYPE,
            ),
        ]
        program.action = f"{p}act"
        return program.text(), "gate the action on leg contact (tunable gains after touchdown)"


class Crossover:
    """Both parents' bodies side by side, their actions blended per channel with
    tunable weights that start at (parent 1, parent 2) = ([1, 0], [0, 1]) for a
    channel-wise crossover (the main engine from one, the lateral from the other).
    Parents that both keep state do so in their own ``mem`` slots, which must not
    overlap (``state_slots_in_use``); the child keeps each parent's state in its slots."""

    name = "crossover"

    def apply(self, parent: str, rng, other: str | None = None) -> tuple[str, str]:
        if other is None:
            raise NotApplicable("crossover needs a second parent")
        first, second = ControlProgram.parse(parent), ControlProgram.parse(other)
        first_mem, second_mem = state_slots_in_use(first), state_slots_in_use(second)
        if first_mem & second_mem:
            raise NotApplicable(
                f"both parents keep state in mem slots {sorted(first_mem & second_mem)}"
            )
        p = first.fresh_prefix("x")
        mapping = {name: f"{p}p_{name[1:]}" for name in second.defined()}
        mapping.update({second.obs: first.obs, second.mem: first.mem})
        second.rename(mapping)
        swap = bool(rng.integers(2))
        w1, w2 = ([0.0, 1.0], [1.0, 0.0]) if swap else ([1.0, 0.0], [0.0, 1.0])
        first.body += [line for line in second.body if line.split("//")[0].strip()] + [
            _constant(f"{p}w1", w1),
            _constant(f"{p}w2", w2),
            _binary(f"{p}b1", "mul", first.action, f"{p}w1"),
            _binary(f"{p}b2", "mul", second.action, f"{p}w2"),
            _binary(f"{p}act", "add", f"{p}b1", f"{p}b2"),
        ]
        first.action = f"{p}act"
        if second_mem and first_mem:
            first.body += merge_state(p, second_mem, second.mem_out, first.mem_out)
            first.mem_out = f"{p}mem"
        elif second_mem:
            first.mem_out = second.mem_out
        channel = "lateral" if swap else "main"
        return (
            first.text(),
            f"crossover: the {channel} engine from the first parent, the other from the second",
        )


SYMBOLIC_OPERATORS = (
    AddObservationTerm(),
    DropTerm(),
    AddState("integral"),
    AddState("filter"),
    GateOnContact(),
    LimitOutput(),
    Crossover(),
)


def mutate(operator, parent: str, rng, other: str | None = None) -> tuple[str, str]:
    """Apply ``operator``; a parent the text edits cannot read is NotApplicable."""
    try:
        return operator.apply(parent, rng, other)
    except ProgramShapeError as error:
        raise NotApplicable(str(error)) from None
