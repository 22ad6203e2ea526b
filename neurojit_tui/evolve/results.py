"""What an evolution is asked (``EvolveOptions``) and what it reports: the events it
streams as it runs and the ``EvolutionResult`` it ends with.

Plain frozen dataclasses, free of MLIR, numpy and the native kernels: the engine sends
them to the workstation as they are (``engine/protocol.py``), and the UI process imports
this module. ``EvolutionResult.to_json`` is what ``neurojit evolve --json`` prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..compiler.diagnostics import Diagnostic
from ..sim.model import Environment
from ..sim.report import Outcomes


@dataclass(frozen=True)
class EvolveOptions:
    generations: int | None = None  # None: until the budget ends
    budget_s: float | None = 120.0  # None: until ``generations`` or ``evaluations``
    # stop at the first point where this many training evaluations are done (replayable,
    # unlike the clock); None: no such bound
    evaluations: int | None = None
    population: int = 4  # programs kept per island
    islands: int = 2
    seed: int = 0
    use_llm: bool = True
    llm_rate: float = 0.25  # chance that a child is an LLM proposal (when agents are given)
    # "guide": the model chooses a change that a symbolic operator makes; "write": the
    # synthesis agent writes it (evolve/llm.py)
    llm_mode: str = "guide"
    # "uniform": operators at random (the proposer at llm_rate); "bandit": by measured
    # training-fitness gain per second (evolve/bandit.py), the proposer when it stalls
    operator_choice: str = "uniform"
    # a proposal (the model's or the random guide's) is first tuned briefly on this many
    # training landers and dropped unless it beats its parent there; 0: no screening
    screen_agents: int = 0
    screen_generations: int = 2
    train_agents: int = 128  # to start with: doubled whenever the best lands them all
    max_train_agents: int = 1024
    finalists: int = 8  # the training landers' best few, judged again on the selection set
    selection_agents: int = 1000  # landers of another seed that choose among the finalists
    validation_agents: int = 1000
    cma_popsize: int = 16
    seed_tune_generations: int = 30
    child_tune_generations: int = 12
    migrate_every: int = 4
    threads: int | None = None
    cluster: str | None = None  # a Ray cluster's address (or "auto") for the training flights
    # A Gymnasium environment that selects and validates (``--env ID --env-arg K=V``): its
    # id and ``gymnasium.make`` arguments, sorted by name (``gym.environments.EnvSpec``'s
    # fields, kept plain so the options stay free of gymnasium); None: the native swarm
    # alone
    env_id: str | None = None
    env_args: tuple[tuple[str, Any], ...] = ()
    # what the Gymnasium environment ranks by: "landed" (landed rate, then mean return) or
    # "return" (mean return, then CVaR-10); with env_id the native swarm trains on its
    # mean score for either (evaluation.training_fitness)
    objective: str = "landed"
    # with env_id: the native swarm trains in the environment's twin (the model with its
    # mechanics, gym/calibration.py) when it has one, not in the conditions given
    native_twin: bool = True
    gym_selection_episodes: int = 100  # per finalist, of a seed no other flight uses
    gym_validation_episodes: int = 1000  # the winner's, of another unused seed
    # the share of the time budget spent polishing the winner's constants with CMA-ES on
    # the environment's own episodes (evolve/polish.py); 0: no polish. The command line
    # and F9 give a time-budgeted --env run ENV_POLISH_SHARE unless told otherwise.
    gym_polish_share: float = 0.0
    gym_polish_generations: int = 100  # at most (a replay sets the count it ran)
    gym_polish_episodes: int = 64  # fresh training episodes each polish generation flies
    gym_polish_popsize: int = 10


# The share of its time budget a run with a Gymnasium environment polishes in it by
# default: native fitness predicts Box2D's return only in part, and the bench (docs/
# evolution.md) scores higher the more of the budget goes to the polish.
ENV_POLISH_SHARE = 0.8


# -- what the search reports as it goes ------------------------------------------------------


@dataclass(frozen=True)
class GenerationSummary:
    """One row of the search's history: the population's fitness after a generation."""

    generation: int
    best_fitness: float
    median_fitness: float
    seconds: float  # since the search started
    evaluations: int  # so far
    # the best's CVaR-10 on the training landers (None: not finite); unlike the fitness it
    # keeps telling programs apart once the best lands every training lander
    best_cvar10: float | None = None


@dataclass(frozen=True)
class GenerationEnded:
    """Event: a generation is complete."""

    summary: GenerationSummary
    evaluations_per_s: float
    best_id: str | None  # None: nothing has flown yet


@dataclass(frozen=True)
class LineageStep:
    """One program in a chain of first parents."""

    id: str
    parents: tuple[str, ...]
    mutation: str  # how it was made ("seed", an operator's name, "llm")
    description: str
    generation: int
    structure: str
    tuned_parameters: tuple[float, ...]
    source: str  # the seed file or registry entry it descends from, for seeds
    fitness: float  # on the training landers


@dataclass(frozen=True)
class BestSoFar:
    """Event: a program fitter on the training landers than any before it."""

    id: str
    fitness: float
    text: str
    train: Outcomes
    lineage: tuple[LineageStep, ...]  # newest first, back to a seed
    parent_text: str  # its first parent's program; "" for a seed
    description: str
    generation: int


@dataclass(frozen=True)
class FailedCandidate:
    """Event, and a row of the result: a candidate that did not compile or fly."""

    generation: int
    mutation: str
    description: str
    parents: tuple[str, ...]
    reason: str
    diagnostics: tuple[Diagnostic, ...] = ()  # why it does not compile


@dataclass(frozen=True)
class SearchLog:
    """Event: a line of the search's narration."""

    message: str


EvolutionEvent = GenerationEnded | BestSoFar | FailedCandidate | SearchLog


# -- what it ends with -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """A program's scores on a set of landers."""

    success_rate: float
    # None on the training and selection landers when nothing finite was scored; the
    # validation report keeps its -inf
    mean_score: float | None
    cvar10_score: float | None
    agents: int


@dataclass(frozen=True)
class TrainingScores(Scores):
    seed: int


@dataclass(frozen=True)
class SelectionScores(Scores):
    """The winner's scores on the landers that chose it among the finalists."""

    seed: int
    finalists: tuple[str, ...]  # their ids


@dataclass(frozen=True)
class ValidationScores(Scores):
    """The winner flown as written on landers the search never flew."""

    seeds: tuple[int, ...]
    landed: int
    crashed: int
    out_of_bounds: int
    timed_out: int
    failure: str | None


@dataclass(frozen=True)
class GymScores:
    """A program flown on Gymnasium episodes (``gym.judge.Judge``): the environment's own
    episode return and landings."""

    env: str  # the environment's label: its id and arguments
    episodes: int
    mean_return: float
    cvar10: float | None  # None: no episode ended
    landed: float  # share of episodes
    solved: float  # share of episodes with a return >= 200
    seeds: tuple[int, int]  # the episodes' reset seeds: first, last
    failure: str | None = None  # an assert violation that ended the flight


@dataclass(frozen=True)
class GymFinalist:
    """A finalist's scores on the Gymnasium selection episodes."""

    id: str
    scores: GymScores


@dataclass(frozen=True)
class GymPolish:
    """The winner's constants tuned on the environment's own training episodes."""

    generations: int  # CMA-ES generations run
    evaluations: int  # parameter vectors flown
    episodes: int  # Gymnasium episodes flown
    episode_seeds: tuple[int, int]  # the training episodes' reset seeds: first, last
    # the unpolished winner's and the polished program's mean fitness, paired on the same
    # episodes: the selection episodes and the last generations' batches (where the
    # strategy's centre flew for the polished program)
    start_fitness: float
    fitness: float
    # whether the polished program replaced the winner: only when it is the fitter there
    kept: bool = True
    paired_episodes: int = 0  # the episodes that comparison rests on


@dataclass(frozen=True)
class RegistryVerdict:
    """Whether the registry stored the winner (``memory.admission.remember_if_better``)."""

    stored: bool
    key: str
    reason: str
    validation: dict[str, Any]  # the winner's scores as admission compared them
    rivals: dict[str, dict[str, Any]]  # the stored entry's and each sample's, by name


@dataclass(frozen=True)
class BestProgram:
    """The winner of a search."""

    id: str
    path: str | None  # where the CLI wrote it, if it did
    source: str
    fitness: float  # on the training landers
    train: TrainingScores
    validation: ValidationScores
    selection: SelectionScores | None  # None: there was only one finalist
    lineage: tuple[LineageStep, ...]  # newest first, back to a seed
    registry: RegistryVerdict | None = None  # None: it was offered to no registry
    # with a Gymnasium environment (options.env_id): the winner on its validation episodes,
    # and every finalist on its selection episodes, in the order they were ranked there
    gym_validation: GymScores | None = None
    gym_selection: tuple[GymFinalist, ...] = ()
    gym_polish: GymPolish | None = None  # None: not polished


@dataclass(frozen=True)
class OperatorStats:
    """How an operator's children fared."""

    tried: int = 0
    kept: int = 0
    failed: int = 0
    not_applicable: int = 0
    improved: int = 0  # fitter than the best before them
    improved_parent: int = 0  # fitter than their (first) parent on the training landers
    screened_out: int = 0  # proposals whose short tuning on a few landers beat no parent


@dataclass(frozen=True)
class SeedProgram:
    """A program the search started from, and where it came from, so that a replay
    can find it again and tell when it changed."""

    path: str  # as the run named it: a file, a sample, "registry:KEY12", the editor's
    origin: str  # "file", "sample", "registry" or "editor"
    sha256: str  # of its text
    key: str | None = None  # the registry entry's full key (origin "registry")


@dataclass(frozen=True)
class ReplayRecord:
    """What rerunning a search needs to give the same best: its seed, where it stopped,
    its seed programs and the landers' seeds (``neurojit evolve --replay RUN.json``).

    ``evaluations`` is the training-evaluation count at which the search stopped: a
    budget run replays exactly with that bound instead of the clock (``StopRule``)."""

    seed: int
    stopped_by: str  # "generations", "evaluations", "budget", "cancelled" or "seeds"
    evaluations: int | None  # None: it ran its generations (or no seed flew)
    generations: int  # completed
    seeds: tuple[SeedProgram, ...]
    train_seed: int
    selection_seed: int
    validation_seed: int
    version: str  # the project's version
    source_sha256: str  # of the project's Python source: another one may search otherwise
    replayable: bool
    note: str  # why it may not replay byte for byte, when it may not
    polish_generations: int | None = None  # the Gymnasium polish's CMA-ES generations


@dataclass(frozen=True)
class GymUsage:
    """Where a run with a Gymnasium environment spent its time."""

    episodes: int  # Gymnasium episodes flown (selection, polish, validation)
    seconds: float  # in those flights: Box2D (or the env's) steps, the workers, the controller
    total_seconds: float  # the whole run, native search and Gymnasium flights
    episodes_per_s: float


@dataclass(frozen=True)
class EvolutionResult:
    status: str  # "ok", "cancelled", "failed" (nothing flew)
    seconds: float
    generations: int
    evaluations: int
    evaluations_per_s: float
    best: BestProgram | None
    history: tuple[GenerationSummary, ...] = ()
    failures: tuple[FailedCandidate, ...] = ()
    seeds: tuple[str, ...] = ()  # their paths
    environment: Environment = field(default_factory=Environment)
    options: EvolveOptions = field(default_factory=EvolveOptions)
    compile_seconds: float = 0.0
    structures: int = 0
    operators: dict[str, OperatorStats] = field(default_factory=dict)  # by operator name
    # on a cluster: evaluations per node (the cluster's own report, RayCluster.report)
    cluster: dict[str, Any] = field(default_factory=dict)
    replay: ReplayRecord | None = None
    gym: GymUsage | None = None  # with a Gymnasium environment

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.best is not None and self.best.registry is None:
            # the JSON of a best offered to no registry has always had no "registry" key
            del data["best"]["registry"]
        return data

    @property
    def registry_seeds(self) -> tuple[SeedProgram, ...]:
        """The seed programs the registry's memory of earlier runs contributed."""
        return tuple(s for s in self.replay.seeds if s.origin == "registry") if self.replay else ()
