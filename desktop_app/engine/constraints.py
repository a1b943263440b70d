"""Constrained decoding: a grammar says which tokens may come next, before the sampler picks.

`TokenConstraint` is the step the token loop talks to: `allowed(logits)` gives the logits
with every token the grammar forbids at -inf, `advance(token)` moves past the chosen token,
and `done` says the grammar is complete and nothing may follow (the reply then ends with
reason stop). The loop knows nothing of JSON; another grammar is another implementation.

`GrammarConstraints` holds llguidance's view of one model's vocabulary (token bytes, the
special tokens, the stop tokens as its end of sequence), built once per engine on first
use; `compile(grammar)` checks a grammar against it and hands out a fresh matcher for each
alternative. The stop tokens are allowed only where the grammar may end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import llguidance
import llguidance.numpy
import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.engine.tokenizer import Tokenizer
from desktop_app.engine.vocabulary import TokenBytes, token_bytes


class TokenConstraint(Protocol):
    def allowed(self, logits: np.ndarray) -> np.ndarray:
        """`logits` (untouched) with the tokens that may not come next set to -inf, as a new array."""
        ...

    def advance(self, token: int) -> None:
        """Accept `token`, which `allowed` allowed."""
        ...

    @property
    def done(self) -> bool:
        """The grammar is complete and allows nothing more."""
        ...


class _VocabularyView:
    """What llguidance's TokenizerWrapper reads: token bytes, specials, end of sequence, and a
    tokenizer it calls to see how text would be tokenized (it uses that for forced text)."""

    def __init__(self, tokenizer: Tokenizer, vocabulary: TokenBytes, eos_token_id: int) -> None:
        self.tokens = vocabulary.tokens
        self.special_token_ids = vocabulary.special_ids
        self.eos_token_id = eos_token_id
        self.bos_token_id = None
        self._tokenizer = tokenizer

    def __call__(self, text: str) -> list[int]:
        if not isinstance(text, str):  # the wrapper probes with bytes; strings are what we take
            raise TypeError("text, not bytes")
        return self._tokenizer.encode(text)


class GrammarConstraints:
    """llguidance for one model. Build on the generation thread: it takes ~0.1-0.5 s."""

    def __init__(self, tokenizer: Tokenizer, stop_token_ids: Sequence[int]) -> None:
        vocabulary = token_bytes(tokenizer)
        stops = [token for token in stop_token_ids if 0 <= token < len(vocabulary)]
        if not stops:
            raise UserError(
                translate(
                    "Errors",
                    "JSON output and tool calls are not available for this model: it declares no end-of-reply token.",
                )
            )
        view = _VocabularyView(tokenizer.without_prefix_space(), vocabulary, stops[0])
        self.vocab_size = len(vocabulary)
        self._tokenizer = llguidance.LLTokenizer(llguidance.TokenizerWrapper(view), eos_token=stops)

    def compile(self, grammar: str) -> Callable[[], TokenConstraint]:
        """Check `grammar` against this vocabulary; the result makes a fresh constraint per call."""
        prototype = llguidance.LLMatcher(self._tokenizer, grammar, log_level=0)
        if prototype.is_error():
            raise UserError(
                translate("Errors", "Invalid response_format: the schema cannot be enforced: {error}").format(
                    error=prototype.get_error()
                )
            )

        def fresh() -> TokenConstraint:
            return LLGuidanceConstraint(prototype.deep_copy(), self.vocab_size)

        return fresh


class LLGuidanceConstraint:
    """One alternative's place in the grammar."""

    def __init__(self, matcher: llguidance.LLMatcher, vocab_size: int) -> None:
        self._matcher = matcher
        self._vocab_size = vocab_size
        self._bitmask = llguidance.numpy.allocate_token_bitmask(1, vocab_size)

    def allowed(self, logits: np.ndarray) -> np.ndarray:
        llguidance.numpy.fill_next_token_bitmask(self._matcher, self._bitmask)
        self._check()
        bits = np.unpackbits(self._bitmask.view(np.uint8), bitorder="little", count=self._vocab_size)
        # The model's output may be wider than the vocabulary (padded embeddings): never those.
        allow = np.zeros(logits.shape[-1], dtype=bool)
        width = min(self._vocab_size, logits.shape[-1])
        allow[:width] = bits[:width].view(bool)
        if not allow.any():
            raise UserError(
                translate("Errors", "The response_format's schema cannot be satisfied: no text can match it.")
            )
        return np.where(allow, logits, np.float32(-np.inf)).astype(logits.dtype, copy=False)

    def advance(self, token: int) -> None:
        self._matcher.consume_token(token)
        self._check()

    @property
    def done(self) -> bool:
        return bool(self._matcher.is_stopped())

    def _check(self) -> None:
        if self._matcher.is_error():
            # A token the mask allowed was refused, or the grammar ran out of its limits: a bug
            # or a pathological schema, not something the user's reply should hide.
            raise RuntimeError(f"The grammar constraint failed: {self._matcher.get_error()}")
