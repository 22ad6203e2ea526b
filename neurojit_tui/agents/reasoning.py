"""The reasoning agent: from the environment (and what is known) to a control strategy.

Its answer is JSON under a small grammar (controller family, gains, rationale), so it is
structured data the synthesis agent and the UI can use, while the text streams live.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass

from .backend import Backend, TokenCallback

FAMILIES = ("pd", "pid", "heuristic", "mlp")

STRATEGY_GRAMMAR = (
    r"""
root ::= "{\"family\": \"" family "\", \"kp\": " number ", \"kd\": " number ", \"ki\": " number ", \"rationale\": \"" text "\"}"
family ::= """
    + " | ".join(f'"{f}"' for f in FAMILIES)
    + r"""
number ::= "-"? [0-9] "." [0-9] [0-9]?
text ::= [a-zA-Z0-9 ,.;:()/+=-]{1,80}
"""
)


@dataclass
class Strategy:
    family: str
    kp: float
    kd: float
    ki: float = 0.0
    rationale: str = ""

    def describe(self) -> str:
        return f"{self.family} controller, gains kp={self.kp:g} kd={self.kd:g} ki={self.ki:g}" + (
            f"; {self.rationale}" if self.rationale else ""
        )

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Reasoning:
    strategy: Strategy | None
    prompt: str
    output: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    error: str | None = None


def parse_strategy(text: str) -> Strategy:
    data = json.loads(text)
    return Strategy(
        data["family"],
        float(data["kp"]),
        float(data["kd"]),
        float(data["ki"]),
        str(data.get("rationale", "")),
    )


def environment_prompt(env, known: list[str] | None = None, failure: str | None = None) -> str:
    lines = [
        "You are a control engineer. A lunar lander must land softly on a pad.",
        f"Gravity: {env.gravity:g} m/s^2. Turbulence: {env.turbulence:g} (gravity noise and "
        f"lateral wind). Main engine: {env.main_engine_accel:g} m/s^2 at full throttle. "
        f"Side engine: {env.side_engine_accel:g} m/s^2. Touchdown faster than "
        f"{env.crash_speed:g} m/s crashes.",
        "Observation: x, y, vx, vy, angle, angular velocity, two leg contacts (normalized).",
        "Action: main engine and lateral engine in [-1, 1].",
    ]
    if known:
        lines.append("Candidates tried so far: " + "; ".join(known))
    if failure:
        lines.append("The current controller failed: " + failure)
    lines.append("Answer with a strategy as JSON: controller family, gains and a short rationale.")
    return "\n".join(lines) + "\n"


class ReasoningAgent:
    def __init__(self, backend: Backend):
        self.backend = backend

    def strategy(
        self,
        env,
        known: list[str] | None = None,
        failure: str | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        seed: int | None = None,
    ) -> Reasoning:
        start = time.perf_counter()
        prompt = environment_prompt(env, known, failure)
        generation = self.backend.generate(
            prompt,
            grammar=STRATEGY_GRAMMAR,
            max_tokens=200,
            on_token=on_token,
            cancel=cancel,
            seed=seed,
        )
        result = Reasoning(
            None,
            prompt,
            generation.text,
            generation.prompt_tokens,
            generation.completion_tokens,
            cancelled=generation.cancelled,
        )
        if not generation.cancelled:
            try:
                result.strategy = parse_strategy(generation.text)
            except (ValueError, KeyError) as error:  # token budget cut the JSON short
                result.error = f"the reasoning agent's answer is not a strategy: {error}"
        result.seconds = time.perf_counter() - start
        return result
