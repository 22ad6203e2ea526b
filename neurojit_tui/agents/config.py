"""Agent settings: defaults, then ``~/.neurojit/config.toml``, then command-line flags.

    [reasoning]                 # and [synthesis]
    model = "smollm2-135m"      # an embedded model's name or a path to a GGUF file
    n_ctx = 2048
    temperature = 0.7
    seed = 0
    n_threads = 2               # default: physical cores
    n_threads_batch = 2
    max_tokens = 256

``NEUROJIT_HOME`` moves ``~/.neurojit`` (tests use a temporary folder).
"""

from __future__ import annotations

from dataclasses import fields, replace

from ..config import ConfigError, config_path, read_config
from .backend import GEMMA3, SMOLLM2, ModelConfig, ModelError

ROLES = ("reasoning", "synthesis")
# Measured (see docs/agents.md): the instruct SmolLM2 answers the strategy question quickly; the
# Gemma base model follows the example program line by line far more faithfully.
DEFAULTS = {
    "reasoning": ModelConfig(model=SMOLLM2, temperature=0.7),
    # A mutation keeps the parent's whole body in the prompt: room for the largest sample.
    "synthesis": ModelConfig(model=GEMMA3, temperature=0.3, n_ctx=4096),
}


def load_agent_configs(overrides: dict[str, dict] | None = None) -> dict[str, ModelConfig]:
    """Per role: defaults <- config file <- ``overrides`` (e.g. from CLI flags)."""
    path = config_path()
    try:
        from_file = read_config()
    except ConfigError as error:
        raise ModelError(f"{error} (the agent configuration)") from None
    known = {f.name for f in fields(ModelConfig)}
    configs = {}
    for role in ROLES:
        settings = dict(from_file.get(role, {}))
        settings.update({k: v for k, v in (overrides or {}).get(role, {}).items() if v is not None})
        unknown = set(settings) - known
        if unknown:
            raise ModelError(
                f"{path}: unknown setting(s) for [{role}]: {', '.join(sorted(unknown))}"
            )
        configs[role] = replace(DEFAULTS[role], **settings)
    return configs
