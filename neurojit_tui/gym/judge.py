"""The parallel judge: a compiled controller flown for a list of episode seeds in a
Gymnasium environment, the environments stepping in worker processes.

The workers are Gymnasium's own ``AsyncVectorEnv``, autoreset disabled; each worker
process holds a group of ``envs_per_worker`` environments (``groups.EnvGroup``: one
message per group and step, not per environment). The controller runs in this process,
called for every flying environment at every step through its native entry point. Each
environment flies one episode at a time and is reset with the next episode's seed when it
finishes, so episode ``i`` is reset with ``seeds[i]`` whatever the number of workers: the
returns equal ``fly(..., seeds=seeds)``'s, episode by episode.

A ``Judge`` keeps its workers across flights (the search asks it about many controllers);
close it, or use it as a context manager.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode

from ..compiler.dialect import (
    CONTROL_ACTION_SIZE,
    CONTROL_ENTRY,
    CONTROL_MEM_SIZE,
    CONTROL_OBS_SIZE,
)
from ..compiler.hotswap import CONTROL_FUNCTION
from .environments import EnvSpec, FlightError, as_env_spec, clip_action, make_env
from .fly import DEFAULT_MAX_STEPS, FlightReport
from .groups import IDLE, LANDED, RESET, REWARD, STEP, TERMINATED, TRUNCATED, EnvGroupFactory

# Worker processes start from a fresh interpreter (forked from a server process that
# Python starts once), not from a fork of this one: this process holds LLVM's JIT and
# maybe other threads, which a fork does not carry over safely. As with any such start
# method, a script that makes a Judge must guard its main code (`if __name__ == ...`).
WORKER_CONTEXT = "forkserver"
DEFAULT_ENVS_PER_WORKER = 32


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def row_addresses(array: np.ndarray) -> list[int]:
    """The address of each row of a C-contiguous 2-d ``array``."""
    return [array.ctypes.data + i * array.strides[0] for i in range(array.shape[0])]


def slots_by_turn(workers: int, envs_per_worker: int) -> np.ndarray:
    """The slots in the order worker 0's first, worker 1's first, ..., worker 0's
    second, ... (slot ``w * envs_per_worker + e`` is worker ``w``'s ``e``-th)."""
    return np.arange(workers * envs_per_worker).reshape(workers, envs_per_worker).T.reshape(-1)


class Judge:
    """Flies controllers in ``env`` on ``workers`` worker processes (default: one per
    core), each stepping ``envs_per_worker`` environments. Raises ``FlightError`` if the
    environment cannot be made or does not fit the controller ABI."""

    def __init__(
        self,
        env: EnvSpec | str,
        workers: int | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        envs_per_worker: int = DEFAULT_ENVS_PER_WORKER,
        context: str = WORKER_CONTEXT,
    ):
        self.spec = as_env_spec(env)
        self.workers = workers if workers is not None else default_workers()
        if self.workers < 1 or envs_per_worker < 1:
            raise ValueError("workers and envs_per_worker must be at least 1")
        self.envs_per_worker = envs_per_worker
        self.max_steps = max_steps
        probe = make_env(self.spec)  # the one-line errors, before any worker starts
        self.action_space = probe.action_space
        probe.close()
        self._envs: AsyncVectorEnv | None = AsyncVectorEnv(
            [EnvGroupFactory(self.spec, envs_per_worker)] * self.workers,
            copy=False,  # fly() copies the rows it reads
            context=context,
            autoreset_mode=AutoresetMode.DISABLED,
        )
        self._guarded(self._envs.reset)  # each member's first reset (the env checker's)

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._envs is not None:
            envs, self._envs = self._envs, None
            envs.close()

    def fly(self, program, seeds: Sequence[int]) -> FlightReport:
        """Fly ``program`` (a compiled controller) for one episode per seed. The report
        lists the episodes in the order of ``seeds``. An assert violation ends the flight:
        the report then holds the episodes that had ended and the violating one (its
        return so far), and ``violation`` says which assert."""
        return self.fly_many([program], seeds)[0]

    def fly_many(self, programs: Sequence, seeds: Sequence[int]) -> list[FlightReport]:
        """Fly each of ``programs`` for one episode per seed, all their episodes in one
        batch: a worker whose environment ends an episode takes the next one, whichever
        program flies it, so no core waits for one program's longest episode. Each
        report is what ``fly(program, seeds)`` gives (the same returns, episode by
        episode); an assert violation ends only its own program's flight."""
        if self._envs is None:
            raise RuntimeError("the judge is closed")
        if any(not 0 <= int(seed) <= np.iinfo(np.int64).max for seed in seeds):
            raise ValueError("episode seeds must be integers in [0, 2**63)")
        envs, count = self._envs, len(seeds)
        total = count * len(programs)  # episode e: program e // count, seed e % count
        slots = self.workers * self.envs_per_worker  # one environment each
        controls = [CONTROL_FUNCTION(p.address(CONTROL_ENTRY)) for p in programs]
        observations = np.zeros((slots, CONTROL_OBS_SIZE))
        mem = np.zeros((slots, CONTROL_MEM_SIZE))
        mem_out = np.zeros((slots, CONTROL_MEM_SIZE))
        actions = np.zeros((slots, CONTROL_ACTION_SIZE))
        obs_rows, mem_rows, action_rows, mem_out_rows = (
            row_addresses(a) for a in (observations, mem, actions, mem_out)
        )
        shape = (self.workers, self.envs_per_worker)
        batch = {
            "action": np.zeros((*shape, CONTROL_ACTION_SIZE), dtype=self.action_space.dtype),
            "command": np.full(shape, IDLE, dtype=np.int64),
            "seed": np.zeros(shape, dtype=np.int64),
        }
        commands, batch_seeds = batch["command"].reshape(-1), batch["seed"].reshape(-1)
        batch_actions = batch["action"].reshape(slots, CONTROL_ACTION_SIZE)
        batch_actions[:] = clip_action(np.zeros(CONTROL_ACTION_SIZE), self.action_space)
        episode_of = np.full(slots, -1)  # the episode each slot flies; -1: none
        totals = np.zeros(slots)
        episode_steps = np.zeros(slots, dtype=np.int64)
        returns = np.zeros(total)
        landings = np.zeros(total, dtype=bool)
        ended = np.zeros(total, dtype=bool)
        steps = np.zeros(len(programs), dtype=np.int64)
        controller_seconds = np.zeros(len(programs))
        violations: list = [None] * len(programs)
        start = time.perf_counter()
        for program in programs:
            program.take_assert_violation()  # a stale status word is not this flight's
        queue = iter(range(total))

        def take_next(slot: int) -> None:
            """Give ``slot`` the next episode of a program still flying, or nothing."""
            totals[slot], episode_steps[slot], mem[slot] = 0.0, 0, 0.0
            for episode in queue:
                if violations[episode // count] is None:
                    episode_of[slot], commands[slot] = episode, RESET
                    batch_seeds[slot] = seeds[episode % count]
                    return
            episode_of[slot], commands[slot] = -1, IDLE

        # The first episodes go to the workers in turn, so that a flight of fewer
        # episodes than slots still keeps every worker (every core) busy.
        for slot in slots_by_turn(self.workers, self.envs_per_worker):
            take_next(int(slot))
        while (episode_of >= 0).any():
            for i in np.flatnonzero(commands == STEP):
                flown = episode_of[i] // count
                if violations[flown] is not None:  # its program's flight has ended
                    take_next(i)
                    continue
                before = time.perf_counter()
                controls[flown](obs_rows[i], mem_rows[i], action_rows[i], mem_out_rows[i])
                controller_seconds[flown] += time.perf_counter() - before
                violation = programs[flown].take_assert_violation()
                if violation is not None:
                    violations[flown] = violation
                    returns[episode_of[i]], ended[episode_of[i]] = totals[i], True
                    take_next(i)
            flying = np.flatnonzero(commands == STEP)
            mem[flying] = mem_out[flying]  # only theirs: the others' rows are stale
            batch_actions[flying] = clip_action(actions[flying], self.action_space)
            rows, *_ = self._guarded(envs.step, batch)
            rows = rows.reshape(slots, -1)
            observations[:] = rows[:, :CONTROL_OBS_SIZE]
            outcome = rows[:, CONTROL_OBS_SIZE:]
            np.add.at(steps, episode_of[flying] // count, 1)
            totals[flying] += outcome[flying, REWARD]
            episode_steps[flying] += 1
            terminated = outcome[:, TERMINATED] != 0
            finished = np.zeros(slots, dtype=bool)
            finished[flying] = (
                terminated | (outcome[:, TRUNCATED] != 0) | (episode_steps >= self.max_steps)
            )[flying]
            commands[commands == RESET] = STEP  # reset this step: they fly from the next
            for i in np.flatnonzero(finished):
                episode = episode_of[i]
                returns[episode], ended[episode] = totals[i], True
                landings[episode] = terminated[i] and outcome[i, LANDED] != 0
                take_next(i)

        seconds = time.perf_counter() - start
        reports = []
        for p in range(len(programs)):
            flown = [e for e in range(p * count, (p + 1) * count) if ended[e]]
            reports.append(
                FlightReport.of_episodes(
                    self.spec,
                    [float(returns[e]) for e in flown],
                    [bool(landings[e]) for e in flown],
                    [int(seeds[e % count]) for e in flown],
                    # the batch's time, shared by the programs' steps
                    seconds=seconds * steps[p] / max(1, int(steps.sum())),
                    steps=int(steps[p]),
                    workers=self.workers,
                    controller_seconds=float(controller_seconds[p]),
                    violation=violations[p],
                )
            )
        return reports

    def _guarded(self, call, *args, **kwargs):
        """``call`` on the workers; an environment's error closes the judge and becomes a
        ``FlightError``."""
        try:
            return call(*args, **kwargs)
        except Exception as error:
            self.close()
            message = str(error).splitlines()[0] if str(error) else ""
            raise FlightError(
                f"{self.spec.label()}: the environment failed: {type(error).__name__}: {message}"
            ) from None
