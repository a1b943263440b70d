"""Answering from the user's documents: which passages go into the prompt, how they are
numbered for the model to cite, and which of them a reply cited.

When the documents attached to a question fit in about three quarters of the context they
go in whole (in order, so the model sees them as written); otherwise the passages that best
match the question go in, as many as fit, best first. Each source is numbered [1], [2]...
and the model is asked to cite them so; `cited()` reads the numbers back from its reply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from desktop_app.core.citations import cited_numbers
from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.records import Passage
from desktop_app.session.retrieval import Retriever
from desktop_app.store.words import query_words

WHOLE_SHARE = 0.75  # of the context, for documents that go in whole
RETRIEVED = 12  # passages ranked before those that fit are taken
TEMPLATE_SLACK = 64  # the chat template's own tokens around the messages
MAX_CHARS_PER_TOKEN = 8
FOLLOW_UP_WORDS = 4  # a question with fewer telling words leans on the one before it

INSTRUCTIONS = (
    "Answer the user's question from the numbered sources below, which come from the user's own "
    "documents. After each sentence that uses a source, cite it by its number in square brackets, "
    "like [1] or [2][3]. If the sources do not hold the answer, say that they do not, and do not "
    "make one up."
)

NO_MATCH = "(No passage of the user's documents matches this question.)"


@dataclass(frozen=True)
class Grounding:
    passages: tuple[Passage, ...]  # source n is passages[n - 1]
    whole: bool  # the attached documents went in whole

    def system_prompt(self) -> str:
        sources = "\n\n".join(f"[{n}] {p.label}\n{p.text}" for n, p in enumerate(self.passages, 1))
        return f"{INSTRUCTIONS}\n\nSources:\n\n{sources or NO_MATCH}"


def _cost(number: int, passage: Passage, count_tokens: Callable[[str], int]) -> int:
    """What source `number` adds to the prompt, label included."""
    return count_tokens(f"[{number}] {passage.label}\n{passage.text}") + 2


def ground(
    library: Retriever,
    question: str,
    collections: Sequence[str],
    context_length: int,
    count_tokens: Callable[[str], int],
    reserve_tokens: int,
) -> Grounding:
    """The sources for `question` from `collections`, within the context less `reserve_tokens`
    (the rest of the prompt: system prompt, conversation, question, and the reply's tokens).
    UserError when not even one passage can go in."""
    room = min(int(context_length * WHOLE_SHARE), context_length - TEMPLATE_SLACK) - reserve_tokens
    overhead = count_tokens(f"{INSTRUCTIONS}\n\nSources:\n\n") + 4
    if room <= overhead:
        raise UserError(
            translate("Errors", "There is no room in the model's context for passages from your documents."),
            hint=translate("Errors", "Ask for a shorter reply (max tokens), or start a new conversation."),
        )
    documents = library.store.documents
    passages, characters = documents.size(collections)
    # Whole documents only when they may fit: a token is rarely over MAX_CHARS_PER_TOKEN characters,
    # so a larger library is not loaded (nor counted) on every question.
    if passages and characters <= (room - overhead) * MAX_CHARS_PER_TOKEN:
        every = documents.passages(collections)
        if overhead + sum(_cost(n, p, count_tokens) for n, p in enumerate(every, 1)) <= room:
            return Grounding(tuple(every), whole=True)
    chosen: list[Passage] = []
    used = overhead
    ranked = library.search(question, collections, limit=RETRIEVED)
    for passage in ranked:
        cost = _cost(len(chosen) + 1, passage, count_tokens)
        if used + cost > room:
            continue  # a shorter one further down may still fit
        chosen.append(passage)
        used += cost
    if ranked and not chosen:
        raise UserError(
            translate(
                "Errors",
                "The model's context ({context_length} tokens) has no room for a passage from your documents "
                "beside this conversation.",
            ).format(context_length=context_length),
            hint=translate(
                "Errors", "Start a new conversation, ask for a shorter reply, or use a model with a longer context."
            ),
        )
    return Grounding(tuple(chosen), whole=False)


def standalone_query(questions: Sequence[str]) -> str:
    """What to search the documents for: the last question, and when it says too little to
    stand alone ("and for routers?", "how long does that take?"), the one before it too."""
    if not questions:
        return ""
    last = questions[-1]
    return last if len(query_words(last)) >= FOLLOW_UP_WORDS or len(questions) < 2 else f"{questions[-2]} {last}"


def cited(reply: str, grounding: Grounding) -> list[int]:
    """The source numbers the reply cites, in the order first cited (numbers that name no
    source, and brackets in code, are left out)."""
    return cited_numbers(reply, len(grounding.passages))


def source_json(grounding: Grounding, reply: str) -> list[dict[str, object]]:
    """The sources as `inkwell ask --json` gives them: number, file, where, snippet, score,
    and whether the reply cited it."""
    quoted = set(cited(reply, grounding))
    return [
        {
            "number": n,
            "path": p.path,
            "collection": p.collection,
            "where": p.where,
            "page": p.page,
            "line_start": p.line_start,
            "line_end": p.line_end,
            "heading": p.heading,
            "snippet": " ".join(p.text.split())[:300],
            "score": round(p.score, 4),
            "cited": n in quoted,
        }
        for n, p in enumerate(grounding.passages, 1)
    ]
