"""What Engine.generate() yields: plain values, so any front end can adapt them."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.chat import ToolCall
from desktop_app.core.generation import GenerationStats


@dataclass(frozen=True)
class PromptPrepared:
    """The prompt is tokenized and fits: how long it is and what had to be dropped."""

    prompt_tokens: int
    dropped_messages: int
    reused_tokens: int
    context_length: int


@dataclass(frozen=True)
class TextChunk:
    """New text of alternative `index` (0 unless several alternatives were asked for)."""

    text: str
    index: int = 0


@dataclass(frozen=True)
class ReasoningChunk:
    """New reasoning of alternative `index` (a thinking model's, before its answer); the
    markers around it are left out. Callers that do not show reasoning ignore it."""

    text: str
    index: int = 0


@dataclass(frozen=True)
class Finished:
    """Alternative `index` is complete; `text` is its whole text (the answer, without the
    reasoning, which is `reasoning`, and without the calls' text, read into `tool_calls`)
    and `token_ids` the tokens it was decoded from (an end token not included)."""

    index: int
    text: str
    stats: GenerationStats
    token_ids: tuple[int, ...] = ()
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()  # the functions the model called (the request had tools)


Event = PromptPrepared | TextChunk | ReasoningChunk | Finished
