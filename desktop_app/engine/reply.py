"""One reply's text as its tokens come: the pieces every token loop shares.

`ReplyText` is what Engine.generate's loop and the batch decoder's rows both hold for each
alternative: it picks the next token under the reply's grammar (a JSON response format, or
the tool calls) or takes one the engine writes for the model (the close of a spent
reasoning budget), and turns each token into the events the caller sees: the text through
the detokenizer and the stop sequences, a thinking model's reasoning split from its
answer, and tool calls kept out of the text and read at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from time import perf_counter

import numpy as np

from desktop_app.core.chat import ToolCall
from desktop_app.core.generation import FinishReason, GenerationStats
from desktop_app.engine.constraints import TokenConstraint
from desktop_app.engine.events import Event, Finished, ReasoningChunk, TextChunk
from desktop_app.engine.reasoning import THINKING_MARKERS, ReasoningSplitter, ThinkingMarkers
from desktop_app.engine.sampling import Sampler
from desktop_app.engine.stops import StopSequenceFilter
from desktop_app.engine.tokenizer import IncrementalDecoder, Tokenizer
from desktop_app.engine.tool_calls import TOOL_CALL_FORMATS, ToolCallStream


@dataclass(frozen=True)
class ReasoningPlan:
    """A chat reply of a thinking model: its markers, whether the prompt left the reasoning
    open, and its budget in tokens (-1: none)."""

    markers: ThinkingMarkers
    inside: bool
    budget: int


class ReplyText:
    """One alternative's reply: see the module's text. `open_calls` makes the grammar of
    the calls once the model opens them itself (tool_choice auto)."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        stop_sequences: Sequence[str],
        index: int,
        reasoning: ReasoningPlan | None = None,
        constraint: TokenConstraint | None = None,
        calls: ToolCallStream | None = None,
        open_calls: Callable[[], TokenConstraint] | None = None,
        markers: dict[int, str] | None = None,
    ) -> None:
        self.index = index
        self.constraint = constraint
        self._tokenizer = tokenizer
        self._decoder = IncrementalDecoder(tokenizer)
        self._stops = StopSequenceFilter(stop_sequences)
        self._thinking = _Thinking(reasoning, index) if reasoning is not None else None
        self._calls = calls
        self._open_calls = open_calls
        self._forced: list[int] = []  # tokens written for the model: the close of a spent reasoning budget
        self._picked_forced = False
        self._pieces: list[str] = []
        # Special tokens that are markers (Mistral's [TOOL_CALLS], Magistral's [THINK]): the
        # detokenizer leaves special tokens out, the splitters need to see them.
        self._markers = markers or {}
        self._tool_calls: tuple[ToolCall, ...] = ()  # read at the end

    def pick(self, logits: np.ndarray, sampler: Sampler, history: Sequence[int]) -> int:
        """The next token: one the engine writes, or the sampler's under the grammar."""
        self._picked_forced = bool(self._forced)
        if self._forced:
            return self._forced.pop(0)
        if self.constraint is not None:
            logits = self.constraint.allowed(logits)
        return sampler(logits, history)

    def accept(self, token: int) -> list[Event]:
        """`token` (not an end token) is the reply's next: the events of its text."""
        if self.constraint is not None and not self._picked_forced:
            self.constraint.advance(token)
        piece = self._stops.feed(self._decoder.push(token) + self._markers.get(token, ""))
        thinking = self._thinking
        events = self._shown(thinking.split(piece) if thinking is not None else [TextChunk(piece, self.index)])
        if thinking is not None and thinking.spent() and not self._forced:
            self._forced = self._tokenizer.encode(thinking.close_text)
        calls = self._calls
        if self._open_calls is not None and calls is not None and calls.opened and self.constraint is None:
            if not calls.after_marker.strip():  # the model opened a call: from here on it keeps to the schemas
                self.constraint = self._open_calls()
            self._open_calls = None
        return events

    @property
    def stopped(self) -> bool:
        """A stop sequence ended the reply."""
        return self._stops.stopped

    @property
    def complete(self) -> bool:
        """The grammar is complete: only the end may follow."""
        return self.constraint is not None and self.constraint.done

    def end(self, reason: FinishReason) -> list[Event]:
        """The reply is over (for `reason`): what the detokenizer, the stop filter and the
        splitters held. Whole calls count unless the user stopped the reply."""
        tail = "" if self._stops.stopped else self._stops.feed(self._decoder.flush()) + self._stops.flush()
        thinking = self._thinking
        events = self._shown(
            [*thinking.split(tail, token=False), *thinking.flush()]
            if thinking is not None
            else [TextChunk(tail, self.index)]
        )
        if self._calls is not None:
            rest, calls = self._calls.finish()
            if reason is not FinishReason.CANCELLED:  # stopped by the user: no call of it runs
                self._tool_calls = calls
            if calls:
                rest = ""  # a call cut short after whole ones: markup, not text
            if rest:
                self._pieces.append(rest)
                events.append(TextChunk(rest, self.index))
        return events

    def finished(self, stats: GenerationStats, generated: Sequence[int]) -> Finished:
        """The alternative's Finished (after end())."""
        thinking = self._thinking
        if thinking is not None:
            stats = replace(stats, reasoning_tokens=thinking.tokens, reasoning_ms=thinking.elapsed_ms(perf_counter()))
        reasoning = thinking.text if thinking is not None else ""
        return Finished(self.index, "".join(self._pieces), stats, tuple(generated), reasoning, self._tool_calls)

    def _shown(self, events: Sequence[ReasoningChunk | TextChunk]) -> list[Event]:
        """The events as the reply shows them: empty text dropped, the calls' text held back."""
        shown: list[Event] = []
        for event in events:
            if isinstance(event, TextChunk):
                text = self._calls.feed(event.text) if self._calls is not None else event.text
                if text:
                    self._pieces.append(text)
                    shown.append(TextChunk(text, event.index))
            elif event.text:
                shown.append(event)
        return shown


class _Thinking:
    """One reply's reasoning: splits its text, counts its tokens against the budget."""

    def __init__(self, plan: ReasoningPlan, index: int) -> None:
        self.plan = plan
        self.index = index
        self.splitter = ReasoningSplitter(plan.markers, plan.inside)
        self.tokens = 0
        self._parts: list[str] = []
        self._closing = False  # the forced close is on its way
        self._began: float | None = None
        self._ended: float | None = None
        self.close_text = "\n" + plan.markers.close + "\n\n"

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def split(self, piece: str, token: bool = True) -> list[ReasoningChunk | TextChunk]:
        """The events of one token's text (or, not `token`, of the decoder's tail); the token
        counts as reasoning when it came inside the reasoning, or opened it."""
        now = perf_counter()
        was_inside = self.splitter.reasoning
        reasoning, answer = self.splitter.feed(piece) if piece else ("", "")
        if token and (was_inside or self.splitter.reasoning):
            self.tokens += 1
            if self._began is None:
                self._began = now
        if self._began is not None and self._ended is None and self.splitter.answering:
            self._ended = now
        return self._events(reasoning, answer)

    def flush(self) -> list[ReasoningChunk | TextChunk]:
        return self._events(*self.splitter.flush())

    def _events(self, reasoning: str, answer: str) -> list[ReasoningChunk | TextChunk]:
        events: list[ReasoningChunk | TextChunk] = []
        if reasoning:
            self._parts.append(reasoning)
            events.append(ReasoningChunk(reasoning, self.index))
        if answer:
            events.append(TextChunk(answer, self.index))
        return events

    def spent(self) -> bool:
        """The budget is used up inside the reasoning: time to close it (once)."""
        if self._closing or self.plan.budget < 0 or not self.splitter.reasoning:
            return False
        if self.tokens >= self.plan.budget:
            self._closing = True
            return True
        return False

    def elapsed_ms(self, now: float) -> float:
        if self._began is None:
            return 0.0
        return ((self._ended or now) - self._began) * 1000


def marker_tokens(tokenizer: Tokenizer) -> dict[int, str]:
    """Special tokens that are thinking or tool-call markers, by id: the detokenizer leaves
    special tokens out of the text, the splitters must still see these."""
    texts = {m for fmt in TOOL_CALL_FORMATS for m in (fmt.start, fmt.end) if m}
    texts |= {m for markers in THINKING_MARKERS for m in (markers.open, markers.close)}
    found = {}
    for text in sorted(texts):
        token = tokenizer.token_to_id(text)
        if token is not None and tokenizer.decode([token]) == "":
            found[token] = text
    return found
