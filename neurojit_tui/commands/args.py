"""The command line's shared pieces: program files, numbers in range (argparse refuses
what is out of range, saying the range), and the flags several commands share
(conditions, cluster, models). Nothing here loads MLIR."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ..bounded import bounded_float
from ..sim.model import GRAVITY_RANGE, TURBULENCE_RANGE, Environment
from .base import CommandError

# Far above any TensorLang program; what is larger (or endless, like /dev/zero) is not one.
MAX_PROGRAM_BYTES = 16 * 2**20


def read_program(path: str) -> str:
    """The text of a program file; for one that cannot be read, is not UTF-8 or is too
    large, a one-line ``FILE: error: ...`` and exit status 1."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_PROGRAM_BYTES + 1)
    except OSError as error:
        raise SystemExit(f"{path}: error: cannot read it: {error.strerror or error}") from None
    if len(data) > MAX_PROGRAM_BYTES:
        raise SystemExit(
            f"{path}: error: larger than {MAX_PROGRAM_BYTES // 2**20} MiB, "
            f"so not a TensorLang program"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SystemExit(
            f"{path}: error: not UTF-8 text (byte 0x{data[error.start]:02x} on "
            f"line {line}, offset {error.start}); TensorLang files are UTF-8"
        ) from None


# -- numbers on the command line -------------------------------------------------------------


def int_in(low: int, high: int) -> Callable[[str], int]:
    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{value} is out of range: give an integer from {low:,} to {high:,}"
            )
        return value

    return integer


def float_in(low: float, high: float, low_open: bool = False) -> Callable[[str], float]:
    def number(text: str) -> float:
        try:
            return bounded_float(text, low, high, low_open)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return number


AGENTS = int_in(1, 10**9)  # the memory guard (check_swarm_memory) has the last word
SEED_MAX = 2**63 - 1
SEED = int_in(0, SEED_MAX)  # the noise generator's seed is an unsigned 64-bit number
MODEL_SEED = int_in(0, 2**32 - 1)  # llama.cpp's seed is 32 bits
STEPS = int_in(1, 10**7)
THREADS = int_in(1, 1024)
WORKERS = int_in(0, 1024)
COUNT = int_in(1, 10**6)  # candidates, attempts, repeats, episodes...
EVALUATIONS = int_in(1, 10**12)  # training evaluations of a search
GRAVITY = float_in(*GRAVITY_RANGE)  # m/s^2
TURBULENCE = float_in(*TURBULENCE_RANGE)
SECONDS = float_in(0.0, 10.0**7, low_open=True)
FPS = float_in(0.0, 1000.0, low_open=True)


# -- flags that several commands share ---------------------------------------------------------


def add_condition_flags(parser: argparse.ArgumentParser) -> None:
    """--gravity and --turbulence: the conditions the landers fly in (the Moon's unless
    given), for every command that flies them."""
    # None when not given, so a command can tell (evolve --env trains in its twin then)
    parser.add_argument(
        "--gravity", type=GRAVITY, default=None, help="m/s^2 (default: the Moon's, 1.62)"
    )
    parser.add_argument("--turbulence", type=TURBULENCE, default=None, help="0 = calm (default 1)")


def conditions_given(args: argparse.Namespace) -> bool:
    """Whether --gravity or --turbulence was given."""
    return args.gravity is not None or args.turbulence is not None


def environment_from(args: argparse.Namespace, warn: bool = True) -> Environment:
    """The conditions the flags ask for (the Moon's where not given); with ``warn``, a
    warning on stderr if no controller can land under them (the run still goes ahead:
    its numbers say so too)."""
    moon = Environment()
    env = Environment(
        gravity=moon.gravity if args.gravity is None else args.gravity,
        turbulence=moon.turbulence if args.turbulence is None else args.turbulence,
    )
    if warn and (reason := env.impossible()) is not None:
        print(f"neurojit: warning: {reason}", file=sys.stderr)
    return env


def add_cluster_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cluster",
        metavar="auto|ADDRESS",
        default=None,
        help="fly on a Ray cluster: auto (the one started on this machine) or the "
        "head's HOST:PORT; none: this machine, whatever ~/.neurojit/config.toml "
        "says ([cluster] address)",
    )


def cluster_address(flag: str | None) -> str | None:
    """The Ray cluster a command flies on: ``flag`` (auto, an address, none), else
    ``[cluster] address`` of the config file; None: this machine. One that does not
    answer is refused here, before the command does anything (this does not import Ray)."""
    from ..cluster import ClusterError, resolve_address
    from ..cluster.config import concrete_address, probe

    try:
        address = resolve_address(flag)
        if address is not None:
            probe(concrete_address(address))
        return address
    except ClusterError as error:
        raise CommandError(str(error)) from None


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reasoning-model", help="embedded model name or GGUF path")
    parser.add_argument("--synthesis-model", help="embedded model name or GGUF path")
    parser.add_argument(
        "--threads", type=THREADS, default=None, help="llama.cpp threads (default: physical cores)"
    )
    parser.add_argument("--model-seed", type=MODEL_SEED, default=None)
    parser.add_argument(
        "--agent-set",
        action="append",
        metavar="ROLE.KEY=VALUE",
        help="any agent setting, e.g. synthesis.temperature=0.2 or "
        "reasoning.n_ctx=4096 (repeatable)",
    )


def agent_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The model flags (``add_model_flags``): what they override of the config file, per
    agent role."""
    shared = {"n_threads": args.threads, "n_threads_batch": args.threads, "seed": args.model_seed}
    overrides: dict[str, dict[str, Any]] = {
        "reasoning": {"model": args.reasoning_model, **shared},
        "synthesis": {"model": args.synthesis_model, **shared},
    }
    for setting in args.agent_set or []:
        name, _, value = setting.partition("=")
        role, _, key = name.partition(".")
        if role not in overrides or not key or not value:
            raise SystemExit(
                f"neurojit: --agent-set wants ROLE.KEY=VALUE with ROLE reasoning "
                f"or synthesis, got {setting!r}"
            )
        try:
            overrides[role][key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[role][key] = value  # a path or a model name
    return overrides


def print_diagnostics(diagnostics: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps([d.to_json() for d in diagnostics], indent=2))
    else:
        for d in diagnostics:
            print(d.format(), file=sys.stderr)


# An upper bound of a swarm run's memory: per lander (its state and parameters, and the
# temporaries that set them up) and once per process (MLIR, the compiled kernel).
# tests/test_cli_input.py measures a real run against it.
SWARM_BYTES_PER_AGENT = 256
SWARM_BASE_BYTES = 512 * 2**20


def check_swarm_memory(agents: int) -> None:
    """Refuse, before anything is allocated, a swarm that does not fit in the memory
    available now (it would push the machine into swapping or the kernel's OOM killer)."""
    import psutil

    need = SWARM_BASE_BYTES + agents * SWARM_BYTES_PER_AGENT
    available = psutil.virtual_memory().available
    if need > available:
        fit = max(0, (available - SWARM_BASE_BYTES) // SWARM_BYTES_PER_AGENT)
        raise CommandError(
            f"a swarm of {agents:,} landers needs about "
            f"{need / 2**30:.1f} GiB of memory and {available / 2**30:.1f} GiB is "
            f"available; at most {fit:,} landers fit"
        )
