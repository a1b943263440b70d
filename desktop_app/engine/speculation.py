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
model with the same vocabulary. How many tokens to propose follows how often proposals
of the same kind were kept lately (a lookup match's length sorts them: the middle of a long
copy is kept far more often than a fresh two-token match), and a kind that stops paying
pauses. Every decision counts tokens, never time, so the same request makes the same
proposals on any machine.
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

MAX_NGRAM = 8  # the longest suffix looked up; the match's length also sorts proposals (below)
MIN_NGRAM = 2  # a single repeated token says too little about what follows it
K_MAX = 14  # a check of 15 rows at most: up to there every kernel of Inkwell's operators gives each row a decoded token's bits (from 16 on, K-quant products are repacked)
# What one more proposed token costs, as a share of a plain decoding step (a pass over k + 1
# positions against one). For the default model on a 2-core EPYC: 0.15-0.2 with ONNX
# Runtime's kernels, 0.34-0.38 with Inkwell's exact row kernels (2026-12-04), and about 0.2
# with the interleaved rows, the vectorised rounding and the attention's kv-head order
# (2026-12-05, real generation at ~350-450 positions: ~1.3 ms a row against a 6.3-6.7 ms
# step, mostly the products' arithmetic; a second row is cheaper, its products hidden
# behind the reading of the weights), and ~1.4 ms against 6.7 once the products took up to
# 8 rows a pass (2026-12-05 12:40). Less for larger models, whose passes are bound by
# reading the weights.
COST_PER_PROPOSED = 0.2
# Proposals are sorted by the length of the match they continue: a match of 2-3 tokens (the
# reply rejoining the text after an edit, or a common phrase), of 4-7, or of 8 (the middle of
# a copy). On the speculation bench's replies (2026-12-05) the shares of proposed tokens kept
# in the three were about 0.73, 0.91 and 0.975 for the co-writer's tasks, 0.48, 0.69 and 0.97
# for open chat questions. Sorting them, and proposing by the share, took the bench's
# effective speed from 2.19x, 2.08x and 2.63x plain decoding (Fix grammar, Shorten,
# Translate) to 2.27x, 2.19x and 2.80x replayed offline with measured pass costs, and by
# 1.9%, 3.0% and 4.5% measured (the two alternated per passage); chat 1.23x -> 1.24x.
MATCH_CLASSES = (2, 4, MAX_NGRAM)
DRAFTED = -1  # the class of a draft model's proposals
PRIOR_KEPT = (0.7, 0.9, 0.97)  # the share of proposed tokens kept that each class starts from,
PRIOR_DRAFTED = 0.8  # (and a draft model's proposals)
PRIOR_WEIGHT = 16.0  # counted as this many tokens, so a class's first outcomes move it gently
FORGET = 0.95  # how much less an outcome counts with each newer one of its class
PAUSE_START = 16  # positions a class that stopped paying passes over before a try, doubled while tries fail
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

    def match(self) -> tuple[int, int] | None:
        """(the length n of the longest match of the last tokens, where its continuation
        starts), or None where not even MIN_NGRAM of them occurred before."""
        for n in range(min(MAX_NGRAM, len(self.tokens)), MIN_NGRAM - 1, -1):
            start = self._after.get(tuple(self.tokens[-n:]))
            if start is not None:
                return n, start
        return None

    def continuation(self, start: int, limit: int) -> list[int]:
        """`limit` tokens from `start` on. A match that runs into the present (a repeated
        line, a list's items) goes on with what it proposes itself, as a copy overlapping
        its source does."""
        proposal = self.tokens[start : start + limit]
        period = len(self.tokens) - start
        while len(proposal) < limit:
            proposal.append(proposal[len(proposal) - period])
        return proposal


def match_class(length: int) -> int:
    """The class of a lookup match of `length` tokens (an index into MATCH_CLASSES)."""
    return sum(1 for least in MATCH_CLASSES[1:] if length >= least)


def best_length(kept: float, limit: int) -> int:
    """The number of tokens to propose when each is kept with probability `kept` once the
    ones before it were: the k that gives the most tokens per step of time, a pass of k + 1
    positions costing 1 + COST_PER_PROPOSED · k steps and giving 1 + kept + kept² + ... +
    kept^k tokens on average. 0 where no proposal beats a plain step."""
    best, length, expected, run = 1.0, 0, 1.0, 1.0
    for k in range(1, limit + 1):
        run *= kept
        expected += run
        if expected / (1 + COST_PER_PROPOSED * k) > best:
            best, length = expected / (1 + COST_PER_PROPOSED * k), k
    return length


@dataclass
class Acceptance:
    """How often proposed tokens of one class are kept, lately: a proposal's tokens are kept
    one by one up to the first that is not, so the share is kept / (kept + proposals cut
    short), each outcome weighing FORGET times less with each newer one."""

    prior: float
    kept: float = 0.0
    cut: float = 0.0
    weight: float = field(default_factory=lambda: PRIOR_WEIGHT)  # the prior's, fading as outcomes come

    def share(self) -> float:
        return (self.kept + self.prior * self.weight) / (self.kept + self.cut + self.weight)

    def record(self, proposed: int, accepted: int) -> None:
        self.kept = FORGET * self.kept + accepted
        self.cut = FORGET * self.cut + (accepted < proposed)
        self.weight *= FORGET


@dataclass
class Pacing:
    """How many tokens to propose from each class of proposal, from how often its tokens
    were kept lately. A class whose tokens do not pay is off: it proposes nothing for a
    while, then a single token to try it again, after a pause that doubles while the tries
    fail."""

    classes: dict[int, Acceptance] = field(default_factory=dict)
    idle: dict[int, int] = field(default_factory=dict)  # positions an off class passed over since its last try
    pauses: dict[int, int] = field(default_factory=dict)  # an off class's pause before its next try

    def wanted(self, kind: int, limit: int = K_MAX) -> int:
        """The tokens to propose from a proposal of class `kind` (at most `limit`)."""
        length = best_length(self.acceptance(kind).share(), min(limit, K_MAX))
        if length > 0:
            self.idle[kind] = 0
            return length
        self.idle[kind] = self.idle.get(kind, 0) + 1
        pause = self.pauses.get(kind, PAUSE_START)
        if self.idle[kind] <= pause:
            return 0
        self.idle[kind], self.pauses[kind] = 0, min(PAUSE_MAX, 2 * pause)
        return min(1, limit)

    def record(self, kind: int, proposed: int, accepted: int) -> None:
        self.acceptance(kind).record(proposed, accepted)
        if accepted > 0:
            self.pauses[kind] = PAUSE_START  # a try that paid: the next pause is short again

    def acceptance(self, kind: int) -> Acceptance:
        if kind not in self.classes:
            self.classes[kind] = Acceptance(PRIOR_DRAFTED if kind == DRAFTED else PRIOR_KEPT[kind])
        return self.classes[kind]


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
        self.pacing = Pacing()  # lookup's classes and the draft's (DRAFTED) alike
        self.proposed = 0
        self.accepted = 0
        self._by_draft = False
        self._kind = 0

    def propose(self, history: Sequence[int], room: int) -> list[int]:
        """Tokens to check after `history`'s last (at most `room`); [] for a plain step."""
        self.lookup.extend(history[len(self.lookup.tokens) :])
        proposal: list[int] = []
        self._by_draft = False
        found = self.lookup.match()
        if found is not None:
            self._kind = match_class(found[0])
            proposal = self.lookup.continuation(found[1], self.pacing.wanted(self._kind, room))
        if not proposal and self.draft is not None:
            wanted = self.pacing.wanted(DRAFTED, room)
            if wanted > 0:
                proposal, self._by_draft = self.draft.propose(history, wanted), True
        self.proposed += len(proposal)
        return proposal

    def record(self, proposed: int, accepted: int) -> None:
        """The outcome of the last proposal: how many of its tokens were kept."""
        self.accepted += accepted
        self.pacing.record(DRAFTED if self._by_draft else self._kind, proposed, accepted)


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
