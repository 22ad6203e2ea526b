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
from ..sim import Environment, evaluate, rank
from .repair import RepairSession


@dataclass
class Candidate:
    path: str
    strategy: dict | None
    repair_status: str  # "verified" (as written), "repaired", "failed"
    repair_tiers: list
    report: dict  # SwarmReport.to_json()
    seconds: float


@dataclass
class SynthesisRun:
    status: str  # "ok" when a candidate flew, else "failed"
    seconds: float
    best: dict | None
    candidates: list = field(default_factory=list)
    cache: str = "miss"

    def to_json(self) -> dict:
        return asdict(self)


def model_identities(agents) -> dict[str, str]:
    from .backend import model_identity

    return {"reasoning": model_identity(agents.reasoning.backend.config),
            "synthesis": model_identity(agents.synthesis.backend.config)}


def synthesize(agents, env: Environment, candidates: int = 3, agents_in_swarm: int = 100,
               seed: int = 0, out_dir: str | Path = ".", repair_attempts: int = 3,
               on_token=None, compiler: Compiler | None = None, log=print,
               registry=None) -> SynthesisRun:
    """With a ``registry``, known conditions are answered from memory (L1/L2) without
    any model, and a new best candidate is remembered (written back in the background)."""
    compiler = compiler or Compiler()
    start = time.perf_counter()
    if registry is not None:
        from ..memory import cache_key

        key, key_data = cache_key(env, model_identities(agents))
        controller, level = registry.lookup(key)
        if controller is not None:
            entry = registry.best(key) if level == "l2" else getattr(controller, "entry", None)
            scores = entry.scores if entry else {}
            log(f"known conditions: controller from {level.upper()} memory (key {key})")
            return SynthesisRun("ok", time.perf_counter() - start, {
                "path": entry.file if entry else "", "success_rate": scores.get("success_rate"),
                "mean_score": scores.get("mean_score"), "cvar10_score": scores.get("cvar10_score"),
                "strategy": entry.strategy if entry else None, "key": key}, [], level)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results: list[Candidate] = []
    reports = {}
    known: list[str] = []
    for k in range(candidates):
        t0 = time.perf_counter()
        reasoning = agents.reasoning.strategy(env, known=known, on_token=on_token, seed=seed + k)
        strategy = reasoning.strategy
        log(f"candidate {k + 1}: strategy "
            + (strategy.describe() if strategy else f"none ({reasoning.error})"))
        written = agents.synthesis.write(strategy, on_token=on_token, seed=seed + k)
        path = out / f"candidate-{k + 1}.mlir"
        session = RepairSession(written.text, str(path), agents.synthesis, agents.reasoning,
                                max_attempts=repair_attempts, compiler=compiler)
        repair_status = "verified" if session.status == "repaired" and not session.attempts else None
        if repair_status is None:
            repair_status = "repaired" if session.auto() == "repaired" else "failed"
        path.write_text(session.text)
        report = evaluate(session.text, str(path), env, agents=agents_in_swarm, seed=seed,
                          compiler=compiler)
        log(f"candidate {k + 1}: {repair_status}; "
            + (f"landed {report.landed}/{report.agents}, mean score {report.mean_score:.1f}"
               if report.ok else f"failed: {report.failure}"))
        reports[str(path)] = report
        results.append(Candidate(str(path), strategy.to_json() if strategy else None,
                                 repair_status, session.tiers, report.to_json(),
                                 time.perf_counter() - t0))
        known.append((strategy.describe() if strategy else "no strategy")
                     + (f" -> success {report.success_rate:.0%}, mean score {report.mean_score:.0f}"
                        if report.ok else f" -> failed ({report.failure})"))
    candidates_by_path = {c.path: c for c in results}
    ranked = rank(list(reports.values()))
    best = ranked[0] if ranked and ranked[0].ok else None
    if best is not None and registry is not None:
        from ..memory import remember

        text = Path(best.file).read_text()
        program = compiler.compile(text, best.file, require_control=True)
        remember(registry, key, key_data, text, best.file, program,
                 scores={k: best.to_json()[k] for k in ("success_rate", "mean_score",
                                                        "cvar10_score", "agents", "seed")},
                 strategy=candidates_by_path[best.file].strategy,
                 provenance={"models": key_data["models"], "seed": seed,
                             "repair_tiers": candidates_by_path[best.file].repair_tiers,
                             "candidates": len(results)})
    return SynthesisRun(
        "ok" if best else "failed", time.perf_counter() - start,
        {"path": best.file, "success_rate": best.success_rate, "mean_score": best.mean_score,
         "cvar10_score": best.cvar10_score, "strategy": candidates_by_path[best.file].strategy}
        if best else None,
        [asdict(candidates_by_path[r.file]) for r in ranked])
