"""Choosing the next token from logits: penalties, filters, and a seeded draw.

The order matches Hugging Face's logits processors: repetition penalty, no-repeat
n-grams, then temperature, top-k, top-p and min-p. OpenAI's presence and frequency
penalties (over the reply's own tokens) come with the repetition penalty. Greedy
decoding (temperature 0) still applies every penalty.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from desktop_app.core.generation import GenerationSettings


def apply_repetition_penalty(logits: np.ndarray, history: Sequence[int], penalty: float, window: int) -> None:
    """In place: make recently seen tokens less likely (divide positive logits, multiply negative)."""
    if penalty == 1.0 or not history:
        return
    recent = history[-window:] if window else history
    ids = np.fromiter(set(recent), dtype=np.int64)
    values = logits[ids]
    logits[ids] = np.where(values > 0, values / penalty, values * penalty)


def apply_presence_frequency_penalties(
    logits: np.ndarray, counts: dict[int, int], presence: float, frequency: float
) -> None:
    """In place, as OpenAI defines them: logit -= presence * (count > 0) + frequency * count,
    where `counts` says how often each token appeared in the reply so far."""
    if not counts or (presence == 0 and frequency == 0):
        return
    ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    times = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    logits[ids] -= presence + frequency * times


def banned_ngram_tokens(history: Sequence[int], n: int) -> set[int]:
    """Tokens that would complete an n-gram already present in history."""
    if n <= 0 or len(history) < n:
        return set()
    if n == 1:
        return set(history)
    prefix = tuple(history[len(history) - n + 1 :])
    banned = set()
    for start in range(len(history) - n + 1):
        if tuple(history[start : start + n - 1]) == prefix:
            banned.add(history[start + n - 1])
    return banned


def filtered_probabilities(logits: np.ndarray, settings: GenerationSettings) -> tuple[np.ndarray, np.ndarray]:
    """Candidate token ids and their probabilities after temperature, top-k, top-p, min-p."""
    scaled = logits.astype(np.float64) / settings.temperature
    finite = np.isfinite(scaled)
    # A grammar leaves most of the vocabulary at -inf, and partitioning that many equal
    # values is numpy's slow case (6 ms against 0.4 ms on 49k tokens): rank only the rest.
    candidates = None if finite.all() else np.flatnonzero(finite)
    values = scaled if candidates is None else scaled[candidates]
    if 0 < settings.top_k < values.size:
        ids = np.argpartition(values, -settings.top_k)[-settings.top_k :]
    else:
        ids = np.arange(values.size)
    if candidates is not None:
        ids = candidates[ids]
    order = np.argsort(-scaled[ids], kind="stable")
    ids = ids[order]
    values = scaled[ids]
    probs = np.exp(values - values[0])
    probs /= probs.sum()
    if settings.top_p < 1.0:
        # keep the smallest prefix whose mass reaches top_p (at least one token)
        cumulative = np.cumsum(probs)
        keep = int(np.searchsorted(cumulative, settings.top_p - 1e-12)) + 1
        ids, probs = ids[:keep], probs[:keep]
    if settings.min_p > 0:
        mask = probs >= settings.min_p * probs[0]
        ids, probs = ids[mask], probs[mask]
    return ids, probs / probs.sum()


class Sampler:
    """Picks tokens for one generation; the same seed gives the same choices.

    `history` is the prompt and the reply so far; its first `prompt_length` tokens are the
    prompt, which the presence and frequency penalties leave alone."""

    def __init__(self, settings: GenerationSettings, seed: int, prompt_length: int = 0) -> None:
        self.settings = settings
        self._rng = np.random.default_rng(seed)
        self._prompt_length = prompt_length
        self._counts: dict[int, int] = {}  # the reply's tokens, counted as history grows
        self._counted = prompt_length

    def _reply_counts(self, history: Sequence[int]) -> dict[int, int]:
        for token in history[self._counted :]:
            self._counts[token] = self._counts.get(token, 0) + 1
        self._counted = max(self._counted, len(history))
        return self._counts

    def __call__(self, logits: np.ndarray, history: Sequence[int]) -> int:
        s = self.settings
        openai_penalties = s.presence_penalty != 0 or s.frequency_penalty != 0
        if s.repetition_penalty != 1.0 or s.no_repeat_ngram_size or openai_penalties:
            logits = np.array(logits, dtype=np.float32, copy=True)
            apply_repetition_penalty(logits, history, s.repetition_penalty, s.repetition_window)
            if openai_penalties:
                counts = self._reply_counts(history)
                apply_presence_frequency_penalties(logits, counts, s.presence_penalty, s.frequency_penalty)
            banned = list(banned_ngram_tokens(history, s.no_repeat_ngram_size))
            if banned:
                kept = logits[banned].copy()
                logits[banned] = -np.inf
                if not np.isfinite(logits).any():  # a grammar allowed only these tokens: it wins
                    logits[banned] = kept
        if s.greedy:
            return int(np.argmax(logits))
        ids, probs = filtered_probabilities(logits, s)
        choice = int(np.searchsorted(np.cumsum(probs), self._rng.random() * probs.sum()))
        return int(ids[min(choice, ids.size - 1)])
