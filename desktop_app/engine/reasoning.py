"""Thinking models: where a reply's reasoning ends and its answer begins.

Models such as Qwen3, DeepSeek-R1 distills, Phi-4 reasoning and Magistral write their
reasoning between markers (`<think>` … `</think>`) before the answer. Which markers a
model uses, and whether its template takes an `enable_thinking` switch, is read here from
the template and the vocabulary, in one declared table (`THINKING_MARKERS`). Nothing else
in the engine knows a marker's spelling.

`ReasoningSplitter` cuts the streamed text in two: reasoning (the markers left out) and
answer. A template may open the reasoning itself (its generation prompt ends with the
open marker, as DeepSeek-R1's does); the model may also open it as its first words. A
marker split across two pieces of the stream is held back until it is whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ThinkingMarkers:
    open: str
    close: str


# The markers thinking models are trained with (llama.cpp's common/chat.cpp recognises the
# same): DeepSeek-R1, Qwen3, QwQ, Phi-4 reasoning, SmolLM3 and most others use think tags;
# Mistral's Magistral uses [THINK] … [/THINK].
THINKING_MARKERS = (
    ThinkingMarkers("<think>", "</think>"),
    ThinkingMarkers("[THINK]", "[/THINK]"),
)

# The template variable that turns thinking on or off (Qwen3, SmolLM3, Granite, DeepSeek V3.1).
THINKING_SWITCH = "enable_thinking"


@dataclass(frozen=True)
class ThinkingSyntax:
    """How a model thinks: its markers, and whether its template has the switch."""

    markers: ThinkingMarkers
    switch: bool

    def opens_in(self, prompt: str) -> bool:
        """The rendered prompt leaves the reasoning open: the reply starts inside it."""
        return prompt.rstrip().endswith(self.markers.open)

    def closed_prompt(self, prompt: str) -> str:
        """`prompt`, whose reasoning is open, with an empty reasoning closed: the reply is the
        answer (what Qwen3's template itself writes when thinking is off)."""
        return prompt + "\n\n" + self.markers.close + "\n\n"

    @property
    def forced_close(self) -> str:
        """What ends the reasoning when its budget is spent (as llama.cpp's budget does)."""
        return "\n" + self.markers.close + "\n\n"


@lru_cache(maxsize=16)
def _from_template(template: str) -> ThinkingSyntax | None:
    for markers in THINKING_MARKERS:
        if markers.close in template or markers.open in template:
            return ThinkingSyntax(markers, THINKING_SWITCH in template)
    return None


def thinking_syntax(
    template: str | None, is_token: Callable[[str], bool] = lambda _text: False
) -> ThinkingSyntax | None:
    """The model's thinking syntax: from its chat template, else from its vocabulary (a
    single token for both markers says the model was trained to think); None when it does
    not think."""
    found = _from_template(template or "")
    if found is not None:
        return found
    for markers in THINKING_MARKERS:
        if is_token(markers.open) and is_token(markers.close):
            return ThinkingSyntax(markers, False)
    return None


class ReasoningSplitter:
    """Feeds on the reply's text; hands back (reasoning, answer) pieces."""

    def __init__(self, markers: ThinkingMarkers, inside: bool = False) -> None:
        self.markers = markers
        self._state = "reasoning" if inside else "start"
        self._held = ""
        self.opened = inside  # the reply has (or had) a reasoning section

    @property
    def reasoning(self) -> bool:
        """Inside the reasoning now."""
        return self._state == "reasoning"

    @property
    def answering(self) -> bool:
        """Past the reasoning (or there was none)."""
        return self._state in ("gap", "answer")

    def feed(self, text: str) -> tuple[str, str]:
        self._held += text
        reasoning, answer = "", ""
        while self._held:
            if self._state == "start":
                stripped = self._held.lstrip()
                if stripped.startswith(self.markers.open):
                    self._held = stripped[len(self.markers.open) :]
                    self._state, self.opened = "reasoning", True
                    continue
                if stripped and not self.markers.open.startswith(stripped):
                    self._state = "answer"
                    continue
                break  # only blanks, or the open marker's beginning: wait for more
            if self._state == "reasoning":
                at = self._held.find(self.markers.close)
                if at >= 0:
                    reasoning += self._held[:at]
                    self._held = self._held[at + len(self.markers.close) :]
                    self._state = "gap"
                    continue
                keep = _partial_suffix(self._held, self.markers.close)
                reasoning += self._held[: len(self._held) - keep]
                self._held = self._held[len(self._held) - keep :]
                break
            if self._state == "gap":  # the blank lines between reasoning and answer
                self._held = self._held.lstrip()
                if self._held:
                    self._state = "answer"
                continue
            answer += self._held
            self._held = ""
        return reasoning, answer

    def flush(self) -> tuple[str, str]:
        """The end of the reply: what was held back is what it looked like."""
        held, self._held = self._held, ""
        if self._state == "reasoning":
            return held, ""
        return "", held.lstrip() if self._state in ("start", "gap") else held


def _partial_suffix(text: str, marker: str) -> int:
    """The length of the longest end of `text` that begins `marker`."""
    for length in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-length:]):
            return length
    return 0
