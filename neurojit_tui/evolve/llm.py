"""The LLM mutation: the reasoning agent proposes a change; a symbolic edit or the
synthesis agent makes it.

1. The reasoning agent sees the conditions, what the parent reads and how it fails on
   the training landers (landed, crashed, out of bounds, still flying, scores) and
   answers with one structural change as JSON under a grammar: what to change, on which
   observation, for which engine, and why.
2. In the "guide" mode (the default) the change is made by its symbolic operator (a
   term, an integral or filtered state, a gate on leg contact, bounds on the engines;
   a re-tune for "change the gain"), on the proposed observation and engine: the model
   chooses, the operator writes well-typed code, and the child starts out flying like
   its parent. The model's cost is the proposal's few dozen tokens.
3. In the "write" mode the synthesis agent keeps the parent's body and writes a few
   new lines after it, under the line grammar (every line parses and type-checks by
   construction), then the return, and the repair loop fixes what the program as a
   whole gets wrong.

The child then goes through the same tuning and competition as a symbolic one; what the
models add is measured by ``neurojit bench evolve`` against symbolic-only runs. Any
GGUF given with --reasoning-model / --synthesis-model plugs in here unchanged.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import numpy as np

from ..agents.reasoning import environment_prompt
from ..agents.repair import RepairSession
from .mutations import (
    CHANNELS,
    OBSERVATION_NAMES,
    AddObservationTerm,
    AddState,
    GateOnContact,
    LimitOutput,
    NotApplicable,
)
from .program import ControlProgram, ProgramShapeError, features

if TYPE_CHECKING:
    from ..sim.report import Outcomes

CHANGES = (
    "add a term",
    "add an integral state",
    "add a filtered state",
    "gate on leg contact",
    "change the gain",
    "limit the output",
)

PROPOSAL_GRAMMAR = (
    r"""
root ::= "{\"change\": \"" change "\", \"observation\": \"" observation "\", \"engine\": \"" engine "\", \"rationale\": \"" text "\"}"
change ::= """
    + " | ".join(f'"{c}"' for c in CHANGES)
    + r"""
observation ::= """
    + " | ".join(f'"{o}"' for o in OBSERVATION_NAMES)
    + r"""
engine ::= "main" | "lateral"
text ::= [a-zA-Z0-9 ,.;:()/+=-]{1,80}
"""
)

NEW_LINES = 6

LLM_MODES = ("guide", "write")
# The symbolic operator that makes each proposed change in the "guide" mode ("change
# the gain" is a re-tune of the parent as it is).
GUIDED_EDITS = {
    "add a term": AddObservationTerm(),
    "add an integral state": AddState("integral"),
    "add a filtered state": AddState("filter"),
    "gate on leg contact": GateOnContact(),
    "limit the output": LimitOutput(),
}
RETUNE_CHANGE = "change the gain"


FAILURE_LANDERS = 48  # flown with the numpy reference for the failure table


def parent_failures(parent_text: str, env, seed: int):
    """The parent's ``sim.failures.FailureTable`` (crash kind by condition bin, the
    worst lander's flight) on a few reference landers; None if it cannot fly."""
    from ..compiler import Compiler
    from ..compiler.reference import ReferenceProgram
    from ..sim.failures import fly_failures, reference_controller

    module, _ = Compiler().parse(parent_text, "<parent>", require_control=True)
    if module is None:
        return None
    control = reference_controller(ReferenceProgram(module, "<parent>"))
    return fly_failures(control, env, seed, FAILURE_LANDERS)


def failure_table_text(parent_text: str, env, seed: int) -> str:
    """The parent's failure table in a few lines for the model ("" if it cannot fly)."""
    from ..sim.failures import format_failure_table

    table = parent_failures(parent_text, env, seed)
    return format_failure_table(table) if table is not None else ""


def failure_shares(table) -> dict[str, float]:
    """Each failure kind's share of the landers flown (an edit memory's situation)."""
    return {kind: table.total(kind) / max(1, table.agents) for kind in table.counts}


def failure_summary(train: Outcomes) -> str:
    """How the parent fares on the training landers, in words for the reasoning agent."""
    mean = train.mean_score if math.isfinite(train.mean_score) else 0.0
    worst = train.cvar10_score if math.isfinite(train.cvar10_score) else 0.0
    return (
        f"On {max(1, train.agents)} landers it lands {train.landed}, crashes "
        f"{train.crashed}, leaves the screen {train.out_of_bounds} and "
        f"is still flying at the time limit {train.timed_out}; mean score "
        f"{mean:.0f}, worst-10% score {worst:.0f}."
    )


class LLMMutation:
    name = "llm"

    def __init__(
        self,
        agents,
        on_token=None,
        repair_attempts: int = 2,
        mode: str = "guide",
        failure_table: bool = True,
        memory=None,
    ):
        """``failure_table``: show the model the parent's crash kinds by condition and
        its worst lander's flight, and ask for a change that targets them. ``memory``
        (``memory.edits.EditMemory``): edits that helped in similar situations become
        examples in the prompt, and ``feedback`` records the ones that help now."""
        if mode not in LLM_MODES:
            raise ValueError(f"LLM mutation mode {mode!r}: choose one of {', '.join(LLM_MODES)}")
        self.agents = agents
        self.failure_table = failure_table
        self.memory = memory
        self._situation = (None, None)  # the last proposal's, for ``feedback``
        self.on_token = on_token
        self.repair_attempts = repair_attempts
        self.mode = mode
        self.last: dict = {}  # the last proposal's record, for the result's log

    def feedback(self, parent, child) -> None:
        """The search's word on the last proposal's child (None: it did not fly). An
        edit that made the child fitter than its parent goes into the edit memory."""
        situation, proposal = self._situation
        self._situation = (None, None)
        if self.memory is None or situation is None or child is None:
            return
        if not child.fitness > parent.fitness:
            return
        from dataclasses import replace

        self.memory.add(
            replace(
                situation,
                change=proposal["change"],
                observation=proposal["observation"],
                engine=proposal["engine"],
                fitness_after=child.fitness,
            )
        )

    def _stream(self, role: str):
        return None if self.on_token is None else (lambda piece: self.on_token(role, piece))

    def propose(self, parent, env, seed: int, cancel=None) -> tuple[str, str]:
        try:
            return self._propose(parent, env, seed, cancel)
        except ProgramShapeError as error:
            raise NotApplicable(str(error)) from None
        except ValueError as error:  # llama.cpp: the prompt does not fit the model's context
            raise NotApplicable(f"the model could not take the prompt: {error}") from None

    def _propose(self, parent, env, seed: int, cancel=None) -> tuple[str, str]:
        program = ControlProgram.parse(parent.text)
        known = [
            f"The current controller: {features(parent.text).describe()}. "
            + failure_summary(parent.train)
        ]
        situation = None
        if self.failure_table or self.memory is not None:
            from ..memory.edits import EditRecord
            from ..sim.failures import format_failure_table

            table = parent_failures(parent.text, env, seed % 2**31)
            if table is not None:
                situation = EditRecord(
                    env.gravity,
                    env.turbulence,
                    failure_shares(table),
                    features(parent.text).describe(),
                    "",
                    "",
                    "",
                    parent.fitness,
                    parent.fitness,
                )
                if self.failure_table:
                    known.append(
                        "How it fails:\n"
                        + format_failure_table(table)
                        + "\nPropose a change for that failure."
                    )
                examples = self.memory.similar(situation) if self.memory is not None else []
                if examples:
                    known.append(
                        "Changes that helped before: "
                        + "; ".join(example.describe() for example in examples)
                        + "."
                    )
        reasoning = self.agents.reasoning.backend.generate(
            environment_prompt(env, known).replace(
                "Answer with a strategy as JSON: controller family, gains and a short rationale.",
                "Propose one change to the controller's structure as JSON.",
            ),
            grammar=PROPOSAL_GRAMMAR,
            max_tokens=120,
            on_token=self._stream("reasoning"),
            cancel=cancel,
            seed=seed,
        )
        if reasoning.cancelled:
            raise NotApplicable("cancelled")
        try:
            proposal = json.loads(reasoning.text)
        except ValueError:
            raise NotApplicable(
                f"the reasoning agent's answer is not a proposal: {reasoning.text[:80]!r}"
            ) from None
        change = (
            f"{proposal['change']} on {proposal['observation']} for the "
            f"{proposal['engine']} engine ({proposal['rationale']})"
        )
        self._situation = situation, proposal
        if self.mode == "guide" and (
            proposal["change"] in GUIDED_EDITS or proposal["change"] == RETUNE_CHANGE
        ):
            self.last = {"proposal": proposal, "edit": "symbolic"}
            return guided_edit(proposal, parent.text, seed), f"LLM: {change}"
        program.rename({program.obs: "%obs", program.mem: "%mem"})
        kept = [line.split("//")[0].rstrip() for line in program.code_lines()]
        written = self.agents.synthesis.write(
            keep_lines=kept,
            notes=f"// Change: {change}\n",
            on_token=self._stream("synthesis"),
            cancel=cancel,
            seed=seed,
            max_new_lines=NEW_LINES,
            with_example=False,
        )
        if written.cancelled:
            raise NotApplicable("cancelled")
        session = RepairSession(
            written.text,
            "llm-child.mlir",
            self.agents.synthesis,
            self.agents.reasoning,
            max_attempts=self.repair_attempts,
            cancel=cancel,
            on_token=self.on_token,
        )
        if session.status != "repaired":
            session.auto()
        self.last = {"proposal": proposal, "repair": session.status, "tiers": session.tiers}
        return session.text, f"LLM: {change}" + (
            "" if session.status == "repaired" else " (repair failed)"
        )


class RandomGuide:
    """The guide mode's control arm: a proposal drawn uniformly from the same grammar
    (change, observation, engine) and made by the same symbolic operators, with no
    model. What the LLM arm gains over this is what the model's choice is worth."""

    name = "random"

    def __init__(self):
        self.last: dict = {}

    def propose(self, parent, env, seed: int, cancel=None) -> tuple[str, str]:
        rng = np.random.default_rng(seed)
        proposal = {
            "change": CHANGES[int(rng.integers(len(CHANGES)))],
            "observation": OBSERVATION_NAMES[int(rng.integers(len(OBSERVATION_NAMES)))],
            "engine": ("main", "lateral")[int(rng.integers(2))],
        }
        self.last = {"proposal": proposal, "edit": "symbolic"}
        try:
            text = guided_edit(proposal, parent.text, seed)
        except ProgramShapeError as error:
            raise NotApplicable(str(error)) from None
        return text, (
            f"random: {proposal['change']} on {proposal['observation']} for the "
            f"{proposal['engine']} engine"
        )


def guided_edit(proposal: dict, parent: str, seed: int) -> str:
    """The child that ``proposal``'s change makes of ``parent`` through its symbolic
    operator, on the proposed observation and engine (NotApplicable if it cannot)."""
    change = proposal["change"]
    if change == RETUNE_CHANGE:
        return parent  # the search tunes the child's numbers from the parent's
    operator = GUIDED_EDITS[change]
    rng = np.random.default_rng(seed)  # what the proposal leaves open (a state's slot)
    if isinstance(operator, GateOnContact | LimitOutput):  # on the action as a whole
        text, _ = operator.apply(parent, rng)
    else:
        text, _ = operator.apply(
            parent,
            rng,
            observation=OBSERVATION_NAMES.index(proposal["observation"]),
            channel=0 if proposal["engine"] == "main" else 1,
        )
    return text


__all__ = [
    "CHANGES",
    "CHANNELS",
    "LLM_MODES",
    "LLMMutation",
    "PROPOSAL_GRAMMAR",
    "RandomGuide",
    "failure_summary",
    "failure_table_text",
    "guided_edit",
]
