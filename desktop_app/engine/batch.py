"""Batched decoding: several sequences advance one token each in one forward pass.

A `BatchDecoder` owns KV buffers of `rows` rows, [rows, kv_heads, capacity, head_dim],
bound as both the past and the present of GroupQueryAttention (which appends in place,
at each row's own length: the graph derives seqlens_k per row from the attention mask's
row sums). A new sequence is prefilled alone into its row (a row of a C-contiguous buffer
is itself contiguous, so it binds as a batch of one), one chunk per `step()` so that the
rows already decoding keep streaming; then every decoding row advances one token per
batched forward. Sequences take the lowest free rows and move down as rows below them free
up, since a forward pass spans every row up to the highest one running. Each sequence keeps its own sampler, stop filter, detokenizer, cancel
event and, for a response_format, a grammar constraint per alternative; it reports the
same events as Engine.generate (PromptPrepared, TextChunk, Finished). Rows free up as sequences finish and keep their tokens: a later prompt that
starts the same way reuses that row's prefix.

Where the graph checks proposals exactly and speculation is on, each alternative
proposes tokens by prompt lookup (speculation.py; a draft model serves one request at a
time, never the batch): the pass then runs a chosen token and its proposals in every row,
shorter proposals padded, and each row keeps the proposals its own choices confirm. A pass
of the batch takes at most K_MAX + 1 positions in all, where Inkwell's operators give each
row the bits of a token decoded alone, so greedy choices stay those of plain decoding.

Only graphs with in-place attention (GroupQueryAttention, or Inkwell's GgmlAttention) on the CPU batch this way (`open_batch_decoder`
says None otherwise); the single-sequence path (Engine.generate) is untouched by it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from time import perf_counter

import numpy as np

from desktop_app.core.generation import FinishReason
from desktop_app.engine.constraints import TokenConstraint
from desktop_app.engine.events import Event, Finished, PromptPrepared
from desktop_app.engine.generate import PREFILL_CHUNK, Engine, GenerationRequest, PromptPlan
from desktop_app.engine.kv_rows import KVRows
from desktop_app.engine.onnx_model import common_prefix_length
from desktop_app.engine.reply import ReplyText
from desktop_app.engine.sampling import Sampler
from desktop_app.engine.speculation import K_MAX, Check, SpeculationSettings, Speculator

KEEP_ASIDE_MIN = 32  # kept tokens a new prompt would erase that are worth a copy to a spare row


@dataclass
class _Alternative:
    """One alternative of a sequence, decoding in its own row."""

    index: int
    row: int
    sampler: Sampler
    reply: ReplyText  # its text, reasoning and tool calls, and its grammar (fresh per alternative)
    history: list[int]
    logits: np.ndarray | None  # None while its prompt's last token waits for the forward pass
    started: float
    seed: int
    generated: list[int] = field(default_factory=list)
    first_at: float | None = None
    next_token: int | None = None  # sampled, to be run by the next forward
    speculator: Speculator | None = None
    check: Check = field(default_factory=Check)  # proposals its row holds past the last chosen token
    proposal: list[int] = field(default_factory=list)  # to be checked after next_token
    room: int = 0  # tokens it may still propose after next_token (its length and the context)


class _RowView:
    """A row's valid positions, as Check.take cuts a cache back."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = tokens

    def __len__(self) -> int:
        return len(self.tokens)

    def truncated(self, length: int) -> _RowView:
        del self.tokens[length:]
        return self


class BatchSequence:
    """One request in the batch: its events wait in `take_events()`; `done` once every
    alternative has finished (`first` is alternative 0's Finished)."""

    def __init__(self, request: GenerationRequest, cancel: threading.Event, plan: PromptPlan, rows: list[int]) -> None:
        self.request = request
        self.cancel = cancel
        self.plan = plan
        self.rows = rows  # rows[0] is prefilled; the others get a copy of its prompt
        self.started = perf_counter()
        settings = request.settings
        self.seed = settings.seed if settings.seed is not None else secrets.randbits(31)
        self.reused = 0
        self.position = 0  # prompt tokens in rows[0] so far
        self.alternatives: list[_Alternative] = []
        self.finished: dict[int, Finished] = {}
        self._events: list[Event] = []
        self.make_constraint: Callable[[], TokenConstraint] | None = None
        self.open_calls: Callable[[], TokenConstraint] | None = None  # the grammar of calls the model opens

    @property
    def prefilling(self) -> bool:
        return not self.alternatives and not self.done

    @property
    def done(self) -> bool:
        return len(self.finished) == self.request.settings.num_alternatives

    @property
    def first(self) -> Finished | None:
        return self.finished.get(0)

    def take_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def _emit(self, event: Event) -> None:
        if isinstance(event, Finished):
            self.finished[event.index] = event
        self._events.append(event)


class BatchDecoder:
    """Decodes up to `rows` sequences together on one engine. Not thread-safe: use it on
    the thread that owns the engine."""

    def __init__(self, engine: Engine, rows: int) -> None:
        if rows < 1:
            raise ValueError("a batch needs at least one row")
        self.engine = engine
        self.rows = rows
        self._kv = KVRows(engine.model, rows, engine.context_length)
        self._tokens = self._kv.tokens  # valid KV of each row
        self._taken = [False] * rows
        self._sequences: list[BatchSequence] = []

    # ---- admission ----

    @property
    def free_rows(self) -> int:
        return self._taken.count(False)

    @property
    def active(self) -> int:
        """Sequences in the batch (prefilling or decoding)."""
        return len(self._sequences)

    def fits(self, request: GenerationRequest) -> bool:
        """Whether the request can ever run here (its alternatives each need a row; a beam
        search runs on its own rows, in Engine.generate)."""
        return request.settings.num_alternatives <= self.rows and not request.settings.beam_search

    def can_add(self, request: GenerationRequest) -> bool:
        return request.settings.num_alternatives <= self.free_rows

    def add(self, request: GenerationRequest, cancel: threading.Event) -> BatchSequence:
        """Take a request into free rows; it is prefilled by the next steps. UserError if
        its prompt does not fit the context or its response_format cannot be enforced
        (nothing is taken then)."""
        if not self.can_add(request):
            raise ValueError("not enough free rows for this request")
        engine = self.engine
        make_constraint = engine.constraints(request)  # a schema it cannot enforce: UserError, no row taken
        open_calls = engine.opened_calls(request)
        anchor = engine._trim_anchor  # a chat's cut stays where the chat made it
        try:
            plan = engine.build_prompt(request)
        finally:
            engine._trim_anchor = anchor
        prompt = plan.token_ids
        free = [row for row, taken in enumerate(self._taken) if not taken]
        # The lowest free rows, so that a forward pass spans few rows; the prompt's start is
        # copied there from the free row that shares the longest prefix with it (ties: the lowest).
        shared = [min(common_prefix_length(self._tokens[row], prompt), len(prompt) - 1) for row in free]
        best = max(range(len(free)), key=lambda i: (shared[i], -free[i]))
        rows = free[: request.settings.num_alternatives]
        first = rows[0]
        self._kv.reserve(min(len(prompt) + request.settings.max_new_tokens, engine.context_length))
        sequence = BatchSequence(request, cancel, plan, rows)
        sequence.make_constraint = make_constraint
        sequence.open_calls = open_calls
        sequence.reused = sequence.position = shared[best]
        if len(self._tokens[first]) - shared[0] > KEEP_ASIDE_MIN:  # (first is free[0])
            self._keep_aside(first, [*rows, free[best]])
        if free[best] != first:
            self._copy_row(free[best], first, sequence.reused)
        del self._tokens[first][sequence.reused :]
        for row in rows:
            self._taken[row] = True
        self._sequences.append(sequence)
        sequence._emit(PromptPrepared(len(prompt), plan.dropped_messages, sequence.reused, engine.context_length))
        return sequence

    # ---- the step ----

    def step(self, sampled: Callable[[], None] | None = None) -> None:
        """Prefill a chunk of each sequence still prefilling, oldest first, until a chunk's
        worth of prompt tokens ran (so a burst of short prompts starts together and a long
        one does not stall the others); then sample a token for every decoding row and run
        them all in one forward pass. `sampled` is called between the two, when each
        sequence's new text waits in take_events(): a caller that reports there streams
        every token one forward pass sooner."""
        budget = PREFILL_CHUNK
        for sequence in [s for s in self._sequences if s.prefilling]:
            if budget <= 0:
                break
            budget -= self._prefill_chunk(sequence)
        running = [
            alt
            for sequence in self._sequences
            for alt in sequence.alternatives
            if alt.index not in sequence.finished and self._sample(sequence, alt)
        ]
        if sampled is not None:
            sampled()
        if running:
            self._pack(running)
            self._propose(running)
            self._forward(running)
        self._sequences = [s for s in self._sequences if not s.done]

    def _prefill_chunk(self, sequence: BatchSequence) -> int:
        """Run the sequence's next chunk of prompt; how many tokens that was."""
        settings = sequence.request.settings
        if sequence.cancel.is_set():
            for index in range(settings.num_alternatives):
                stats = Engine._stats(
                    sequence.plan,
                    [],
                    sequence.started,
                    None,
                    None,
                    FinishReason.CANCELLED,
                    sequence.seed + index,
                    sequence.reused,
                )
                sequence._emit(Finished(index, "", stats))
            self._release(sequence.rows)
            return 0
        row, prompt = sequence.rows[0], sequence.plan.token_ids
        logits: np.ndarray | None = None
        if len(prompt) - sequence.position == 1:
            # Only the last token is left (a kept prefix held the rest): it runs in the batched
            # forward pass with the decoding rows rather than in a pass of its own.
            chunk = prompt[-1:]
        else:
            chunk = prompt[sequence.position : sequence.position + PREFILL_CHUNK]
            logits = self._kv.run_row(row, chunk)
        sequence.position += len(chunk)
        if sequence.position < len(prompt):
            return len(chunk)
        length = len(self._tokens[row])
        for other in sequence.rows[1:]:
            self._copy_row(row, other, length)
        for index, alt_row in enumerate(sequence.rows):
            started = sequence.started if index == 0 else perf_counter()
            constraint = sequence.make_constraint() if sequence.make_constraint is not None else None
            alt = _Alternative(
                index,
                alt_row,
                Sampler(settings, sequence.seed + index, prompt_length=len(prompt)),
                self.engine.reply_text(sequence.request, sequence.plan, index, constraint, sequence.open_calls),
                list(prompt),
                logits if index == 0 or logits is None else logits.copy(),
                started,
                sequence.seed + index,
                next_token=prompt[-1] if logits is None else None,
                speculator=self._speculator(prompt),
            )
            sequence.alternatives.append(alt)
        return len(chunk)

    def _sample(self, sequence: BatchSequence, alt: _Alternative) -> bool:
        """Pick `alt`'s next tokens and report their text; False when it has finished."""
        reason: FinishReason | None = None
        if sequence.cancel.is_set():
            reason = FinishReason.CANCELLED
        elif alt.logits is None:
            return True  # its prompt's last token runs in the coming forward pass
        else:
            reason = self._choose(sequence, alt)
            if reason is None:
                return True
        for event in alt.reply.end(reason):
            sequence._emit(event)
        stats = Engine._stats(
            sequence.plan, alt.generated, alt.started, alt.first_at, perf_counter(), reason, alt.seed, sequence.reused
        )
        if alt.speculator is not None:
            speculator = alt.speculator
            stats = replace(stats, proposed_tokens=speculator.proposed, accepted_tokens=speculator.accepted)
        sequence._emit(alt.reply.finished(stats, alt.generated))
        # The row keeps what it holds of the reply (not proposals past its end).
        row = self._tokens[alt.row]
        del row[common_prefix_length(row, alt.history) :]
        self._release([alt.row])
        return False

    def _choose(self, sequence: BatchSequence, alt: _Alternative) -> FinishReason | None:
        """Choose `alt`'s tokens from its logits, one after another while its row holds a
        confirmed proposal's logits; the reason it finished, or None with `next_token` set."""
        settings = sequence.request.settings
        assert alt.logits is not None
        while True:
            token = alt.reply.pick(alt.logits, alt.sampler, alt.history)
            if alt.first_at is None:
                alt.first_at = perf_counter()
            # The same as the next proposed token: the row holds it, and the logits after it
            # are known; else the row drops the proposals.
            known, _ = alt.check.take(token, _RowView(self._tokens[alt.row]), alt.speculator)
            if token in self.engine.stop_token_ids:
                return FinishReason.STOP_TOKEN
            alt.generated.append(token)
            alt.history.append(token)
            for event in alt.reply.accept(token):
                sequence._emit(event)
            if alt.reply.stopped:
                return FinishReason.STOP_SEQUENCE
            if alt.reply.complete:  # the grammar is complete
                return FinishReason.STOP_TOKEN
            if len(alt.generated) >= settings.max_new_tokens:
                return FinishReason.LENGTH
            if len(alt.history) >= self.engine.context_length:
                return FinishReason.CONTEXT_FULL
            if sequence.cancel.is_set():
                return FinishReason.CANCELLED
            if known is None:
                alt.next_token = token
                alt.room = (
                    min(settings.max_new_tokens - len(alt.generated), self.engine.context_length - len(alt.history)) - 1
                )
                return None
            alt.logits = known

    def _speculator(self, prompt: list[int]) -> Speculator | None:
        return Speculator(SpeculationSettings("lookup"), prompt) if self.engine.speculates() else None

    def _propose(self, running: list[_Alternative]) -> None:
        """Each running alternative's proposal for the coming pass: a pass of `width` rows
        takes at most K_MAX + 1 positions, and none past the context in any row it spans."""
        width = max(alt.row for alt in running) + 1
        longest = max(len(self._tokens[row]) for row in range(width)) + 1  # with the chosen tokens
        limit = min((K_MAX + 1) // width, self.engine.context_length - longest + 1) - 1
        for alt in running:
            if alt.speculator is None or limit < 1:
                continue
            if alt.room > 0:
                alt.proposal = alt.speculator.propose(alt.history, min(alt.room, limit))

    def _pack(self, running: list[_Alternative]) -> None:
        """Move the highest running rows down into free rows below them: a forward pass runs
        every row up to the highest running one, so a lone sequence left in row 3 would
        otherwise pay for four rows at every token."""
        while True:
            top = max(running, key=lambda alt: alt.row)
            hole = next((row for row in range(top.row) if not self._taken[row]), None)
            if hole is None:
                return
            self._copy_row(top.row, hole, len(self._tokens[top.row]))
            self._taken[hole], self._taken[top.row] = True, False
            for sequence in self._sequences:
                sequence.rows = [hole if row == top.row else row for row in sequence.rows]
            top.row = hole

    def _keep_aside(self, row: int, busy: list[int]) -> None:
        """`row` is about to take an unrelated prompt: move the prompt it keeps to the free row
        (not in `busy`) that keeps the least, when that is less, so that a client coming back
        to that conversation still finds its prefix."""
        spares = [r for r, taken in enumerate(self._taken) if not taken and r not in busy]
        if not spares:
            return
        spare = min(spares, key=lambda r: (len(self._tokens[r]), r))
        if len(self._tokens[spare]) < len(self._tokens[row]):
            self._copy_row(row, spare, len(self._tokens[row]))

    def _copy_row(self, source: int, target: int, length: int) -> None:
        self._kv.copy_row(source, target, length)

    def _release(self, rows: list[int]) -> None:
        for row in rows:
            self._taken[row] = False

    def _forward(self, running: list[_Alternative]) -> None:
        """One token for each running alternative, all rows below the highest in one pass.
        A free row in between runs a throwaway token just past its kept tokens."""
        width = max(alt.row for alt in running) + 1
        positions = 1 + max(len(alt.proposal) for alt in running)
        if positions > 1:  # chosen tokens and proposals, checked in one pass
            checking = np.zeros((width, positions), dtype=np.int64)
            for alt in running:
                assert alt.next_token is not None
                checking[alt.row, : 1 + len(alt.proposal)] = [alt.next_token, *alt.proposal]
            counts = {alt.row: 1 + len(alt.proposal) for alt in running}
            checked = self._kv.forward_checked(checking, counts)
            for alt in running:
                alt.next_token = None
                alt.logits = alt.check.start(alt.proposal, checked[alt.row, : counts[alt.row]])
                alt.proposal = []
            return
        tokens = np.zeros(width, dtype=np.int64)
        for alt in running:
            assert alt.next_token is not None
            tokens[alt.row] = alt.next_token
        logits = self._kv.forward(tokens, [alt.row for alt in running])
        for alt in running:
            alt.next_token = None
            alt.logits = np.array(logits[alt.row], dtype=np.float32)


def open_batch_decoder(engine: object, rows: int) -> BatchDecoder | None:
    """A batch decoder for `engine`, or None where its graph cannot batch (no in-place
    GroupQueryAttention, or not on the CPU): requests then run one at a time."""
    if not isinstance(engine, Engine) or not engine.model.rows_in_place:
        return None
    return BatchDecoder(engine, rows)
