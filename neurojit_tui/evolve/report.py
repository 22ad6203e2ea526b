"""Text for people: the progress line and the summary of an evolution run."""

from __future__ import annotations

from .results import EvolutionResult, GenerationEnded, GymScores, Scores


def progress_line(event: GenerationEnded) -> str:
    stats = event.summary
    return (
        f"generation {stats.generation:>3}  {stats.evaluations:>7} evaluations  "
        f"{event.evaluations_per_s:7.0f}/s  best {stats.best_fitness:7.2f}  "
        f"median {stats.median_fitness:7.2f}  {stats.seconds:6.1f} s"
    )


def _scores(label: str, scores: Scores) -> str:
    cvar = scores.cvar10_score
    mean = scores.mean_score
    return (
        f"{label}: landed {scores.success_rate:.1%} of {scores.agents}, "
        f"mean score {mean if mean is None else round(mean, 1)}, "
        f"CVaR-10 {cvar if cvar is None else round(cvar, 1)}"
    )


def cluster_lines(cluster: dict) -> list[str]:
    """Where the evaluations ran, per node of a cluster (nothing on one machine)."""
    if not cluster:
        return []
    lines = [
        f"cluster {cluster['address']}: {cluster['workers']} worker(s), one per "
        f"{cluster['granularity']}, {cluster['threads']} thread(s); "
        f"{cluster['retried_batches']} batch(es) flown again after a lost worker"
    ]
    for node in cluster["nodes"]:
        lines.append(
            f"  node {node['address']} {node['node'][:8]}: {node['evaluations']:.0f} "
            f"evaluations in {node['batches']} batches, busy {node['busy_seconds']:.1f} s"
            + (f", {node['retried']} lost" if node["retried"] else "")
        )
    return lines


def provenance_lines(result: EvolutionResult) -> list[str]:
    """Which seeds the registry's memory of earlier runs gave, and where the search
    stopped (what a replay needs; the JSON has the whole record)."""
    record = result.replay
    if record is None:
        return []
    remembered = result.registry_seeds
    lines = [
        "seeds: "
        + ", ".join(f"{s.path.rsplit('/', 1)[-1]} ({s.origin})" for s in record.seeds)
        + (
            f"; {len(remembered)} from the registry (earlier runs), so a rerun on this "
            "registry may differ"
            if remembered
            else ""
        )
    ]
    stopped = {
        "budget": f"the time budget, at {record.evaluations} evaluations",
        "evaluations": f"the evaluation bound, at {record.evaluations} evaluations",
        "cancelled": f"a cancel, at {record.evaluations} evaluations",
        "generations": f"the generation count ({record.generations})",
        "seeds": "no seed program flew",
    }.get(record.stopped_by, record.stopped_by)
    lines.append(
        f"stopped by {stopped}; seed {record.seed}"
        + ("" if record.replayable else f"; may not replay exactly: {record.note}")
    )
    return lines


def gym_line(label: str, scores: GymScores) -> str:
    cvar = scores.cvar10
    first, last = scores.seeds
    return (
        f"{label}: {scores.env}, {scores.episodes} episodes (seeds {first}..{last}, never "
        f"flown by the search): mean return {scores.mean_return:.1f}, CVaR-10 "
        f"{cvar if cvar is None else round(cvar, 1)}, landed {scores.landed:.1%}, "
        f"solved {scores.solved:.1%}" + (f"; {scores.failure}" if scores.failure else "")
    )


def native_conditions_line(result: EvolutionResult) -> str:
    """The conditions the native swarm trained in: with a Gymnasium environment, its twin
    (the model with its mechanics) unless the conditions were given."""
    conditions = ", ".join(
        f"{name} {value:g}" for name, value in result.environment.to_json().items()
    )
    return f"native swarm trained in: {conditions}"


SHOWN_FAILURES = 5  # failed candidates (and diagnostics of each) a summary lists


def summary(result: EvolutionResult) -> str:
    lines = [
        f"{result.status}: {result.generations} generation(s), "
        f"{result.evaluations} evaluations in {result.seconds:.1f} s "
        f"({result.evaluations_per_s:.0f}/s), {result.structures} structures, "
        f"{len(result.failures)} failed candidates"
    ]
    lines += cluster_lines(result.cluster)
    lines += provenance_lines(result)
    best = result.best
    if best is None:
        lines.append("no candidate flew")
        for failure in result.failures[:SHOWN_FAILURES]:  # the seeds', when nothing flew
            lines.append(f"  {failure.description}: {failure.reason}")
            lines += [f"    {d.format()}" for d in failure.diagnostics[:SHOWN_FAILURES]]
        return "\n".join(lines)
    lines.append(_scores("training  ", best.train))
    lines.append(
        _scores("validation", best.validation)
        + f" (seed {best.validation.seeds[0]}, never flown by the search)"
    )
    if best.gym_validation is not None:
        lines.append(native_conditions_line(result))
        lines.append(gym_line("Gymnasium validation", best.gym_validation))
    if best.gym_polish is not None:
        polish = best.gym_polish
        lines.append(
            f"polish: {polish.generations} CMA-ES generation(s) on {polish.episodes} episodes, "
            f"fitness paired on {polish.paired_episodes} episodes "
            f"{polish.start_fitness:.1f} -> {polish.fitness:.1f}"
            + ("" if polish.kept else "; not kept (no better than the winner)")
        )
    lines.append("lineage: " + " <- ".join(f"{step.id} ({step.mutation})" for step in best.lineage))
    if best.registry is not None:
        verdict = best.registry
        lines.append(
            ("stored in the registry: " if verdict.stored else "not stored: ") + verdict.reason
        )
    if best.path:
        lines.append(f"wrote {best.path}")
    return "\n".join(lines)
