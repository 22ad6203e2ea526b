"""reasoning -> synthesis -> (repair) -> compile -> swarm, for K candidates; keep the best.

This is what ``neurojit synthesize`` runs and what the workstation's synthesize action
runs in the engine process. Every candidate is written to ``out_dir`` (the user keeps
what the models wrote, good or bad) and scored by the native swarm under the same
seed, so the ranking compares like with like.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..compiler import Compiler
from ..memory import cache_key, lookup_keys
from ..memory.admission import not_worse_than_samples, remember_if_better
from ..sim import Environment, SwarmReport, evaluate, rank
from .reasoning import Strategy
from .repair import RepairSession


@dataclass
class Candidate:
    path: str
    strategy: dict | None
    repair_status: str  # "verified" (as written), "repaired", "failed"
    repair_tiers: list
    report: SwarmReport
    seconds: float

    def to_json(self) -> dict:
        return {**asdict(self), "report": self.report.to_json()}


@dataclass(frozen=True)
class BestController:
    """The controller a run kept: where it is and how it flew (on the run's landers, or
    as stored). Each kind of run says more about it, in its subclass's fields."""

    path: str
    success_rate: float | None
    mean_score: float | None
    cvar10_score: float | None

    @classmethod
    def flown(cls, report: SwarmReport, **more):
        """The controller ``report`` is about, scored by it."""
        return cls(report.file, report.success_rate, report.mean_score, report.cvar10_score, **more)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RememberedController(BestController):
    """Known conditions: the registry's entry, no model involved."""

    strategy: dict | None
    key: str
    source: str


@dataclass(frozen=True)
class SynthesizedController(BestController):
    """The best candidate the models wrote."""

    strategy: dict | None
    source: str
    memory: dict | None  # {"stored", "reason"}: what the registry did with it


@dataclass(frozen=True)
class BredController(BestController):
    """Cross-generation: the child or, when it lost, the best of its parents."""

    child_wins: bool
    parents: list


@dataclass
class SynthesisRun:
    status: str  # "ok" when a candidate flew, else "failed"
    seconds: float
    best: BestController | None
    # a Candidate per program the models wrote (cross-generation: the SwarmReport of
    # the child and of each parent flown), best first
    candidates: list = field(default_factory=list)
    cache: str = "miss"

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "seconds": self.seconds,
            "best": self.best.to_json() if self.best else None,
            "candidates": [c.to_json() for c in self.candidates],
            "cache": self.cache,
        }


def _labelled(on_token, role: str):
    """``on_token(role, piece)`` (as RepairSession takes it) for one agent's stream."""
    return None if on_token is None else (lambda piece: on_token(role, piece))


def model_identities(agents) -> dict[str, str]:
    from .backend import model_identity

    return {
        "reasoning": model_identity(agents.reasoning.backend.config),
        "synthesis": model_identity(agents.synthesis.backend.config),
    }


def known_controller(registry, env: Environment, models: dict, compiler, seed: int, log=print):
    """(the stored entry, "l1" | "l2") for ``env``, or None: under the key of these
    models' controllers, else under the key of controllers no model wrote (an evolved
    one answers whatever models are loaded). Known conditions are never answered with
    less than the best sample (a registry written before admission checks may hold
    worse). No model is loaded."""
    for key, _ in lookup_keys(env, models):
        controller, level = registry.lookup(key)
        if controller is None:
            continue
        entry = getattr(controller, "entry", None)
        if entry is None:  # an L1 hit is the live program: read its entry once written
            registry.flush()
            entry = registry.best(key)
        good, why = not_worse_than_samples(
            entry.source, entry.file or "stored.mlir", env, compiler, seed
        )
        if good:
            return entry, level
        log(f"known conditions, but the stored controller is {why}")
    return None


def synthesize(
    agents,
    env: Environment,
    candidates: int = 3,
    agents_in_swarm: int = 100,
    seed: int = 0,
    out_dir: str | Path = ".",
    repair_attempts: int = 3,
    on_token=None,
    compiler: Compiler | None = None,
    log=print,
    registry=None,
    cancel=None,
) -> SynthesisRun:
    """With a ``registry``, known conditions are answered from memory (L1/L2) without
    any model, and a new best candidate is remembered (written back in the background).
    ``cancel`` (a threading.Event): stop generating and make no further candidate; the
    candidates finished so far are still ranked.

    The steps: answer from memory (``_from_memory``); else write each candidate
    (``_candidate``: strategy, program, repair, swarm), each next strategy told how the
    earlier ones flew; rank them; offer the best to the registry (``_offer_best``)."""
    compiler = compiler or Compiler()
    start = time.perf_counter()
    if registry is not None:
        remembered = _from_memory(registry, env, agents, compiler, seed, log)
        if remembered is not None:
            best, level = remembered
            return SynthesisRun("ok", time.perf_counter() - start, best, [], level)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Candidate] = []
    known: list[str] = []  # how the earlier candidates' strategies flew, for the next
    for k in range(candidates):
        if cancel is not None and cancel.is_set():
            log(f"cancelled after {k} candidate(s)")
            break
        step = _CandidateStep(agents, env, out, agents_in_swarm, seed, repair_attempts, compiler)
        done = step.run(k, known, on_token, cancel, log)
        if done is None:
            break  # cancelled while writing
        candidate, outcome = done
        written.append(candidate)
        known.append(outcome)
    by_path = {c.path: c for c in written}
    ranked = rank([c.report for c in written])
    best = ranked[0] if ranked and ranked[0].ok else None
    if best is None:
        return SynthesisRun(
            "failed", time.perf_counter() - start, None, [by_path[r.file] for r in ranked]
        )
    chosen = by_path[best.file]
    text = Path(best.file).read_text()
    verdict = (
        _offer_best(registry, env, agents, chosen, text, len(written), compiler, seed, log)
        if registry is not None
        else None
    )
    return SynthesisRun(
        "ok",
        time.perf_counter() - start,
        SynthesizedController.flown(
            best,
            strategy=chosen.strategy,
            source=text,
            memory={k: verdict[k] for k in ("stored", "reason")} if verdict else None,
        ),
        [by_path[r.file] for r in ranked],
    )


def _from_memory(registry, env, agents, compiler, seed, log):
    """(RememberedController, "l1" | "l2") for known conditions, else None."""
    known = known_controller(registry, env, model_identities(agents), compiler, seed, log)
    if known is None:
        return None
    entry, level = known
    log(f"known conditions: controller from {level.upper()} memory (key {entry.key})")
    return (
        RememberedController(
            entry.file,
            entry.scores.get("success_rate"),
            entry.scores.get("mean_score"),
            entry.scores.get("cvar10_score"),
            strategy=entry.strategy,
            key=entry.key,
            source=entry.source,
        ),
        level,
    )


@dataclass
class _CandidateStep:
    """One candidate: the reasoning agent's strategy, the synthesis agent's program, the
    repair loop until it verifies (or gives up), the swarm's verdict."""

    agents: object
    env: Environment
    out: Path
    agents_in_swarm: int
    seed: int
    repair_attempts: int
    compiler: Compiler

    def run(self, k: int, known: list[str], on_token, cancel, log):
        """(the Candidate, how its strategy flew in a line for the next one's reasoning),
        or None when cancelled while writing."""
        agents, t0 = self.agents, time.perf_counter()
        reasoning = agents.reasoning.strategy(
            self.env,
            known=known,
            seed=self.seed + k,
            cancel=cancel,
            on_token=_labelled(on_token, "reasoning"),
        )
        strategy = reasoning.strategy
        log(
            f"candidate {k + 1}: strategy "
            + (strategy.describe() if strategy else f"none ({reasoning.error})")
        )
        written = agents.synthesis.write(
            strategy, on_token=_labelled(on_token, "synthesis"), seed=self.seed + k, cancel=cancel
        )
        if written.cancelled:
            log(f"candidate {k + 1}: cancelled while writing")
            return None
        path = self.out / f"candidate-{k + 1}.mlir"
        session = RepairSession(
            written.text,
            str(path),
            agents.synthesis,
            agents.reasoning,
            max_attempts=self.repair_attempts,
            compiler=self.compiler,
            cancel=cancel,
            on_token=on_token,
        )
        status = "verified" if session.status == "repaired" and not session.attempts else None
        if status is None:
            status = "repaired" if session.auto() == "repaired" else "failed"
        path.write_text(session.text)
        report = evaluate(
            session.text,
            str(path),
            self.env,
            agents=self.agents_in_swarm,
            seed=self.seed,
            compiler=self.compiler,
        )
        log(
            f"candidate {k + 1}: {status}; "
            + (
                f"landed {report.landed}/{report.agents}, mean score {report.mean_score:.1f}"
                if report.ok
                else f"failed: {report.failure}"
            )
        )
        outcome = (strategy.describe() if strategy else "no strategy") + (
            f" -> success {report.success_rate:.0%}, mean score {report.mean_score:.0f}"
            if report.ok
            else f" -> failed ({report.failure})"
        )
        candidate = Candidate(
            str(path),
            strategy.to_json() if strategy else None,
            status,
            session.tiers,
            report,
            time.perf_counter() - t0,
        )
        return candidate, outcome


def _offer_best(registry, env, agents, chosen, text, tried, compiler, seed, log) -> dict:
    """Store the best candidate if it beats what is stored and every sample."""
    key, key_data = cache_key(env, model_identities(agents))
    report = chosen.report
    verdict = remember_if_better(
        registry,
        env,
        key,
        key_data,
        text,
        report.file,
        compiler,
        seed=seed,
        scores={k: report.to_json()[k] for k in ("agents", "seed")},
        strategy=chosen.strategy,
        provenance={
            "models": key_data["models"],
            "seed": seed,
            "repair_tiers": chosen.repair_tiers,
            "candidates": tried,
        },
    )
    log(("remembered: " if verdict["stored"] else "not remembered: ") + verdict["reason"])
    return verdict


def cross_generation(
    agents,
    env: Environment,
    registry,
    parents: int = 2,
    agents_in_swarm: int = 100,
    seed: int = 0,
    out_dir: str | Path = ".",
    repair_attempts: int = 3,
    on_token=None,
    compiler: Compiler | None = None,
    log=print,
) -> SynthesisRun:
    """Cross-generation synthesis: stored controllers for nearby conditions are the
    parents; the reasoning agent merges their strategies (its prompt lists each parent's
    strategy and score; if its answer is unusable the gains are averaged), the synthesis
    agent writes the child, and the swarm flies child and parents under *these*
    conditions. The child is remembered, with its lineage, only if it beats them all."""
    compiler = compiler or Compiler()
    start = time.perf_counter()
    found = registry.nearby(env, parents)
    if not found:
        log("no stored controllers to breed from")
        return SynthesisRun("failed", time.perf_counter() - start, None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    known = []
    for entry in found:
        strategy = Strategy(**entry.strategy)
        condition = entry.key_data.get("condition", {})
        known.append(
            f"parent {entry.key[:8]} (gravity {condition.get('gravity')}, turbulence "
            f"{condition.get('turbulence')}): {strategy.describe()} -> success "
            f"{entry.scores.get('success_rate')}"
        )
    known.append("combine the parents' best traits into one new strategy")
    reasoning = agents.reasoning.strategy(
        env, known=known, on_token=_labelled(on_token, "reasoning"), seed=seed
    )
    child_strategy = reasoning.strategy
    if child_strategy is None:  # merge symbolically: the parents' mean gains
        strategies = [Strategy(**e.strategy) for e in found]
        child_strategy = Strategy(
            strategies[0].family,
            sum(s.kp for s in strategies) / len(strategies),
            sum(s.kd for s in strategies) / len(strategies),
            sum(s.ki for s in strategies) / len(strategies),
            "mean of the parents' gains",
        )
    log(f"child strategy: {child_strategy.describe()}")
    written = agents.synthesis.write(
        child_strategy, on_token=_labelled(on_token, "synthesis"), seed=seed
    )
    child_path = out / "child.mlir"
    session = RepairSession(
        written.text,
        str(child_path),
        agents.synthesis,
        agents.reasoning,
        max_attempts=repair_attempts,
        compiler=compiler,
        on_token=on_token,
    )
    if session.status != "repaired":
        session.auto()
    child_path.write_text(session.text)
    reports = {
        str(child_path): evaluate(
            session.text, str(child_path), env, agents=agents_in_swarm, seed=seed, compiler=compiler
        )
    }
    for entry in found:
        parent_path = out / f"parent-{entry.key[:8]}.mlir"
        parent_path.write_text(entry.source)
        reports[str(parent_path)] = evaluate(
            entry.source,
            str(parent_path),
            env,
            agents=agents_in_swarm,
            seed=seed,
            compiler=compiler,
        )
    ranked = rank(list(reports.values()))
    for r in ranked:
        log(
            f"{Path(r.file).name}: "
            + (
                f"success {r.success_rate:.0%}, CVaR-10 {r.cvar10_score:.1f}"
                if r.ok
                else f"failed: {r.failure}"
            )
        )
    child = reports[str(child_path)]
    child_wins = ranked[0] is child and child.ok
    lineage = [e.key for e in found]
    if child_wins:
        key, key_data = cache_key(env, model_identities(agents))
        verdict = remember_if_better(
            registry,
            env,
            key,
            key_data,
            session.text,
            str(child_path),
            compiler,
            seed=seed,
            scores={k: child.to_json()[k] for k in ("agents", "seed")},
            strategy=child_strategy.to_json(),
            provenance={
                "parents": lineage,
                "repair_tiers": session.tiers,
                "seed": seed,
                "generation": "cross",
            },
        )
        log(("remembered: " if verdict["stored"] else "not remembered: ") + verdict["reason"])
    best = ranked[0] if ranked[0].ok else None
    return SynthesisRun(
        "ok" if best else "failed",
        time.perf_counter() - start,
        BredController.flown(best, child_wins=child_wins, parents=lineage) if best else None,
        ranked,
    )
