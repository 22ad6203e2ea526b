"""Grammars applied by llguidance (agents/backend.py): the GBNF that grammar.py writes,
converted to Lark, masks every token the grammar forbids. Without a model: a byte-level
vocabulary and random choices among the allowed tokens stand in for sampling, so any
path the mask allows is tried."""

import random

import llguidance
import numpy as np
import pytest
from llguidance._tokenizer import TokenizerWrapper

from neurojit_tui.agents.backend import (
    SMOLLM2,
    Generation,
    GrammarMask,
    LlamaBackend,
    ModelConfig,
    compile_grammar,
    gbnf_to_lark,
)
from neurojit_tui.agents.grammar import full_grammar_sample
from neurojit_tui.agents.reasoning import STRATEGY_GRAMMAR
from neurojit_tui.agents.synthesis import SynthesisAgent

EOS = 256


class ByteVocabulary:
    """One token per byte, and an end-of-sequence token."""

    eos_token_id = EOS
    bos_token_id = None
    tokens = [bytes([b]) for b in range(256)] + [b"\xff<eos>"]
    special_token_ids = [EOS]

    def __call__(self, data: bytes) -> list[int]:
        return list(data)


@pytest.fixture(scope="module")
def byte_tokenizer():
    return llguidance.LLTokenizer(TokenizerWrapper(ByteVocabulary()))


class RandomWalkBackend:
    """A backend whose 'model' picks uniformly among the tokens the grammar allows."""

    identity = "random-walk"

    def __init__(self, tokenizer, seed: int):
        self.tokenizer, self.rng = tokenizer, random.Random(seed)

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
        mask = GrammarMask(self.tokenizer, compile_grammar(grammar), EOS + 1)
        tokens = list(prompt.encode())
        written = []
        for _ in range(max_tokens or 400):
            logits = mask(np.array(tokens), np.zeros(EOS + 1, dtype=np.float32))
            allowed = np.flatnonzero(np.isfinite(logits))
            token = int(self.rng.choice(list(allowed)))
            if token == EOS:
                break
            tokens.append(token)
            written.append(token)
        return Generation(bytes(written).decode(), len(prompt), len(written), 0.0)


def test_the_op_alternation_is_parsed_not_one_huge_lexeme():
    lark = gbnf_to_lark(full_grammar_sample())
    assert "\nop: " in lark and "\nOP: " not in lark
    assert "\nNUMBER: " in lark  # small terminals stay lexemes
    assert isinstance(compile_grammar(full_grammar_sample()), str)  # llguidance took it
    assert isinstance(compile_grammar(STRATEGY_GRAMMAR), str)


@pytest.mark.parametrize("seed", range(4))
def test_every_line_the_mask_allows_parses_and_verifies(compiler, byte_tokenizer, seed):
    """The guarantee the synthesis agent relies on, for random paths through the
    grammar: every line parses and verifies; at most the closing return (added when the
    agent ran out of lines) can be wrong."""
    result = SynthesisAgent(RandomWalkBackend(byte_tokenizer, seed), max_lines=6).write(None)
    lines = result.text.splitlines()
    assert len(lines) >= 3
    closing = len(lines) - 1
    diagnostics = compiler.check(result.text, "walk.mlir", require_control=True)
    assert all(d.line == closing for d in diagnostics), [d.format() for d in diagnostics]


def test_a_token_outside_the_grammar_is_refused(byte_tokenizer):
    mask = GrammarMask(byte_tokenizer, compile_grammar(full_grammar_sample()), EOS + 1)
    logits = mask(np.array([65]), np.zeros(EOS + 1, dtype=np.float32))
    assert np.isfinite(logits[ord(" ")]) and not np.isfinite(logits[ord("x")])
    with pytest.raises(RuntimeError, match="refused"):
        mask(np.array([65, ord("x")]), np.zeros(EOS + 1, dtype=np.float32))


@pytest.mark.slow
def test_the_real_model_samples_under_llguidance(compiler):
    backend = LlamaBackend(ModelConfig(model=SMOLLM2))
    result = SynthesisAgent(backend, max_lines=3).write(None)
    assert backend.last_grammar_mask is not None and backend.last_grammar_mask.seconds
    closing = len(result.text.splitlines()) - 1
    diagnostics = compiler.check(result.text, "gen.mlir", require_control=True)
    assert all(d.line == closing for d in diagnostics), [d.format() for d in diagnostics]
