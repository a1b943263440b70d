"""Beam search: the `num_beams` likeliest continuations, advanced by one batched decode a step.

The rules are those of transformers' `generate(num_beams=...)` (its vectorised beam search
of 4.5x), so that the same model gives the same token sequences:

- Each step takes the log-softmax of every beam's logits (float32), applies the repetition
  penalty and the no-repeat n-gram ban to those log-probabilities (as transformers' logits
  processors do), adds each beam's running score and keeps the top
  `max(2, 1 + number of end tokens) * num_beams` candidates over all beams.
- A candidate among the first `num_beams` of those that ends on an end token (or reaches
  the length limit) becomes a finished text, scored by its log-probability divided by its
  length (the generated tokens, the end token included) to the power `length_penalty`;
  the best `num_beams` finished texts are kept. The best `num_beams` candidates that did
  not end run on.
- Stop when every candidate ends (the length limit); when `early_stopping` is True and
  `num_beams` texts have finished; or when `num_beams` texts have finished and the best
  running beam, divided by the current length (the longest length for "never" with a
  positive penalty) to that power, cannot beat the worst of them.

The KV cache has one row per beam. After each step row i takes the rows of its parent beam:
the rows share the prompt, so only the generated positions move, and only for beams whose
parent is another beam. The prompt is prefilled once (reusing the prefix the engine kept)
and copied to the other rows. Texts are reported when the search ends: the best beam can
change at any step, so nothing is streamed before.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Protocol

import numpy as np

from desktop_app.core.generation import FinishReason, GenerationSettings, GenerationStats
from desktop_app.engine.events import Event, Finished, PromptPrepared, TextChunk
from desktop_app.engine.kv_rows import KVRows
from desktop_app.engine.onnx_model import AnyKVCache, KVCache, OnnxCausalLM, SharedKVCache, common_prefix_length
from desktop_app.engine.sampling import (
    apply_presence_frequency_penalties,
    apply_repetition_penalty,
    banned_ngram_tokens,
)
from desktop_app.engine.stops import StopSequenceFilter
from desktop_app.engine.tokenizer import IncrementalDecoder, Tokenizer

PENALTY = np.float32(-1.0e9)  # what transformers adds to rule a candidate out


@dataclass
class _Hypothesis:
    score: float  # the finished text's normalised score (or a running beam's, when cancelled)
    tokens: list[int]  # the generated tokens, the end token included when it ended on one


class _Rows(Protocol):
    def reuse(self, prompt: list[int], cache: AnyKVCache) -> int: ...
    def prefill(self, tokens: list[int]) -> np.ndarray: ...
    def spread(self) -> None: ...
    def reorder(self, parents: np.ndarray) -> None: ...
    def step(self, tokens: np.ndarray) -> np.ndarray: ...


class _SharedRows:
    """Beams in KV rows that GroupQueryAttention appends to in place (the CPU graphs)."""

    def __init__(self, model: OnnxCausalLM, beams: int, context_length: int, positions: int) -> None:
        self.kv = KVRows(model, beams, context_length)
        self.kv.reserve(positions)
        self.beams = beams
        self.prompt_length = 0

    def reuse(self, prompt: list[int], cache: AnyKVCache) -> int:
        reused = min(common_prefix_length(cache.tokens, prompt), len(prompt) - 1)
        if reused > 0 and isinstance(cache, SharedKVCache):
            self.kv.load_row(0, cache.buffers.arrays, prompt[:reused])
            return reused
        return 0

    def prefill(self, tokens: list[int]) -> np.ndarray:
        logits = self.kv.run_row(0, tokens)
        self.prompt_length = len(self.kv.tokens[0])
        return logits

    def spread(self) -> None:
        for row in range(1, self.beams):
            self.kv.copy_row(0, row, self.prompt_length)

    def reorder(self, parents: np.ndarray) -> None:
        self.kv.gather(parents, self.prompt_length)

    def step(self, tokens: np.ndarray) -> np.ndarray:
        # A view of the logits buffer, valid until the next step: the search has read it by then.
        return self.kv.forward(tokens, range(self.beams)).astype(np.float32, copy=False)


class _FreshRows:
    """Beams as a batch of past arrays, for graphs that return a new present each step
    (exports without in-place attention, the CUDA provider)."""

    def __init__(self, model: OnnxCausalLM, beams: int) -> None:
        self.model = model
        self.beams = beams
        self.cache: AnyKVCache = KVCache.empty(model.kv)  # arrays of its own, also where the model's are shared
        self.arrays: list[np.ndarray] = []

    def reuse(self, prompt: list[int], cache: AnyKVCache) -> int:
        reused = min(common_prefix_length(cache.tokens, prompt), len(prompt) - 1)
        if reused > 0 and isinstance(cache, KVCache):
            self.cache = cache.truncated(reused)
            return reused
        if reused > 0 and isinstance(cache, SharedKVCache):  # the GPU's buffers: copied once
            arrays = [np.ascontiguousarray(a[:, :, :reused, :]) for a in cache.buffers.arrays]
            self.cache = KVCache(prompt[:reused], arrays)
            return reused
        return 0

    def prefill(self, tokens: list[int]) -> np.ndarray:
        logits, self.cache = self.model.forward(tokens, self.cache)
        return logits

    def spread(self) -> None:
        assert isinstance(self.cache, KVCache)
        self.arrays = [np.repeat(array, self.beams, axis=0) for array in self.cache.arrays]

    def reorder(self, parents: np.ndarray) -> None:
        if (parents != np.arange(len(parents))).any():
            self.arrays = [array[parents] for array in self.arrays]

    def step(self, tokens: np.ndarray) -> np.ndarray:
        start = self.arrays[0].shape[2]
        logits, self.arrays = self.model.forward_rows(tokens, self.arrays, start)
        return np.array(logits, dtype=np.float32)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise, in float32 as transformers computes it: (x - max) - log(sum(exp(x - max)))."""
    shifted: np.ndarray = logits.astype(np.float32, copy=True)
    shifted -= shifted.max(axis=-1, keepdims=True)
    exps = np.exp(shifted)
    shifted -= np.log(exps.sum(axis=-1, keepdims=True))
    return shifted


def top_candidates(scores: np.ndarray, k: int) -> np.ndarray:
    """The indices of the k highest scores, highest first (ties: the lower index first)."""
    k = min(k, scores.size)
    part = np.arange(scores.size)
    if scores.size > 64 * k:
        # The k-th highest of the first stretch is a floor for the k-th highest of all: only
        # the scores at or above it need ranking (a few dozen of a beam step's 200,000).
        first = scores[: scores.size // 4]
        floor = first[np.argpartition(-first, k - 1)[k - 1]] if first.size >= k else -np.inf
        part = np.flatnonzero(scores >= floor)
    order: np.ndarray = part[np.lexsort((part, -scores[part]))][:k]
    return order


def best_continuations(
    logits: np.ndarray, scores: np.ndarray, banned: Sequence[np.ndarray | None], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best (beam, token) continuations, as flat indices into [beams, vocab], best
    first, and their totals: the beam's score plus the token's log-probability (float32,
    computed as log_softmax does), with each beam's `banned` tokens ruled out after the
    softmax, as transformers' no-repeat n-gram processor does. Only the few candidates that
    can be among the best have their totals made: the k-th best token of the first beam is a
    floor for the k-th best overall."""
    x = logits.astype(np.float32, copy=False)
    beams, vocab = x.shape
    top = x.max(axis=1, keepdims=True)
    logsum = np.log(np.exp(x - top).sum(axis=1, keepdims=True))
    if any(b is not None for b in banned):
        x = x.copy()
        for beam, tokens in enumerate(banned):
            if tokens is not None:
                x[beam, tokens] = -np.inf
    # In logit space, row r's floor is where its total would equal row 0's k-th best (less a
    # margin for rounding); the exact totals of those above it are then ranked.
    thresholds = np.full((beams, 1), -np.inf, dtype=np.float32)  # everything, where no floor holds
    if k <= vocab:
        first = x[0]
        kth = first[np.argpartition(-first, k - 1)[k - 1]]
        floor_total = ((kth - top[0, 0]) - logsum[0, 0]) + scores[0]
        if np.isfinite(floor_total):
            margin = np.float32(1e-3) * (1 + abs(floor_total))
            thresholds = (floor_total - margin) - scores[:, None] + logsum + top
    flat = np.flatnonzero(x >= thresholds)
    rows = flat // vocab
    totals = ((x.ravel()[flat] - top[rows, 0]) - logsum[rows, 0]) + scores[rows]
    order = np.lexsort((flat, -totals))[:k]
    return flat[order], totals[order].astype(np.float32)


class BeamSearch:
    """Beam search on one model; `run()` streams the same events as Engine.generate."""

    def __init__(self, model: OnnxCausalLM, tokenizer: Tokenizer, stop_token_ids: frozenset[int], context: int) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.end_tokens = np.array(sorted(stop_token_ids), dtype=np.int64)
        self.context_length = context

    def run(
        self,
        prompt: list[int],
        dropped_messages: int,
        settings: GenerationSettings,
        cache: AnyKVCache,
        cancel: threading.Event,
        prefill_chunk: int,
    ) -> Iterator[Event]:
        started = perf_counter()
        beams = settings.num_beams
        room = self.context_length - len(prompt)
        limit = max(1, min(settings.max_new_tokens, room))
        rows: _Rows
        if self.model.rows_in_place:
            rows = _SharedRows(self.model, beams, self.context_length, len(prompt) + limit)
        else:
            rows = _FreshRows(self.model, beams)
        reused = rows.reuse(prompt, cache)
        yield PromptPrepared(len(prompt), dropped_messages, reused, self.context_length)

        logits = np.zeros(0, dtype=np.float32)
        position = reused
        while position < len(prompt):
            if cancel.is_set():
                yield from self._report([], prompt, settings, started, None, FinishReason.CANCELLED, reused, 0)
                return
            chunk = prompt[position : position + prefill_chunk]
            logits = rows.prefill(chunk)
            position += len(chunk)

        keep = max(2, 1 + len(self.end_tokens)) * beams
        penalty = float(settings.length_penalty)
        running: list[list[int]] = [[]]  # the generated tokens of each beam: one at first
        running_scores = np.zeros(1, dtype=np.float32)
        step_logits = logits[None, :]
        finished: list[_Hypothesis] = []
        first_at: float | None = None
        steps = 0
        spread = False
        end_reason = FinishReason.LENGTH if limit == settings.max_new_tokens else FinishReason.CONTEXT_FULL
        while True:
            if cancel.is_set():
                current = [_Hypothesis(float(s), t) for s, t in zip(running_scores, running, strict=True)]
                best = sorted(finished + current, key=lambda h: -h.score)
                yield from self._report(
                    best, prompt, settings, started, first_at, FinishReason.CANCELLED, reused, steps
                )
                return
            vocab = step_logits.shape[1]
            if settings.repetition_penalty != 1.0 or settings.presence_penalty or settings.frequency_penalty:
                log_probs = log_softmax(step_logits)
                for beam, generated in enumerate(running):
                    self._process(log_probs[beam], prompt, generated, settings)
                totals = (log_probs + running_scores[:, None]).ravel()
                chosen = top_candidates(totals, keep)
                scores = totals[chosen]
            else:
                banned = [self._banned(prompt, generated, settings) for generated in running]
                chosen, scores = best_continuations(step_logits, running_scores, banned, keep)
            parents, tokens = chosen // vocab, chosen % vocab
            last = steps + 1 >= limit
            ends = np.isin(tokens, self.end_tokens) | last
            if first_at is None:
                first_at = perf_counter()

            if not (settings.early_stopping is True and len(finished) >= beams):
                denominator = np.float32(float(steps + 1) ** penalty)
                for j in range(min(beams, len(chosen))):
                    if ends[j]:
                        text = [*running[int(parents[j])], int(tokens[j])]
                        finished.append(_Hypothesis(float(np.float32(scores[j]) / denominator), text))
                finished.sort(key=lambda h: -h.score)  # stable: earlier texts win ties
                del finished[beams:]
            steps += 1
            if last:
                break
            ruled_out = scores + ends.astype(np.float32) * PENALTY
            survivors = top_candidates(ruled_out, beams)
            next_parents = parents[survivors]
            next_tokens = tokens[survivors]
            running = [[*running[int(p)], int(t)] for p, t in zip(next_parents, next_tokens, strict=True)]
            running_scores = ruled_out[survivors].astype(np.float32)
            if len(finished) >= beams:
                if settings.early_stopping is True:
                    break
                length = limit if settings.early_stopping == "never" and penalty > 0 else steps
                best_possible = np.float32(running_scores[0]) / np.float32(float(length) ** penalty)
                if not best_possible > min(h.score for h in finished):
                    break
            if not spread:
                rows.spread()
                spread = True
            rows.reorder(next_parents)
            step_logits = rows.step(next_tokens)
        yield from self._report(finished, prompt, settings, started, first_at, end_reason, reused, steps)

    @staticmethod
    def _banned(prompt: list[int], generated: list[int], settings: GenerationSettings) -> np.ndarray | None:
        if not settings.no_repeat_ngram_size:
            return None
        banned = banned_ngram_tokens([*prompt, *generated], settings.no_repeat_ngram_size)
        return np.fromiter(banned, dtype=np.int64, count=len(banned)) if banned else None

    @staticmethod
    def _process(row: np.ndarray, prompt: list[int], generated: list[int], settings: GenerationSettings) -> None:
        """In place, on one beam's log-probabilities: the penalties and the n-gram ban."""
        if settings.repetition_penalty != 1.0:
            apply_repetition_penalty(
                row, [*prompt, *generated], settings.repetition_penalty, settings.repetition_window
            )
        if settings.presence_penalty or settings.frequency_penalty:
            counts: dict[int, int] = {}
            for token in generated:
                counts[token] = counts.get(token, 0) + 1
            apply_presence_frequency_penalties(row, counts, settings.presence_penalty, settings.frequency_penalty)
        if settings.no_repeat_ngram_size:
            banned = banned_ngram_tokens([*prompt, *generated], settings.no_repeat_ngram_size)
            if banned:
                row[np.fromiter(banned, dtype=np.int64, count=len(banned))] = -np.inf

    def _report(
        self,
        best: Sequence[_Hypothesis],
        prompt: list[int],
        settings: GenerationSettings,
        started: float,
        first_at: float | None,
        reason: FinishReason,
        reused: int,
        steps: int,
    ) -> Iterator[Event]:
        """A TextChunk and a Finished for each of the best texts, best first."""
        finished_at = perf_counter()
        for index in range(settings.num_alternatives):
            tokens = best[index].tokens if index < len(best) else []
            ended = bool(tokens) and int(tokens[-1]) in self.end_tokens
            kept = tokens[:-1] if ended else tokens
            decoder = IncrementalDecoder(self.tokenizer)
            stops = StopSequenceFilter(settings.stop_sequences)
            text = "".join(stops.feed(decoder.push(t)) for t in kept)
            why = reason
            if stops.stopped:
                why = FinishReason.STOP_SEQUENCE
            else:
                text += stops.feed(decoder.flush()) + stops.flush()
                if ended and reason is not FinishReason.CANCELLED:
                    why = FinishReason.STOP_TOKEN
            if text:
                yield TextChunk(text, index)
            decode_s = finished_at - first_at if first_at is not None else 0.0
            stats = GenerationStats(
                prompt_tokens=len(prompt),
                generated_tokens=len(kept),
                ttft_ms=(first_at - started) * 1000 if first_at is not None else 0.0,
                tokens_per_s=(steps - 1) / decode_s if steps > 1 and decode_s > 0 else 0.0,
                finish_reason=why,
                seed=settings.seed or 0,
                reused_prompt_tokens=reused,
                extra={
                    "num_beams": settings.num_beams,
                    "beam_score": best[index].score if index < len(best) else None,
                    "beam_steps": steps,  # tokens_per_s counts these: every beam advances a token a step
                },
            )
            yield Finished(index, text, stats, tuple(kept))
