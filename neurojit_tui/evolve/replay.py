"""``neurojit evolve --replay RUN.json``: run a recorded search again, to the same best.

A run's JSON (``neurojit evolve --json``, or a registry entry's provenance) holds its
conditions, options and ``replay`` record: the seed, where the search stopped (for a
budget run, the training-evaluation count at the stop, which replaces the clock), and
each seed program's origin and SHA-256. The replay finds every seed program again (a
sample by its name, a file by its path, a registry entry by its key and hash) and
refuses, naming it, one that changed. Every problem is a ``ReplayError`` with one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path

from ..paths import controller_samples
from ..sim import model
from ..version import source_sha256
from .results import EvolveOptions, ReplayRecord, SeedProgram
from .runner import text_sha256


class ReplayError(ValueError):
    """The run's JSON cannot be replayed (a one-line reason naming the file)."""


@dataclass(frozen=True)
class Replay:
    env: model.Environment
    options: EvolveOptions  # the run's, bounded by its evaluation count instead of the clock
    seeds: list[tuple[str, str]]  # (path, text) as the run had them
    record: ReplayRecord
    warnings: tuple[str, ...]  # what may make it differ (another version of the search, ...)


def _known_fields(cls, data: dict) -> dict:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _run_json(path: str) -> dict:
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ReplayError(f"{path}: cannot read it: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ReplayError(f"{path}: not a run's JSON (not UTF-8 text)") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ReplayError(f"{path}: not a run's JSON ({error})") from None
    if isinstance(data, dict) and "replay" not in data and isinstance(data.get("provenance"), dict):
        data = data["provenance"]  # a registry entry (`neurojit registry show KEY --json`)
    if not isinstance(data, dict) or not isinstance(data.get("replay"), dict):
        raise ReplayError(
            f"{path}: not a run's JSON (no replay record: write one with "
            "`neurojit evolve --json`, or give a registry entry's JSON)"
        )
    return data


def _record(path: str, data: dict) -> ReplayRecord:
    try:
        raw = data["replay"]
        seeds = tuple(SeedProgram(**_known_fields(SeedProgram, s)) for s in raw["seeds"])
        return ReplayRecord(**{**_known_fields(ReplayRecord, raw), "seeds": seeds})
    except (KeyError, TypeError) as error:
        raise ReplayError(f"{path}: its replay record is incomplete or corrupt ({error})") from None


def _find_seed(run: str, seed: SeedProgram, registry) -> str:
    """The seed program's text as it is now, refused if it is not the run's."""
    if seed.origin == "registry":
        if registry is None:
            raise ReplayError(f"{run}: seed {seed.path} is a registry entry: drop --no-cache")
        for entry in registry.versions(seed.key or ""):
            if text_sha256(entry.source) == seed.sha256:
                return entry.source
        raise ReplayError(
            f"{run}: seed {seed.path} changed since the run: the registry no longer holds "
            f"that program under key {seed.key}"
        )
    where = Path(seed.path)
    if seed.origin == "sample":  # the samples may live elsewhere on this machine
        where = next((p for p in controller_samples() if p.name == where.name), where)
    try:
        text = where.read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise ReplayError(f"{run}: seed {seed.path} cannot be read: {reason}") from None
    if text_sha256(text) != seed.sha256:
        raise ReplayError(
            f"{run}: seed {seed.path} changed since the run (sha256 {seed.sha256[:12]} "
            f"then, {text_sha256(text)[:12]} now)"
        )
    return text


def load_replay(path: str, registry=None) -> Replay:
    data = _run_json(path)
    record = _record(path, data)
    try:
        env = model.Environment(**_known_fields(model.Environment, data["environment"]))
        options = EvolveOptions(**_known_fields(EvolveOptions, data["options"]))
        # JSON has lists where the options hold tuples: the environment's (name, value) pairs
        options = replace(options, env_args=tuple(tuple(pair) for pair in options.env_args))
    except (KeyError, TypeError) as error:
        raise ReplayError(f"{path}: its options or conditions are missing ({error})") from None
    if not record.seeds:
        raise ReplayError(f"{path}: the run names no seed program")
    seeds = [(seed.path, _find_seed(path, seed, registry)) for seed in record.seeds]
    bounded = record.stopped_by in ("budget", "evaluations", "cancelled")
    options = replace(
        options,
        seed=record.seed,
        budget_s=None,
        evaluations=record.evaluations if bounded else options.evaluations,
        cluster="none",
        gym_polish_generations=(
            record.polish_generations
            if record.polish_generations is not None
            else options.gym_polish_generations
        ),
    )
    warnings = []
    if record.source_sha256 != source_sha256():
        warnings.append(
            f"the run was made by another version of NeuroJIT ({record.version}, source "
            f"{record.source_sha256[:12]}): the search may take another path"
        )
    if not record.replayable:
        warnings.append(f"the run may not replay exactly: {record.note}")
    return Replay(env, options, seeds, record, tuple(warnings))
