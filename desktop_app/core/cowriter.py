"""The co-writer's actions and the prompts they send: pure functions, no Qt, no model.

An action works on the selection (or, for Continue, at the cursor). The prompt holds the
selection whole and as much of the text around it as fits the context window, the text
before the cursor first; the selection itself too long is a clear error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from desktop_app.core.chat import ChatMessage
from desktop_app.core.citations import replace_citations
from desktop_app.core.errors import UserError

SYSTEM = (
    "You are a careful writing assistant. You help the user with their own text. "
    "Reply with the requested text only: no preamble, no quotes around it, no notes after it."
)


@dataclass(frozen=True)
class Action:
    id: str
    label: str
    instruction: str
    replaces: bool = True  # the result takes the selection's place; else it is inserted at the cursor
    needs_selection: bool = True
    temperature: float = 0.5  # low for corrections, higher for new writing


ACTIONS: dict[str, Action] = {
    a.id: a
    for a in (
        Action(
            "continue",
            "Continue writing",
            "Continue the text from exactly where it stops, in the same voice and style. "
            "Write the next few sentences only.",
            replaces=False,
            needs_selection=False,
            temperature=0.8,
        ),
        Action(
            "clearer", "Rewrite: clearer", "Rewrite the passage so it is clearer and easier to read. Keep its meaning."
        ),
        Action("shorter", "Rewrite: shorter", "Rewrite the passage to be about half as long. Keep the key points."),
        Action("longer", "Rewrite: longer", "Rewrite the passage with more detail and explanation. Keep its meaning."),
        Action("formal", "Rewrite: more formal", "Rewrite the passage in a more formal, professional tone."),
        Action("friendly", "Rewrite: friendlier", "Rewrite the passage in a warmer, friendlier tone."),
        Action(
            "grammar",
            "Fix grammar and spelling",
            "Correct the grammar, spelling and punctuation of the passage. Change nothing else.",
            temperature=0.2,
        ),
        Action("summarise", "Summarise", "Summarise the passage in two or three sentences."),
        Action("bullets", "Make a bulleted list", "Turn the passage into a Markdown bulleted list of its points."),
        Action(
            "translate",
            "Translate",
            "Translate the passage into {language}. Keep its meaning and tone.",
            temperature=0.2,
        ),
        Action("custom", "Ask about selection", "{instruction}"),
        Action(
            "docs",
            "Ask about my documents",
            "{instruction}",
            replaces=False,
            needs_selection=False,
            temperature=0.3,
        ),
    )
}
REWRITES = ("clearer", "shorter", "longer", "formal", "friendly")
LANGUAGES = ("English", "French", "German", "Spanish", "Italian", "Portuguese", "Dutch", "Chinese", "Japanese")


@dataclass(frozen=True)
class Passage:
    """The part of the draft an action sees: the selection and the text around it."""

    before: str
    selection: str
    after: str
    clipped_before: bool = False  # text before `before` was left out to fit the context
    clipped_after: bool = False


def instruction_for(action: Action, language: str = "", instruction: str = "") -> str:
    if action.id == "translate" and not language.strip():
        raise UserError("Choose a language to translate into.")
    if action.id == "custom" and not instruction.strip():
        raise UserError("Write what you want to know or change about the selection.")
    if action.id == "docs" and not instruction.strip():
        raise UserError("Write what you want to know from your documents.")
    return action.instruction.format(language=language.strip(), instruction=instruction.strip())


def build_messages(
    action: Action, passage: Passage, language: str = "", instruction: str = "", sources: str = ""
) -> list[ChatMessage]:
    """The chat messages for an action on a passage (`sources`: the numbered passages from the
    user's documents that "Ask about my documents" answers from)."""
    task = instruction_for(action, language, instruction)
    if action.id == "docs":
        lead = passage.before[-1500:].strip()
        where = f"The answer goes into the user's text after:\n<<<\n{lead}\n>>>\n\n" if lead else ""
        return [
            ChatMessage("system", f"{SYSTEM}\n\n{sources}"),
            ChatMessage("user", f"{where}{task}"),
        ]
    if action.id == "continue":
        text = passage.before + passage.selection
        if not text.strip():
            raise UserError("There is no text before the cursor to continue from.")
        lead = "(The text starts earlier; this is its end.)\n" if passage.clipped_before else ""
        return [
            ChatMessage("system", SYSTEM),
            ChatMessage("user", f"{task}\n\nThe text so far:\n{lead}<<<\n{text}\n>>>"),
        ]
    if action.needs_selection and not passage.selection.strip():
        raise UserError("Select the text to work on first.")
    context = ""
    if passage.before.strip() or passage.after.strip():
        context = (
            "For context, the text around the passage (do not rewrite it):\n<<<\n"
            f"{passage.before}[PASSAGE]{passage.after}\n>>>\n\n"
        )
    return [
        ChatMessage("system", SYSTEM),
        ChatMessage("user", f"{context}{task}\n\nThe passage:\n<<<\n{passage.selection}\n>>>"),
    ]


def fit_passage(
    text: str,
    start: int,
    end: int,
    count_tokens: Callable[[str], int],
    budget: int,
    before_share: float = 0.7,
) -> Passage:
    """The selection text[start:end] with as much surrounding text as fits `budget` tokens
    (counting the prompt's fixed parts as well): `before_share` of the room goes before."""
    selection = text[start:end]
    overhead = count_tokens(SYSTEM) + 120  # the instruction and the markers
    needed = count_tokens(selection) + overhead
    if needed > budget:
        raise UserError(
            f"The selection is too long for the model: it needs about {needed:,} tokens and "
            f"{budget:,} fit in its context window.",
            hint="Select a shorter part (a few paragraphs) and try again.",
        )
    room = budget - needed
    before = _tail_fitting(text[:start], count_tokens, int(room * before_share))
    room_after = room - count_tokens(before)
    after = _head_fitting(text[end:], count_tokens, room_after)
    return Passage(before, selection, after, len(before) < start, len(after) < len(text) - end)


def _tail_fitting(text: str, count_tokens: Callable[[str], int], room: int) -> str:
    """The longest end of `text` within `room` tokens (binary search on characters)."""
    if room <= 0 or not text:
        return ""
    if count_tokens(text) <= room:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens(text[len(text) - middle :]) <= room:
            low = middle
        else:
            high = middle - 1
    return text[len(text) - low :]


def _head_fitting(text: str, count_tokens: Callable[[str], int], room: int) -> str:
    reversed_tail = _tail_fitting(text[::-1], lambda t: count_tokens(t[::-1]), room)
    return reversed_tail[::-1]


def clean_result(text: str) -> str:
    """Strip what small models add around an answer: the <<< >>> markers, a preamble line
    ("Here is the rewritten passage:"), surrounding quotes."""
    cleaned = text.strip()
    for marker in ("<<<", ">>>"):
        cleaned = cleaned.replace(marker, "")
    cleaned = cleaned.strip()
    first, _, rest = cleaned.partition("\n")
    if rest.strip() and first.rstrip().endswith(":") and len(first) < 80:
        cleaned = rest.strip()
    if len(cleaned) > 1 and cleaned[0] == cleaned[-1] and cleaned[0] in "\"'":
        cleaned = cleaned[1:-1].strip()
    return cleaned


_FOOTNOTE = re.compile(r"\[\^(\d+)\]")


def cite_as_footnotes(draft: str, answer: str, labels: Sequence[str]) -> tuple[str, str]:
    """An answer's [n] citations (n naming labels[n - 1]) as Markdown footnotes numbered after
    the draft's own: the answer with [^k] marks, and the definitions to add at the end."""
    start = max((int(n) for n in _FOOTNOTE.findall(draft)), default=0)
    numbers: dict[int, int] = {}

    def mark(n: int) -> str:
        return f"[^{numbers.setdefault(n, start + len(numbers) + 1)}]"

    marked = replace_citations(answer, set(range(1, len(labels) + 1)), mark)
    notes = "\n".join(f"[^{k}]: {labels[n - 1]}" for n, k in numbers.items())
    return marked, notes
