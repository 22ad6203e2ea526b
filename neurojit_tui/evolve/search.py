"""The evolution loop: seed, mutate, tune, compete, migrate; validate the winner.

Generation 0 tunes every seed program (the samples, the user's files, stored
controllers for nearby conditions) and puts them on every island. Each later
generation makes one child per island: a parent from the island (or the archive), an
operator (an LLM proposal, a symbolic edit, a crossover with another parent, or a
re-tune of the parent's numbers), CMA-ES on the child's constants, then the child
competes for a place. Every candidate that does not compile or fly is recorded with
its reason. The winner is chosen on the training landers and reported on validation
landers the search never flew. With a Gymnasium environment (``options.env_id``), the
environment chooses among the finalists and validates the winner, on episodes of seeds
nothing else flies (``gym_judging``).

Determinism: everything random comes from one ``numpy`` generator seeded with
``seed``, and nothing depends on the clock except the optional time budget; so the
same ``seed``, seed programs and ``generations`` or ``evaluations`` give the same best,
on one machine or on a cluster (``cluster``: the training flights go to a Ray cluster,
whose outcomes equal the local ones). A time budget is made replayable too: the search
asks whether to stop at fixed points of its work (``StopRule``) and reads
the clock only at the first of them after each batch of evaluations, so a budget run
stops exactly where ``evaluations`` set to its count at the stop would stop it
(``neurojit evolve --replay``).
"""

from __future__ import annotations

import hashlib
import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..compiler import CompileError
from ..sim import model
from ..sim.swarm import validate, validation_seed
from ..version import source_sha256, version
from .bandit import OperatorBandit, stalled
from .database import Individual, ProgramDatabase
from .evaluation import population_evaluator, selection_seed, training_fitness
from .mutations import SYMBOLIC_OPERATORS, NotApplicable, mutate
from .program import features
from .results import (
    BestProgram,
    BestSoFar,
    EvolutionEvent,
    EvolutionResult,
    EvolveOptions,
    FailedCandidate,
    GenerationEnded,
    GenerationSummary,
    GymFinalist,
    GymPolish,
    GymScores,
    GymUsage,
    LineageStep,
    OperatorStats,
    ReplayRecord,
    SearchLog,
    SeedProgram,
    SelectionScores,
    TrainingScores,
    ValidationScores,
)
from .tuning import tune

if TYPE_CHECKING:
    from .gym_judging import GymJudging

RETUNE = "retune"
STALL_WINDOW = 3  # generations without a better best before the bandit asks the proposer


class _Deadline:
    """What the agents poll to stop generating (``is_set``, like a threading.Event):
    the user's cancel, or the end of the time budget, so a model never overruns it."""

    def __init__(self, out_of_time):
        self.is_set = out_of_time


class StopRule:
    """When the search stops: the user's cancel, ``evaluations`` training evaluations,
    or the time budget; latched, so once it says stop it always does.

    The search asks at fixed points of its work. The clock is read only at the first
    question after the evaluation count changed, so where a budget stops the search
    depends only on the count: the first question at which at least ``evaluations``
    are done is the very same question, and ``evaluations = stopped_at`` replays it."""

    def __init__(
        self,
        options: EvolveOptions,
        cancel,
        evaluations_done: Callable[[], int],
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.budget_s, self.evaluations = options.budget_s, options.evaluations
        self.cancel, self.evaluations_done, self.clock = cancel, evaluations_done, clock
        self.start = clock()
        self.reason: str | None = None  # "cancelled", "evaluations" or "budget" once stopped
        self.stopped_at: int | None = None  # the evaluation count when it stopped
        self._clock_read_at: int | None = None

    def __call__(self) -> bool:
        if self.reason is not None:
            return True
        count = self.evaluations_done()
        if self.cancel.is_set():
            self._stop("cancelled", count)
        elif self.evaluations is not None and count >= self.evaluations:
            self._stop("evaluations", count)
        elif self.budget_s is not None and count != self._clock_read_at:
            self._clock_read_at = count
            if self.clock() - self.start > self.budget_s:
                self._stop("budget", count)
        return self.reason is not None

    def _stop(self, reason: str, count: int) -> None:
        self.reason, self.stopped_at = reason, count

    def past_deadline(self) -> bool:
        """For a model generating: the cancel or the clock itself (a generation makes no
        evaluation, so it cannot wait for the count to change)."""
        return (
            self.reason is not None
            or self.cancel.is_set()
            or (self.budget_s is not None and self.clock() - self.start > self.budget_s)
        )


class Evolution:
    """One evolution run. ``on_event(event)`` hears its events as they happen
    (``GenerationEnded``, ``BestSoFar``, ``FailedCandidate``, ``SearchLog``): the CLI
    prints them, the engine forwards them to the workstation."""

    def __init__(
        self,
        seeds: list[tuple[str, str]],
        env: model.Environment,
        options: EvolveOptions,
        llm=None,
        on_event: Callable[[EvolutionEvent], None] | None = None,
        cancel=None,
        judging: GymJudging | None = None,
    ):
        """``judging``: the Gymnasium judge of ``options.env_id``, when the caller keeps
        it for more (the registry's admission); else the run starts and closes its own."""
        self.seeds, self.env, self.options = seeds, env, options
        self.fitness_of = training_fitness(options.objective, options.env_id is not None)
        self.judging, self._owns_judging = judging, False
        if judging is None and options.env_id is not None:
            from .gym_judging import GymJudging, env_spec

            spec = env_spec(options)
            assert spec is not None
            self.judging, self._owns_judging = GymJudging(spec), True
        self.llm = llm if options.use_llm else None
        # what the proposer's children are tallied as ("llm" for the models)
        self.proposer_name = getattr(self.llm, "name", "llm")
        self.on_event = on_event or (lambda event: None)
        self.cancel = cancel or threading.Event()
        self.rng = np.random.default_rng(options.seed)
        self.evaluator = population_evaluator(
            env, options.train_agents, options.seed, options.threads, options.cluster
        )
        self.database = ProgramDatabase(options.islands, options.population)
        self.history: list[GenerationSummary] = []
        self.operators: dict[str, OperatorStats] = {}
        self._count = 0
        self._best: Individual | None = None
        self.stop = StopRule(
            replace(options, budget_s=self.native_budget(options)),
            self.cancel,
            lambda: self.evaluator.evaluations,
        )
        self._polish: GymPolish | None = None
        self.bandit = None
        if options.operator_choice == "bandit":
            arms = [op.name for op in SYMBOLIC_OPERATORS] + [RETUNE]
            self.bandit = OperatorBandit(arms + ([self.proposer_name] if self.llm else []))
        elif options.operator_choice != "uniform":
            raise ValueError(f"operator_choice {options.operator_choice!r}: uniform or bandit")
        self._best_since_growth: list[float] = []  # best training fitness per generation
        self._last_choice = ("", None)

    # -- bookkeeping ------------------------------------------------------------------

    def _log(self, message: str) -> None:
        self.on_event(SearchLog(message))

    def _tally(self, operator: str, outcome: str) -> None:
        """Count one more ``outcome`` (an ``OperatorStats`` field) for ``operator``."""
        stats = self.operators.get(operator, OperatorStats())
        self.operators[operator] = replace(stats, **{outcome: getattr(stats, outcome) + 1})

    def _fail(self, generation, mutation, description, parents, reason, diagnostics=()):
        failure = FailedCandidate(
            generation, mutation, description, tuple(parents), reason, tuple(diagnostics)
        )
        self.database.failures.append(failure)
        self._tally(mutation, "failed")
        self.on_event(failure)
        self._log(f"generation {generation}: {mutation} ({description}) failed: {reason}")

    def _next_id(self) -> str:
        self._count += 1
        return f"c-{self._count}"

    # -- making candidates ----------------------------------------------------------------

    def _tuned_individual(
        self,
        text,
        path,
        generation,
        parents,
        mutation,
        description,
        tune_generations,
        start=None,
        sigma0=0.3,
        source="",
    ) -> Individual | None:
        try:
            structure = self.evaluator.structure(text, path)
        except CompileError as error:
            self._fail(
                generation,
                mutation,
                description,
                parents,
                "does not compile",
                error.diagnostics,
            )
            return None
        initial = structure.parameters.initial if start is None else np.asarray(start)
        tuned = tune(
            self.evaluator,
            structure,
            initial,
            tune_generations,
            seed=int(self.rng.integers(2**31)),
            popsize=self.options.cma_popsize,
            sigma0=sigma0,
            should_stop=self.stop,
            fitness_of=self.fitness_of,
        )
        if not tuned.outcomes.ok or tuned.fitness == -np.inf:
            self._fail(
                generation,
                mutation,
                description,
                parents,
                tuned.outcomes.failure or "no landers flew",
            )
            return None
        tuned_text = structure.write(tuned.values)
        return Individual(
            self._next_id(),
            tuned_text,
            structure.key,
            [float(v) for v in tuned.values],
            tuned.fitness,
            tuned.outcomes,
            features(tuned_text),
            parents,
            mutation,
            description,
            generation,
            source,
        )

    def _pick_operator(self):
        """The operator of the next child: with ``operator_choice`` "uniform", the
        proposer (model or random guide) at ``llm_rate`` and otherwise a symbolic
        operator or a re-tune at random; with "bandit", the operator with the most
        training-fitness gain per second so far (``bandit.OperatorBandit``), and the
        proposer whenever the search has stalled."""
        operators = list(SYMBOLIC_OPERATORS) + [RETUNE]
        if self.bandit is None:
            use_llm = self.llm is not None and self.rng.random() < self.options.llm_rate
            return "llm" if use_llm else operators[int(self.rng.integers(len(operators)))]
        if self.llm is not None and stalled(self._best_since_growth, STALL_WINDOW):
            self._best_since_growth.clear()  # asked; give its child time to count
            return "llm"
        name = self.bandit.choose(self.rng)
        if self.llm is not None and name == self.proposer_name:
            return "llm"
        return next(op for op in operators if (op if isinstance(op, str) else op.name) == name)

    def _child(self, island: int, generation: int) -> Individual | None:
        parent = self.database.select(island, self.rng)
        operator = self._pick_operator()
        name = (
            self.proposer_name
            if operator == "llm"
            else operator
            if isinstance(operator, str)
            else operator.name
        )
        self._last_choice = (name, parent)
        self._tally(name, "tried")
        if operator == RETUNE:
            return self._tuned_individual(
                parent.text,
                f"gen{generation}-{name}.mlir",
                generation,
                [parent.id],
                RETUNE,
                "re-tune the parent's numbers",
                self.options.child_tune_generations,
                start=parent.values,
                sigma0=0.15,
            )
        parents = [parent.id]
        try:
            if operator == "llm":
                text, description = self.llm.propose(
                    parent,
                    self.env,
                    seed=int(self.rng.integers(2**31)),
                    cancel=_Deadline(self.stop.past_deadline),
                )
            else:
                other = None
                if operator.name == "crossover":
                    other_island = int(self.rng.integers(len(self.database.islands)))
                    other_ind = self.database.select(other_island, self.rng)
                    if other_ind.structure_key == parent.structure_key:
                        raise NotApplicable("the second parent has the same structure")
                    other, parents = other_ind.text, [parent.id, other_ind.id]
                text, description = mutate(operator, parent.text, self.rng, other)
        except NotApplicable as why:
            self._log(f"generation {generation}: {name} not applicable to {parent.id}: {why}")
            self._tally(name, "not_applicable")
            return None
        if operator == "llm" and self.options.screen_agents and self._screened_out(text, parent):
            self._log(f"generation {generation}: {name} ({description}) screened out")
            self._tally(name, "screened_out")
            return None
        return self._tuned_individual(
            text,
            f"gen{generation}-{name}.mlir",
            generation,
            parents,
            name,
            description,
            self.options.child_tune_generations,
        )

    @staticmethod
    def native_budget(options: EvolveOptions) -> float | None:
        """The native search's seconds: the budget less the Gymnasium polish's share."""
        if options.budget_s is None or options.env_id is None:
            return options.budget_s
        return options.budget_s * (1.0 - options.gym_polish_share)

    def _polished(self, best: Individual, generation: int) -> Individual:
        """``best`` with its constants tuned on the environment's training episodes
        (``evolve.polish``) until the budget or ``gym_polish_generations`` ends; the
        polished program is a new individual, its parent ``best``. It replaces ``best``
        only if it beats it paired on the same episodes: the selection episodes, which
        the polish never flew, and the last generations' batches
        (``polish.paired_comparison``)."""
        from .gym_judging import GYM_TRAINING_OFFSET, episode_seeds, selection_episodes
        from .polish import (
            GenerationClock,
            GenerationRecord,
            fitnesses_of,
            paired_comparison,
            polish,
            polish_fitness,
            seconds_to_finish,
        )

        o, judging = self.options, self.judging
        assert judging is not None
        episodes = o.gym_polish_episodes
        fitness_of = polish_fitness(o.objective)

        def batch(generation: int) -> list[int]:
            return episode_seeds(GYM_TRAINING_OFFSET, o.seed + generation * episodes, episodes)

        structure = self.evaluator.structure(best.text, f"{best.id}.mlir")

        clock = GenerationClock()

        def out_of_time() -> bool:  # asked as each generation starts
            clock.tick()
            return self.cancel.is_set() or (
                o.budget_s is not None
                and time.perf_counter() - self._start
                > o.budget_s
                - seconds_to_finish(o, judging.episodes, judging.seconds, clock.longest)
            )

        self._log(
            f"polishing {best.id} on {episodes} fresh episodes of {judging.spec.label()} "
            f"a generation ({o.objective})"
        )
        done = polish(
            judging,
            structure,
            np.asarray(best.values),
            batch,
            o.gym_polish_generations,
            seed=int(self.rng.integers(2**31)),
            fitness_of=fitness_of,
            popsize=o.gym_polish_popsize,
            should_stop=out_of_time,
        )
        if done.generations == 0:
            self._log("no polish generation fitted in the budget")
            return best
        # both on the selection episodes, in one batch: the same flights as ``best``'s
        # selection flight, which scored it by the selection's rank rather than this fitness
        on_selection = judging.fly_many(
            [best.text, done.text], f"{best.id}-polished.mlir", selection_episodes(o)
        )
        start_check, polished_check = fitnesses_of(on_selection, fitness_of)
        comparison = paired_comparison(
            done.history,
            episodes,
            GenerationRecord(start_check, polished_check),
            o.gym_selection_episodes,
        )
        first, last = batch(0)[0], batch(done.generations - 1)[-1]
        self._polish = GymPolish(
            done.generations,
            done.evaluations,
            done.episodes,
            (first, last),
            comparison.start_fitness,
            comparison.polished_fitness,
            paired_episodes=comparison.episodes,
        )
        if done.text == best.text:
            return best
        if not comparison.keeps_polish:
            self._polish = replace(self._polish, kept=False)
            self._log(
                f"the polished {best.id} does not beat it paired on {comparison.episodes} "
                f"episodes (fitness {comparison.polished_fitness:.2f} against "
                f"{comparison.start_fitness:.2f}): kept as it was"
            )
            return best
        values = [float(v) for v in done.values]
        train = self.evaluator.fly(structure, np.array([values]))[0]  # native, for the record
        polished = Individual(
            self._next_id(),
            done.text,
            best.structure_key,
            values,
            self.fitness_of(train),
            train,
            features(done.text),
            [best.id],
            "gym-polish",
            f"CMA-ES on {judging.spec.label()} ({o.objective}), {done.generations} generations",
            generation,
        )
        self.database.all[polished.id] = polished
        return polished

    def _screened_out(self, text: str, parent: Individual) -> bool:
        """A short tuning of the proposal on the first ``screen_agents`` training
        landers: out unless it beats its parent there (a full tuning costs many times
        more). A proposal that does not compile is not screened: the full path records
        why. The screen's flights count as evaluations."""
        o = self.options
        screen = self.evaluator.on_landers(o.screen_agents, self.evaluator.seed)
        try:
            child = self.evaluator.structure(text, "screened.mlir")
            mother = self.evaluator.structure(parent.text, f"{parent.id}.mlir")
        except CompileError:
            return False
        try:
            parent_fitness = self.fitness_of(screen.fly(mother, np.array([parent.values]))[0])
            tuned = tune(
                screen,
                child,
                child.parameters.initial,
                o.screen_generations,
                seed=int(self.rng.integers(2**31)),
                popsize=o.cma_popsize,
                should_stop=self.stop,
                fitness_of=self.fitness_of,
            )
        finally:
            self.evaluator.evaluations += screen.evaluations
        return not tuned.fitness > parent_fitness

    # -- the loop ---------------------------------------------------------------------------

    def _grow_training_set_if_solved(self, generation: int) -> None:
        """Once the best lands every training lander, the training set can no longer
        tell good from better (and the search starts to fit those few landers): double
        it, up to ``max_train_agents``, and fly every living program again on it."""
        best = self._best
        if (
            best is None
            or best.train.success_rate < 1.0
            or self.evaluator.agents * 2 > self.options.max_train_agents
        ):
            return
        self.evaluator.agents *= 2
        self._best_since_growth.clear()  # another scale of fitness
        living = self.database.living()
        by_structure: dict[str, list[Individual]] = {}
        for member in living:
            by_structure.setdefault(member.structure_key, []).append(member)
        for members in by_structure.values():
            structure = self.evaluator.structure(members[0].text, f"{members[0].id}.mlir")
            outcomes = self.evaluator.fly(structure, np.array([m.values for m in members]))
            for member, outcome in zip(members, outcomes):
                member.fitness, member.train = self.fitness_of(outcome), outcome
        self._best = None
        for member in sorted(living, key=lambda m: m.id):
            self._consider_best(member)
        self._log(
            f"generation {generation}: the best landed every training lander; the "
            f"training set grows to {self.evaluator.agents} landers"
        )

    def _record_generation(self, generation: int) -> None:
        members = self.database.members()
        fitnesses = [m.fitness for m in members] or [float("-inf")]
        elapsed = time.perf_counter() - self._start
        best_cvar = self._best.train.cvar10_score if self._best is not None else None
        summary = GenerationSummary(
            generation,
            max(fitnesses),
            statistics.median(fitnesses),
            elapsed,
            self.evaluator.evaluations,
            best_cvar if best_cvar is not None and math.isfinite(best_cvar) else None,
        )
        self.history.append(summary)
        self._best_since_growth.append(summary.best_fitness)
        self.on_event(
            GenerationEnded(
                summary,
                self.evaluator.evaluations / max(elapsed, 1e-9),
                self._best.id if self._best else None,
            )
        )

    def _consider_best(self, individual: Individual) -> None:
        if self._best is None or individual.fitness > self._best.fitness:
            parent = self.database.all.get(individual.parents[0]) if individual.parents else None
            self._best = individual
            self.on_event(
                BestSoFar(
                    individual.id,
                    individual.fitness,
                    individual.text,
                    individual.train,
                    self.lineage(individual),
                    parent.text if parent else "",
                    individual.description,
                    individual.generation,
                )
            )

    def lineage(self, individual: Individual) -> tuple[LineageStep, ...]:
        """The chain of first parents back to a seed (newest first)."""
        chain, seen = [], set()
        while individual is not None and individual.id not in seen:
            seen.add(individual.id)
            chain.append(individual.lineage_step())
            individual = (
                self.database.all.get(individual.parents[0]) if individual.parents else None
            )
        return tuple(chain)

    def run(self) -> EvolutionResult:
        try:
            return self._run()
        finally:
            self.evaluator.close()
            if self._owns_judging and self.judging is not None:
                self.judging.close()

    def _run(self) -> EvolutionResult:
        self._start = self.stop.start = time.perf_counter()
        o = self.options
        seeded = []
        for path, text in self.seeds:
            if self.stop() and seeded:
                break
            individual = self._tuned_individual(
                text, path, 0, [], "seed", f"seed {path}", o.seed_tune_generations, source=path
            )
            if individual is not None:
                seeded.append(individual)
                for island in range(len(self.database.islands)):
                    self.database.add(island, individual)
                self._consider_best(individual)
                self._log(
                    f"seed {path}: training fitness {individual.fitness:.2f} "
                    f"({individual.train.landed}/{individual.train.agents} landed)"
                )
        self._record_generation(0)
        generation = 0
        while seeded and not self.stop() and (o.generations is None or generation < o.generations):
            generation += 1
            for island in range(len(self.database.islands)):
                if self.stop():
                    break
                started = time.perf_counter()
                child = self._child(island, generation)
                name, parent = self._last_choice
                if (
                    self.llm is not None
                    and name == self.proposer_name
                    and hasattr(self.llm, "feedback")
                ):
                    self.llm.feedback(parent, child)
                if self.bandit is not None:
                    gain = child.fitness - parent.fitness if child is not None else 0.0
                    self.bandit.record(name, gain, time.perf_counter() - started)
                if child is None:
                    continue
                parent = self.database.all.get(child.parents[0]) if child.parents else None
                if parent is not None and child.fitness > parent.fitness:
                    self._tally(child.mutation, "improved_parent")
                kept = self.database.add(island, child)
                if kept:
                    self._tally(child.mutation, "kept")
                if self._best is not None and child.fitness > self._best.fitness:
                    self._tally(child.mutation, "improved")
                self._consider_best(child)
            if generation % o.migrate_every == 0:
                self.database.migrate()
            self._grow_training_set_if_solved(generation)
            self._record_generation(generation)
        return self._result(generation)

    def _finalists(self) -> list[Individual]:
        """The training landers' best few distinct programs, best first."""
        ranked, seen = [], set()
        for individual in sorted(self.database.living(), key=lambda i: (-i.fitness, i.id)):
            if individual.text not in seen and individual.fitness > -np.inf:
                seen.add(individual.text)
                ranked.append(individual)
            if len(ranked) == self.options.finalists:
                break
        return ranked

    def _select_in_gym(
        self, ranked: list[Individual], judging: GymJudging
    ) -> tuple[Individual | None, tuple[GymFinalist, ...]]:
        """The winner among the finalists on the Gymnasium selection episodes, ranked by
        the objective (ties: the training landers' order)."""
        from .gym_judging import gym_scores, rank_key, selection_episodes

        seeds = selection_episodes(self.options)
        scored = []
        for place, individual in enumerate(ranked):
            report = judging.fly(individual.text, f"{individual.id}.mlir", seeds)
            key = rank_key(report, self.options.objective)
            scored.append((key, -place, individual, gym_scores(report, judging.spec)))
        scored.sort(key=lambda row: row[:2], reverse=True)
        self._log(
            f"Gymnasium selection on {len(seeds)} episodes of {judging.spec.label()}: "
            + ", ".join(f"{row[2].id} {row[3].mean_return:.1f}" for row in scored)
        )
        winner = scored[0][2] if scored else None
        return winner, tuple(GymFinalist(row[2].id, row[3]) for row in scored)

    def _select(self) -> tuple[Individual | None, SelectionScores | None]:
        """The winner: the training landers' best few (distinct programs) flown again on
        a larger selection set of another seed, and the best there. A hundred-odd
        training landers cannot tell 99% from 99.5%, and the search's favourite on them is
        partly lucky (the winner's curse); the validation landers stay unseen."""
        ranked = self._finalists()
        if len(ranked) <= 1 or self.options.selection_agents <= 0:
            return (ranked[0] if ranked else None), None
        judge = self.evaluator.on_landers(
            self.options.selection_agents, selection_seed(self.options.seed)
        )
        scored = []
        for individual in ranked:
            structure = judge.structure(individual.text, f"{individual.id}.mlir")
            outcome = judge.fly(structure, np.array([structure.parameters.initial]))[0]
            scored.append(
                (self.fitness_of(outcome), -ranked.index(individual), individual, outcome)
            )
        _, _, winner, outcome = max(scored, key=lambda row: row[:2])
        scores = outcome.to_json()  # its scores with None for what is not finite
        return winner, SelectionScores(
            scores["success_rate"],
            scores["mean_score"],
            scores["cvar10_score"],
            scores["agents"],
            judge.seed,
            tuple(row[2].id for row in scored),
        )

    def _result(self, generation: int) -> EvolutionResult:
        elapsed = time.perf_counter() - self._start
        gym_selection: tuple[GymFinalist, ...] = ()
        gym_validation: GymScores | None = None
        if self.judging is not None:
            best, gym_selection = self._select_in_gym(self._finalists(), self.judging)
            selection = None  # the Gymnasium environment chose instead of the native landers
            if best is not None and self.options.gym_polish_share > 0:
                best = self._polished(best, generation)
        else:
            best, selection = self._select()
        summary = None
        if best is not None:
            if self.judging is not None:
                from .gym_judging import gym_scores, validation_episodes

                flight = self.judging.fly(
                    best.text, f"evolved-{best.id}.mlir", validation_episodes(self.options)
                )
                gym_validation = gym_scores(flight, self.judging.spec)
            report = validate(
                best.text,
                f"evolved-{best.id}.mlir",
                self.env,
                self.options.seed,
                self.options.validation_agents,
                threads=self.options.threads,
            )
            train = best.train.to_json()  # its scores with None for what is not finite
            summary = BestProgram(
                best.id,
                None,
                best.text,
                best.fitness,
                TrainingScores(
                    train["success_rate"],
                    train["mean_score"],
                    train["cvar10_score"],
                    train["agents"],
                    self.evaluator.seed,
                ),
                ValidationScores(
                    report.success_rate,
                    report.mean_score,
                    report.cvar10_score,
                    report.agents,
                    (validation_seed(self.options.seed),),
                    report.landed,
                    report.crashed,
                    report.out_of_bounds,
                    report.timed_out,
                    report.failure,
                ),
                selection,
                self.lineage(best),
                gym_validation=gym_validation,
                gym_selection=gym_selection,
                gym_polish=self._polish,
            )
        status = "cancelled" if self.cancel.is_set() else ("ok" if best else "failed")
        evaluations = self.evaluator.evaluations
        return EvolutionResult(
            status,
            elapsed,
            generation,
            evaluations,
            evaluations / max(elapsed, 1e-9),
            summary,
            tuple(self.history),
            tuple(self.database.failures),
            tuple(path for path, _ in self.seeds),
            self.env,
            self.options,
            self.evaluator.compile_seconds,
            len(self.evaluator._structures),
            self.operators,
            self.evaluator.report(),
            self._replay_record(generation, seeded=best is not None),
            self._gym_usage(),
        )

    def _gym_usage(self) -> GymUsage | None:
        if self.judging is None:
            return None
        episodes, seconds = self.judging.episodes, self.judging.seconds
        return GymUsage(
            episodes, seconds, time.perf_counter() - self._start, episodes / max(seconds, 1e-9)
        )

    def _replay_record(self, generation: int, seeded: bool) -> ReplayRecord:
        """What a replay needs; the seeds' origins are the caller's to tell
        (``runner.run_evolution`` does), here every seed is a file."""
        o, stop = self.options, self.stop
        stopped_by = stop.reason or ("generations" if seeded else "seeds")
        notes = []
        if stopped_by == "cancelled":
            notes.append("it was cancelled by hand")
        if self.llm is not None and self.proposer_name == "llm":
            notes.append("the models' proposals are cut short by the clock")
        if self.bandit is not None:
            notes.append("the bandit weighs operators by measured seconds")
        return ReplayRecord(
            o.seed,
            stopped_by,
            stop.stopped_at if stopped_by in ("evaluations", "budget") else None,
            generation,
            tuple(
                SeedProgram(path, "file", hashlib.sha256(text.encode()).hexdigest())
                for path, text in self.seeds
            ),
            self.evaluator.seed,
            selection_seed(o.seed),
            validation_seed(o.seed),
            version(),
            source_sha256(),
            not notes,
            "; ".join(notes),
            self._polish.generations if self._polish is not None else None,
        )


def evolve(
    seeds,
    env,
    options: EvolveOptions | None = None,
    llm=None,
    on_event: Callable[[EvolutionEvent], None] | None = None,
    cancel=None,
    judging: GymJudging | None = None,
) -> EvolutionResult:
    return Evolution(seeds, env, options or EvolveOptions(), llm, on_event, cancel, judging).run()
