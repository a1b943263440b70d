"""Speculative decoding: tokens proposed cheaply, then checked by the model in one pass.

A proposal of k tokens after the token just chosen runs as one forward pass of k + 1
positions (`OnnxCausalLM.forward_kept`), which reads the weights once where plain decoding
reads them k + 1 times. The engine then chooses each next token from those logits exactly
as plain decoding would (the same sampler, penalties, grammar and random draw) and keeps a
proposed token only while it equals the chosen one; the first difference ends the run and
the cache drops the proposals after it (a shorter view of the same buffers: no copy).
Choosing by the model's own draw and comparing is speculative sampling's accept/resample
rule for a proposal that is one token for certain (accept with probability p(x), else draw
from p without x), so the output distribution is unchanged, and greedy choices are the
argmax of the same logits.

Proposals come from prompt lookup (the longest recent n-gram match in the prompt and the
reply so far: an edited passage, a quote, code) and, where the user chose one, from a draft
model with the same vocabulary. How many tokens to propose follows the recent acceptance,
and proposing pauses while it does not pay. Every decision counts tokens, never time, so
the same request makes the same proposals on any machine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.engine.onnx_model import AnyKVCache, OnnxCausalLM, common_prefix_length
from desktop_app.engine.tokenizer import Tokenizer

SPECULATION_MODES = ("auto", "lookup", "off")

MAX_NGRAM = 4  # the longest suffix looked up; longer matches are likelier to continue alike
MIN_NGRAM = 2  # a single repeated token says too little about what follows it
K_START = 4
K_MAX = 14  # a check of 15 rows at most: up to there every kernel of Inkwell's operators gives each row a decoded token's bits (from 16 on, K-quant products are repacked)
# What one more proposed token costs, as a share of a plain decoding step (a pass over k + 1
# positions against one). For the default model on a 2-core EPYC: 0.15-0.2 with ONNX
# Runtime's kernels, 0.34-0.38 with Inkwell's exact row kernels (2026-12-04), and about 0.2
# with the interleaved rows, the vectorised rounding and the attention's kv-head order
# (2026-12-05, real generation at ~350-450 positions: ~1.3 ms a row against a 6.3-6.7 ms
# step, mostly the products' arithmetic; a second row is cheaper, its products hidden
# behind the reading of the weights). Less for larger models, whose passes are bound by
# reading the weights. Proposals pay while the accepted tokens outnumber this share of the
# proposed ones. 0.2 paces a little better than the measured 0.36 on the speculation
# bench's replies (1.73x against 1.69x for Fix grammar, replayed offline), as a longer run
# of proposals pays more than the first attempts show.
COST_PER_PROPOSED = 0.2
WINDOW = 6  # attempts judged together before a pause
PAUSE_START = 16  # tokens decoded plainly after proposals stopped paying, doubled each time
PAUSE_MAX = 256


class PromptLookup:
    """Proposals from the tokens so far: the continuation of the most recent earlier
    occurrence of their last n tokens (n from MAX_NGRAM down to MIN_NGRAM)."""

    def __init__(self) -> None:
        self.tokens: list[int] = []
        # n-gram -> the position just after its most recent occurrence that has a continuation
        self._after: dict[tuple[int, ...], int] = {}

    def extend(self, tokens: Sequence[int]) -> None:
        for token in tokens:
            end = len(self.tokens)
            for n in range(MIN_NGRAM, MAX_NGRAM + 1):
                if end >= n:  # the n-gram ending before this token now has it as its continuation
                    self._after[tuple(self.tokens[end - n : end])] = end
            self.tokens.append(token)

    def propose(self, limit: int) -> list[int]:
        for n in range(MAX_NGRAM, MIN_NGRAM - 1, -1):
            if len(self.tokens) < n:
                continue
            start = self._after.get(tuple(self.tokens[-n:]))
            if start is not None:
                # A match that runs into the present (a repeated line, a list's items) goes
                # on with what it proposes itself, as a copy overlapping its source does.
                proposal = self.tokens[start : start + limit]
                period = len(self.tokens) - start
                while len(proposal) < limit:
                    proposal.append(proposal[len(proposal) - period])
                return proposal
        return []


@dataclass
class Pacing:
    """How many tokens to propose next, and when to stop proposing for a while."""

    k: int = K_START
    ledger: list[float] = field(default_factory=list)  # the recent attempts' net gain in steps
    pause: int = 0  # tokens left to decode without proposals
    next_pause: int = PAUSE_START

    def wanted(self) -> int:
        """The tokens to propose at this position: none while paused (a paused position
        counts towards the pause's end)."""
        if self.pause > 0:
            self.pause -= 1
            return 0
        return self.k

    def record(self, proposed: int, accepted: int) -> None:
        self.k = min(K_MAX, self.k * 2) if accepted == proposed else max(1, accepted + 1)
        self.ledger = [*self.ledger[-(WINDOW - 1) :], accepted - COST_PER_PROPOSED * proposed]
        if len(self.ledger) == WINDOW:
            if sum(self.ledger) < 0:  # these attempts cost more than they saved
                self.pause, self.next_pause = self.next_pause, min(PAUSE_MAX, self.next_pause * 2)
                self.ledger = []
                self.k = K_START
            else:
                self.next_pause = PAUSE_START


def vocabulary_hash(tokenizer: Tokenizer) -> str:
    """A fingerprint of the token strings and their ids: two models that share it read and
    write the same tokens."""
    vocab = sorted(tokenizer.vocabulary().items(), key=lambda item: item[1])
    return hashlib.sha256(json.dumps(vocab, ensure_ascii=False).encode()).hexdigest()


class DraftModel:
    """A smaller model with the target's vocabulary that proposes its own greedy
    continuation. Its cache follows the accepted tokens: each proposal first runs, from
    the longest prefix it shares with the tokens so far, only what it has not seen."""

    def __init__(self, model: OnnxCausalLM, tokenizer: Tokenizer, name: str, context_length: int) -> None:
        self.model = model
        self.name = name
        self.context_length = context_length
        self.vocabulary = vocabulary_hash(tokenizer)
        self._cache: AnyKVCache = model.empty_cache()

    def check_pairs_with(self, tokenizer: Tokenizer, target_name: str) -> None:
        if vocabulary_hash(tokenizer) != self.vocabulary:
            raise UserError(
                translate(
                    "Errors", "{draft} cannot be a draft for {model}: the two models have different vocabularies."
                ).format(draft=self.name, model=target_name),
                hint=translate(
                    "Errors", "A draft model must use the same tokenizer, such as a smaller model of the same family."
                ),
            )

    def propose(self, tokens: Sequence[int], limit: int) -> list[int]:
        if len(tokens) + limit >= self.context_length:
            return []
        kept = common_prefix_length(self._cache.tokens, list(tokens))
        kept = min(kept, len(tokens) - 1)  # at least one token runs, to give logits
        cache = self._cache.truncated(kept)
        self.model.reserve(cache, len(tokens) + limit + 1)
        logits, cache = self.model.forward(list(tokens[kept:]), cache)
        proposed: list[int] = []
        while True:
            token = int(np.argmax(logits))
            proposed.append(token)
            if len(proposed) == limit:
                break
            logits, cache = self.model.forward([token], cache)
        self._cache = cache
        return proposed

    def reset(self) -> None:
        self._cache = self.model.empty_cache()


@dataclass(frozen=True)
class SpeculationSettings:
    """The engine's choice: "auto" (lookup, and the draft model where there is one),
    "lookup" (lookup only) or "off"."""

    mode: str = "auto"
    draft: DraftModel | None = None

    def __post_init__(self) -> None:
        if self.mode not in SPECULATION_MODES:
            raise UserError(
                translate("Errors", "Speculation must be auto, lookup or off, not {mode}.").format(mode=self.mode)
            )


class Speculator:
    """The proposals for one reply, and their tally."""

    def __init__(self, settings: SpeculationSettings, prompt: Sequence[int]) -> None:
        self.lookup = PromptLookup()
        self.lookup.extend(prompt)
        self.draft = settings.draft if settings.mode == "auto" else None
        self.pacing = Pacing()
        self.draft_pacing = Pacing()
        self.proposed = 0
        self.accepted = 0
        self._by_draft = False

    def propose(self, history: Sequence[int], room: int) -> list[int]:
        """Tokens to check after `history`'s last (at most `room`); [] for a plain step."""
        self.lookup.extend(history[len(self.lookup.tokens) :])
        wanted = min(self.pacing.wanted(), room)
        proposal = self.lookup.propose(wanted) if wanted > 0 else []
        self._by_draft = False
        if not proposal and self.draft is not None:
            wanted = min(self.draft_pacing.wanted(), room)
            if wanted > 0:
                proposal, self._by_draft = self.draft.propose(history, wanted), True
        self.proposed += len(proposal)
        return proposal

    def record(self, proposed: int, accepted: int) -> None:
        """The outcome of the last proposal: how many of its tokens were kept."""
        self.accepted += accepted
        (self.draft_pacing if self._by_draft else self.pacing).record(proposed, accepted)


CacheT = TypeVar("CacheT", bound="Truncatable")


class Truncatable(Protocol):
    """What a check cuts back: a cache, or a batch row's valid positions."""

    def __len__(self) -> int: ...

    def truncated(self: CacheT, length: int) -> CacheT: ...


class Check:
    """The proposed tokens whose logits a pass returned, consumed as tokens are chosen."""

    def __init__(self) -> None:
        self.proposal: list[int] = []
        self.logits: list[np.ndarray] = []
        self.size = 0
        self.kept = 0

    def start(self, proposal: list[int], checked: np.ndarray) -> np.ndarray:
        """After a pass over [chosen, *proposal]: the logits after the chosen token."""
        self.proposal, self.logits = list(proposal), list(checked[1:])
        self.size, self.kept = len(proposal), 0
        first: np.ndarray = checked[0]
        return first

    def take(self, token: int, cache: CacheT, speculator: Speculator | None) -> tuple[np.ndarray | None, CacheT]:
        """`token` was chosen: the logits after it when it is the next proposed token (the
        cache already holds it), else None, with the cache cut back to before the
        proposals (a view of the same buffers). The speculator hears how the check went."""
        if not self.proposal:
            return None, cache
        if token == self.proposal[0]:
            self.proposal.pop(0)
            self.kept += 1
            if not self.proposal and speculator is not None:
                speculator.record(self.size, self.kept)
            return self.logits.pop(0), cache
        dropped = len(self.proposal)
        if speculator is not None:
            speculator.record(self.size, self.kept)
        self.proposal, self.logits = [], []
        return None, cache.truncated(len(cache) - dropped)
