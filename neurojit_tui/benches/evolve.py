"""``neurojit bench evolve``: what each part of the search adds, on the same time budget.

Per condition, every arm gets the same seconds and is scored on the same validation
landers (a seed no arm trains on):

* ``heuristic``: heuristic.mlir as it is (no search);
* ``synthesize``: the pre-evolution pipeline, best-of-N fresh programs from the models
  until the budget ends (needs the models);
* ``cma-heuristic``: CMA-ES on heuristic.mlir's constants only;
* ``evolve-llm``: the full search, with LLM mutations (needs the models);
* ``evolve-symbolic``: the full search, symbolic mutations only.

It also measures the evaluation throughput of the parametric path (one compiled
kernel, many parameter vectors per call) against recompiling every candidate, in the
same run, on heuristic.mlir's structure with 100 landers x up to 1000 steps each.
"""

from __future__ import annotations

import time

import numpy as np

from ..compiler import Compiler
from ..evolve.evaluation import PopulationEvaluator, fitness, population_evaluator
from ..evolve.results import EvolveOptions
from ..evolve.runner import samples
from ..evolve.search import evolve
from ..evolve.tuning import tune
from ..sim import model
from ..sim.swarm import evaluate, validate

THROUGHPUT_AGENTS = 100


def throughput(seconds: float = 5.0, seed: int = 0) -> dict:
    """Candidate evaluations per second: parametric kernel vs recompile-per-candidate."""
    compiler = Compiler()
    path, text = next((p, t) for p, t in samples() if p.endswith("heuristic.mlir"))
    env = model.Environment()
    evaluator = PopulationEvaluator(env, THROUGHPUT_AGENTS, seed, compiler=compiler)
    structure = evaluator.structure(text, path)
    table = structure.parameters
    rng = np.random.default_rng(seed)

    def candidates(n):
        return np.array(
            [
                table.constrain(table.initial * (1 + 0.1 * rng.standard_normal(len(table))))
                for _ in range(n)
            ]
        )

    evaluator.fly(structure, candidates(4))  # warm
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        evaluator.fly(structure, candidates(32))
        done += 32
    parametric = done / (time.perf_counter() - start)
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        written = table.write_back(text, candidates(1)[0])
        evaluate(written, path, env, agents=THROUGHPUT_AGENTS, seed=seed, compiler=compiler)
        done += 1
    recompile = done / (time.perf_counter() - start)
    return {
        "structure": "heuristic.mlir",
        "agents": THROUGHPUT_AGENTS,
        "max_steps": model.MAX_STEPS,
        "parametric_evaluations_per_s": parametric,
        "recompile_evaluations_per_s": recompile,
        "speedup": parametric / recompile,
    }


def _validation_row(
    arm: str,
    text: str | None,
    env,
    seed: int,
    agents: int,
    seconds: float,
    evaluations: int,
    note: str = "",
) -> dict:
    row = {
        "arm": arm,
        "seconds": seconds,
        "evaluations": evaluations,
        "note": note,
        "success_rate": None,
        "cvar10_score": None,
        "mean_score": None,
    }
    if text is not None:
        report = validate(text, f"{arm}.mlir", env, seed, agents)
        row.update(
            success_rate=report.success_rate,
            cvar10_score=report.cvar10_score,
            mean_score=report.mean_score,
            failure=report.failure,
        )
    return row


def _synthesize_arm(agents, env, budget: float, seed: int) -> tuple[str | None, int, str]:
    """Best-of-N fresh programs from the pre-evolution pipeline, until the budget ends."""
    import tempfile

    from ..agents.pipeline import synthesize

    deadline = time.perf_counter() + budget
    best, best_key, tried = None, None, 0
    with tempfile.TemporaryDirectory() as folder:
        while tried == 0 or time.perf_counter() < deadline:  # at least one program
            run = synthesize(
                agents,
                env,
                candidates=1,
                seed=seed + tried,
                out_dir=folder,
                log=lambda message: None,
            )
            tried += 1
            for candidate in run.candidates:
                report = candidate.report
                key = (report.ok, report.success_rate, report.cvar10_score)
                if report.ok and (best_key is None or key > best_key):
                    best, best_key = open(candidate.path).read(), key
    return best, tried, f"{tried} program(s) written"


def bench_evolve(
    conditions: list[tuple[float, float]],
    budget: float = 60.0,
    seed: int = 0,
    agents=None,
    validation_agents: int = 1000,
    log=print,
    cluster: str | None = None,
    throughput_seconds: float = 5.0,
    evaluations: int | None = None,
) -> dict:
    """``cluster``: the arms' training flights go to that Ray cluster (validation and
    the throughput comparison stay on this machine). ``evaluations``: the searching arms
    (CMA-ES and evolve) stop after this many training evaluations instead of ``budget``
    seconds, so the bench repeats exactly (the synthesize arm keeps the seconds)."""
    heuristic = next(t for p, t in samples() if p.endswith("heuristic.mlir"))
    rows = []
    for gravity, turbulence in conditions:
        env = model.Environment(gravity=gravity, turbulence=turbulence)
        log(f"gravity {gravity:g}, turbulence {turbulence:g}")
        arms = [_validation_row("heuristic", heuristic, env, seed, validation_agents, 0.0, 0)]
        if agents is not None:
            t0 = time.perf_counter()
            text, tried, note = _synthesize_arm(agents, env, budget, seed)
            arms.append(
                _validation_row(
                    "synthesize",
                    text,
                    env,
                    seed,
                    validation_agents,
                    time.perf_counter() - t0,
                    tried,
                    note,
                )
            )
        t0 = time.perf_counter()
        evaluator = population_evaluator(env, 128, seed, cluster=cluster)
        try:
            structure = evaluator.structure(heuristic, "heuristic.mlir")
            deadline = t0 + budget

            def spent(deadline=deadline, evaluator=evaluator) -> bool:
                if evaluations is not None:
                    return evaluator.evaluations >= evaluations
                return time.perf_counter() > deadline

            tuned = tune(
                evaluator, structure, structure.parameters.initial, 10**6, seed, should_stop=spent
            )
        finally:
            evaluator.close()
        arms.append(
            _validation_row(
                "cma-heuristic",
                structure.write(tuned.values),
                env,
                seed,
                validation_agents,
                time.perf_counter() - t0,
                evaluator.evaluations,
                f"training fitness {fitness(tuned.outcomes):.2f}",
            )
        )
        for arm, llm_mode in (
            ("evolve-llm-guide", "guide"),
            ("evolve-llm-write", "write"),
            ("evolve-symbolic", None),
        ):
            use_llm = llm_mode is not None
            if use_llm and agents is None:
                continue
            llm = None
            if llm_mode is not None:
                from ..evolve.llm import LLMMutation

                llm = LLMMutation(agents, mode=llm_mode)
            options = EvolveOptions(
                budget_s=None if evaluations is not None else budget,
                evaluations=evaluations,
                seed=seed,
                use_llm=use_llm,
                validation_agents=validation_agents,
                cluster=cluster,
            )
            result = evolve(samples(), env, options, llm=llm)
            best = result.best
            note = ", ".join(
                f"{name} {stats.kept}/{stats.tried} kept"
                for name, stats in sorted(result.operators.items())
            )
            arms.append(
                _validation_row(
                    arm,
                    best.source if best else None,
                    env,
                    seed,
                    validation_agents,
                    result.seconds,
                    result.evaluations,
                    note,
                )
            )
        for row in arms:
            log(f"  {row['arm']:<16} " + _format_scores(row))
        rows.append({"gravity": gravity, "turbulence": turbulence, "arms": arms})
    log("throughput: parametric vs recompile-per-candidate")
    return {
        "budget_s": budget,
        "evaluations": evaluations,
        "seed": seed,
        "validation_agents": validation_agents,
        "conditions": rows,
        "throughput": throughput(throughput_seconds, seed),
    }


def _format_scores(row: dict) -> str:
    if row["success_rate"] is None:
        return f"no program ({row['note']})"
    return (
        f"landed {row['success_rate']:6.1%}  CVaR-10 {row['cvar10_score']:8.1f}  "
        f"mean {row['mean_score']:7.1f}  {row['evaluations']:>6} evals  "
        f"{row['seconds']:5.0f} s  {row['note']}"
    )


def format_evolve_table(result: dict) -> str:
    bound = (
        f"{result['evaluations']} training evaluations per searching arm"
        if result.get("evaluations")
        else f"budget {result['budget_s']:g} s per arm"
    )
    lines = [
        f"{bound}; validation: {result['validation_agents']} landers of a seed no arm trains on",
        "",
    ]
    lines.append("| gravity | turbulence | arm | landed | CVaR-10 | mean | evaluations | seconds |")
    lines.append("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for condition in result["conditions"]:
        for row in condition["arms"]:
            landed = "-" if row["success_rate"] is None else f"{row['success_rate']:.1%}"
            cvar = "-" if row["cvar10_score"] is None else f"{row['cvar10_score']:.1f}"
            mean = "-" if row["mean_score"] is None else f"{row['mean_score']:.1f}"
            lines.append(
                f"| {condition['gravity']:g} | {condition['turbulence']:g} | "
                f"{row['arm']} | {landed} | {cvar} | {mean} | {row['evaluations']} | "
                f"{row['seconds']:.0f} |"
            )
    t = result["throughput"]
    lines += [
        "",
        f"throughput ({t['structure']}, {t['agents']} landers x up to {t['max_steps']} "
        f"steps): parametric {t['parametric_evaluations_per_s']:.0f} evaluations/s, "
        f"recompile-per-candidate {t['recompile_evaluations_per_s']:.1f}/s, "
        f"{t['speedup']:.0f}x",
    ]
    return "\n".join(lines)
