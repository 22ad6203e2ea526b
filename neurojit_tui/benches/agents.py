"""``neurojit bench inference`` and ``neurojit bench repair``."""

from __future__ import annotations

import random
import re
import statistics
import threading
import time
from dataclasses import replace

from ..agents.backend import (
    GEMMA3,
    GRAMMAR_ENGINE,
    LLAMA_CPP,
    LLGUIDANCE,
    SMOLLM2,
    LlamaBackend,
    ModelConfig,
    compile_grammar,
    physical_cores,
)
from ..agents.grammar import full_grammar_sample
from ..agents.repair import RepairSession
from ..agents.synthesis import SynthesisAgent, example_program
from ..compiler import Compiler
from ..paths import controller_samples

# -- inference -------------------------------------------------------------------------------


class CoreSampler:
    """Per-core CPU load (psutil) sampled in the background while a block runs."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.samples: list[list[float]] = []
        self._stop = threading.Event()

    def __enter__(self):
        import psutil

        psutil.cpu_percent(percpu=True)

        def run():
            while not self._stop.wait(self.interval):
                self.samples.append(psutil.cpu_percent(percpu=True))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def per_core_mean(self) -> list[float]:
        if not self.samples:
            return []
        return [statistics.mean(core) for core in zip(*self.samples)]


def _prompt_eval(backend: LlamaBackend, prompt: str) -> tuple[float, int, list[float]]:
    backend.llm.reset()  # no cached prefix: evaluate the whole prompt
    with CoreSampler() as sampler:
        generation = backend.generate(prompt, max_tokens=1)
    return generation.seconds, generation.prompt_tokens, sampler.per_core_mean()


class TokenClock:
    """A backend wrapper that timestamps every streamed piece, per generate call.

    The gaps between consecutive pieces of one call are the per-token cost of decoding
    and sampling alone: the prompt's evaluation and the grammar's set-up come before
    the first piece, so they are not in them."""

    def __init__(self, backend):
        self.backend = backend
        self.identity = backend.identity
        self.calls: list[list[float]] = []
        self.prompts: list[str] = []
        self.mask_seconds: list[float] = []  # inside the grammar's logits processor

    def generate(
        self,
        prompt,
        grammar=None,
        max_tokens=None,
        on_token=None,
        cancel=None,
        stop=None,
        seed=None,
    ):
        stamps: list[float] = []
        self.calls.append(stamps)
        self.prompts.append(prompt)
        self.backend.last_grammar_mask = None
        generation = self.backend.generate(
            prompt,
            grammar,
            max_tokens,
            lambda piece: stamps.append(time.perf_counter()),
            cancel,
            stop,
            seed,
        )
        if self.backend.last_grammar_mask is not None:
            self.mask_seconds += self.backend.last_grammar_mask.seconds
        return generation

    def gaps(self) -> list[float]:
        return [b - a for stamps in self.calls for a, b in zip(stamps, stamps[1:])]


SYNTHESIS_LINES = 4  # the program's first lines, as the synthesis agent writes them


def _synthesis_lines(backend, engine: str, clock: TokenClock, lines: int = SYNTHESIS_LINES) -> None:
    """The synthesis agent's first ``lines`` lines, each under the line grammar it really
    uses there, with the grammar applied by ``engine``."""
    backend.grammar_engine = engine
    try:
        SynthesisAgent(clock, max_lines=lines).write(None, seed=0)
    finally:
        backend.grammar_engine = GRAMMAR_ENGINE


def bench_inference(models=(SMOLLM2, GEMMA3), tokens: int = 64, rounds: int = 3) -> list[dict]:
    """Per model: load, prompt evaluation, and, in ``rounds`` interleaved rounds, free
    generation from the synthesis agent's own prompt and the agent's first lines under its
    line grammar with llguidance (what the agents use); in the first round also with
    llama.cpp's own grammar sampler (the baseline). Per-token times are medians of the gaps between
    streamed tokens (``TokenClock``), robust to other work on the machine;
    ``grammar_ms_per_token`` is what the grammar adds to a token over free generation."""
    import multiprocessing

    prompt = ("// TensorLang controllers for the lunar lander.\n" + example_program()) * 4
    rows = []
    for model in models:
        t0 = time.perf_counter()
        ours = LlamaBackend(ModelConfig(model=model, temperature=0.7, max_tokens=tokens))
        load_s = time.perf_counter() - t0
        eval_s, prompt_tokens, ours_cores = _prompt_eval(ours, prompt)
        t0 = time.perf_counter()
        ours.grammar_tokenizer()
        tokenizer_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        compile_grammar(full_grammar_sample())
        grammar_compile_s = time.perf_counter() - t0
        free, guided, baseline = TokenClock(ours), TokenClock(ours), TokenClock(ours)
        for round_ in range(rounds):
            _synthesis_lines(ours, LLGUIDANCE, guided)
            ours.llm.reset()
            free.generate(guided.prompts[0], max_tokens=tokens, seed=0)
            if round_ == 0:  # the slow baseline once: its cost is an order of magnitude
                _synthesis_lines(ours, LLAMA_CPP, baseline)
        del ours
        # llama-cpp-python's own defaults: n_threads = cpu_count // 2, n_threads_batch = cpu_count
        cpus = multiprocessing.cpu_count()
        default_config = replace(
            ModelConfig(model=model), n_threads=max(cpus // 2, 1), n_threads_batch=cpus
        )
        default = LlamaBackend(default_config)
        default_eval_s, _, default_cores = _prompt_eval(default, prompt)
        default.llm.reset()
        default_free = default.generate("Write a lunar lander controller.\n", max_tokens=tokens)
        del default
        free_s = statistics.median(free.gaps())
        grammar_s = statistics.median(guided.gaps())
        llama_grammar_s = statistics.median(baseline.gaps())
        rows.append(
            {
                "model": model,
                "load_s": load_s,
                "prompt_tokens": prompt_tokens,
                "prompt_eval_tokens_per_s": prompt_tokens / eval_s,
                "generation_tokens_per_s": 1 / free_s,
                "grammar_engine": LLGUIDANCE,
                "grammar_tokens_per_s": 1 / grammar_s,
                "grammar_ms_per_token": 1e3 * (grammar_s - free_s),
                "grammar_tokens": len(guided.gaps()) + len(guided.calls),
                "grammar_mask_ms_per_token": 1e3 * statistics.mean(guided.mask_seconds),
                "grammar_lines": SYNTHESIS_LINES,
                "rounds": rounds,
                "llama_cpp_grammar_tokens_per_s": 1 / llama_grammar_s,
                "llama_cpp_grammar_ms_per_token": 1e3 * (llama_grammar_s - free_s),
                "grammar_tokenizer_s": tokenizer_s,
                "grammar_compile_ms": 1e3 * grammar_compile_s,
                "threads": {"n_threads": physical_cores(), "n_threads_batch": physical_cores()},
                "prompt_eval_core_load": ours_cores,
                "default_threads": {
                    "n_threads": default_config.n_threads,
                    "n_threads_batch": default_config.n_threads_batch,
                },
                "default_prompt_eval_tokens_per_s": prompt_tokens / default_eval_s,
                "default_prompt_eval_core_load": default_cores,
                "default_generation_tokens_per_s": default_free.tokens_per_s,
            }
        )
    return rows


def format_inference_table(rows) -> str:
    lines = [
        f"{'model':<14} {'load':>6} {'prompt eval':>12} {'generation':>11} {'grammar':>9} "
        f"{'grammar cost':>13} {'llama.cpp grammar':>18}  "
        f"core load during prompt eval (ours | llama-cpp-python default)"
    ]
    for r in rows:
        load = " ".join(f"{c:.0f}%" for c in r["prompt_eval_core_load"])
        default = " ".join(f"{c:.0f}%" for c in r["default_prompt_eval_core_load"])
        lines.append(
            f"{r['model']:<14} {r['load_s']:>5.1f}s {r['prompt_eval_tokens_per_s']:>8.0f} t/s "
            f"{r['generation_tokens_per_s']:>7.1f} t/s {r['grammar_tokens_per_s']:>5.1f} t/s "
            f"{r['grammar_ms_per_token']:>9.1f} ms/t {r['llama_cpp_grammar_ms_per_token']:>13.1f} ms/t  "
            f"{load} | {default} "
            f"(default generation {r['default_generation_tokens_per_s']:.1f} t/s)"
        )
    lines.append(
        "grammar: the synthesis agent's first lines under its line grammar, applied by "
        "llguidance; cost = ms per token over free generation (target <= 5 ms)"
    )
    return "\n".join(lines)


# -- repair ----------------------------------------------------------------------------------


def _mutate(text: str, kind: str, rng: random.Random) -> str | None:
    """One seeded mutation of ``kind`` in ``text``, or None if it has no site for it."""
    lines = text.split("\n")
    op_lines = [i for i, l in enumerate(lines) if '"tensorlang.' in l and "=" in l]
    if kind == "misspelled-op":
        i = rng.choice(op_lines)
        name = re.search(r'"tensorlang\.(\w+)"', lines[i]).group(1)
        cut = rng.randrange(len(name))
        lines[i] = (
            lines[i].replace(
                f'tensorlang.{name}"', f'tensorlang.{name[:cut] + name[cut + 1 :] + name[cut]}"', 1
            )
            if len(name) > 2
            else lines[i]
        )
    elif kind == "misspelled-value":
        uses = [(i, m) for i in op_lines for m in re.finditer(r"\((%\w+)", lines[i])]
        if not uses:
            return None
        i, m = rng.choice(uses)
        name = m.group(1)
        lines[i] = lines[i][: m.start(1)] + name[:-1] + (name[-1] * 2) + lines[i][m.end(1) :]
    elif kind == "operand-type":
        candidates = [i for i in op_lines if re.search(r": \(tensor<(\d+)xf64>", lines[i])]
        if not candidates:
            return None
        i = rng.choice(candidates)
        lines[i] = re.sub(
            r": \(tensor<(\d+)xf64>",
            lambda m: f": (tensor<{int(m.group(1)) + 1}xf64>",
            lines[i],
            count=1,
        )
    elif kind == "missing-return":
        lines = [l for l in lines if not l.strip().startswith("return")]
    elif kind == "operand-count":
        candidates = [
            i for i in op_lines if re.search(r"\((%\w+), (%\w+)\) : \(([^,]+), ([^)]+)\)", lines[i])
        ]
        if not candidates:
            return None
        i = rng.choice(candidates)
        lines[i] = re.sub(
            r"\((%\w+), (%\w+)\) : \(([^,]+), ([^)]+)\)", r"(\1) : (\3)", lines[i], count=1
        )
    mutated = "\n".join(lines)
    return mutated if mutated != text else None


ERROR_CLASSES = (
    "misspelled-op",
    "misspelled-value",
    "operand-type",
    "missing-return",
    "operand-count",
)


def repair_corpus(seed: int = 0, per_class: int = 1) -> list[tuple[str, str, str]]:
    """(name, error class, broken text): seeded mutations of the samples that really fail."""
    rng = random.Random(seed)
    compiler = Compiler()
    samples = [(p.stem, p.read_text()) for p in controller_samples()]
    corpus = []
    for kind in ERROR_CLASSES:
        made = 0
        for _ in range(50):
            name, text = rng.choice(samples)
            broken = _mutate(text, kind, rng)
            if broken and compiler.check(broken, f"{name}.mlir", require_control=True):
                corpus.append((f"{name}-{kind}-{made}", kind, broken))
                made += 1
                if made == per_class:
                    break
    return corpus


def bench_repair(
    agents,
    seed: int = 0,
    per_class: int = 1,
    modes=("symbolic", "dual", "monolithic", "best-of-n"),
    best_of: int = 2,
    max_attempts: int = 3,
    time_budget_s: float = 180.0,
    log=print,
) -> dict:
    compiler = Compiler()
    corpus = repair_corpus(seed, per_class)
    results = {}
    for mode in modes:
        rows = []
        for name, kind, text in corpus:
            t0 = time.perf_counter()
            path = f"{name}.mlir"
            if mode == "best-of-n":
                ok = False
                for k in range(best_of):  # fresh programs, never shown the diagnostics
                    written = agents.synthesis.write(None, seed=seed + k)
                    if not compiler.check(written.text, path, require_control=True):
                        ok = True
                        break
                status = "repaired" if ok else "failed"
                attempts = k + 1
            else:
                session = RepairSession(
                    text,
                    path,
                    synthesis=None if mode == "symbolic" else agents.synthesis,
                    reasoning=None if mode == "symbolic" else agents.reasoning,
                    mode="monolithic" if mode == "monolithic" else "dual",
                    max_attempts=max_attempts,
                    time_budget_s=time_budget_s,
                    compiler=compiler,
                )
                status = session.auto()
                attempts = len(session.attempts)
            seconds = time.perf_counter() - t0
            log(f"{mode:<10} {name:<36} {status:<9} {attempts} attempt(s) {seconds:7.2f} s")
            rows.append(
                {
                    "name": name,
                    "class": kind,
                    "status": status,
                    "attempts": attempts,
                    "seconds": seconds,
                }
            )
        times = sorted(r["seconds"] for r in rows)
        results[mode] = {
            "success_rate": sum(r["status"] == "repaired" for r in rows) / max(1, len(rows)),
            "median_s": statistics.median(times) if times else 0.0,
            "p90_s": times[int(0.9 * (len(times) - 1))] if times else 0.0,
            "total_s": sum(times),
            "rows": rows,
        }
    return {"seed": seed, "corpus": len(corpus), "classes": list(ERROR_CLASSES), "modes": results}


def format_repair_table(result) -> str:
    lines = [
        f"corpus: {result['corpus']} broken programs ({', '.join(result['classes'])}), "
        f"seed {result['seed']}",
        f"{'mode':<12} {'success':>8} {'median':>9} {'p90':>9} {'total':>9}",
    ]
    for mode, r in result["modes"].items():
        lines.append(
            f"{mode:<12} {r['success_rate']:>7.0%} {r['median_s']:>8.2f}s "
            f"{r['p90_s']:>8.2f}s {r['total_s']:>8.1f}s"
        )
    return "\n".join(lines)
