"""Answering from documents: what goes into the prompt (whole or the best passages that fit),
how sources are numbered and read back as citations, and how a chat keeps them with a reply."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationSettings, GenerationStats
from desktop_app.engine import Finished, PromptPrepared, TextChunk
from desktop_app.session.chat import ChatSession, ModelRef
from desktop_app.session.documents import DocumentIndexer
from desktop_app.session.grounding import INSTRUCTIONS, Grounding, cited, ground, standalone_query
from desktop_app.session.retrieval import Retriever
from desktop_app.store import Store


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def library(store: Store, tmp_path: Path) -> Store:
    folder = tmp_path / "docs"
    folder.mkdir()
    sections = [f"## Topic {i}\n\nTopic {i} covers item{i} and nothing else, in plain words.\n" for i in range(40)]
    (folder / "big.md").write_text("# Big guide\n\n" + "\n".join(sections), encoding="utf-8")
    (folder / "refunds.md").write_text(
        "# Refunds\n\nRefunds reach the card within 7 business days.\n", encoding="utf-8"
    )
    DocumentIndexer(store).add([folder / "big.md"], "Guide")
    DocumentIndexer(store).add([folder / "refunds.md"], "Policies")
    return store


def test_documents_that_fit_go_in_whole_in_reading_order(library: Store) -> None:
    grounding = ground(Retriever(library), "anything", ["Policies"], 4096, words, 100)
    assert grounding.whole and [p.text for p in grounding.passages] == [
        "Refunds\n\nRefunds reach the card within 7 business days."
    ]
    prompt = grounding.system_prompt()
    assert "[1] refunds.md, lines 1-3 — Refunds\nRefunds" in prompt and "cite it by its number" in prompt


def test_otherwise_the_best_passages_that_fit_go_in_best_first(library: Store) -> None:
    grounding = ground(Retriever(library), "what does topic 17 cover", ["Guide"], 300, words, 60)
    assert not grounding.whole and grounding.passages
    assert "item17" in grounding.passages[0].text
    overhead = words(f"{INSTRUCTIONS}\n\nSources:\n\n") + 4
    costs = [words(f"[{n}] {p.label}\n{p.text}") + 2 for n, p in enumerate(grounding.passages, 1)]
    assert overhead + sum(costs) <= min(int(300 * 0.75), 300 - 64) - 60  # labels counted too
    assert (
        ground(Retriever(library), "the of and", ["Guide"], 300, words, 60).passages == ()
    )  # nothing telling to search


def test_no_room_for_sources_is_a_clear_error(library: Store) -> None:
    with pytest.raises(UserError, match="no room"):
        ground(Retriever(library), "refunds", ["Policies"], 100, words, 90)
    overhead = words(f"{INSTRUCTIONS}\n\nSources:\n\n") + 4
    with pytest.raises(UserError, match="no room for a passage"):  # room, but less than any passage needs
        ground(Retriever(library), "refunds", ["Policies"], 400, words, 300 - overhead - 5)


def test_citations_are_read_back_in_order_and_unknown_numbers_ignored(library: Store) -> None:
    grounding = ground(Retriever(library), "topic", ["Guide"], 4096, words, 0)
    assert len(grounding.passages) > 3
    reply = "Yes [3]. Also [1][2], and see [2, 3]; not [99] nor [0] nor [x]."
    assert cited(reply, grounding) == [3, 1, 2]
    assert cited("No sources used.", grounding) == []
    assert grounding.passages[0].label == "big.md, lines 3-5 — Big guide › Topic 0"


def test_a_short_follow_up_leans_on_the_question_before_it() -> None:
    assert standalone_query(["How long do refunds to a card take?"]) == "How long do refunds to a card take?"
    assert standalone_query(["How long do refunds to a card take?", "and to PayPal?"]) == (
        "How long do refunds to a card take? and to PayPal?"
    )
    full = "Which express shipping options exist for Ireland?"
    assert standalone_query(["Hello", full]) == full


def reply_events(text: str) -> list[object]:
    stats = GenerationStats(12, 3, 5.0, 50.0, FinishReason.STOP_TOKEN, seed=7)
    return [
        PromptPrepared(12, 0, 0, 4096),
        *(TextChunk(w) for w in re.findall(r"\S+\s*", text)),
        Finished(0, text, stats),
    ]


def test_a_chat_with_attached_collections_answers_from_them_and_keeps_the_cited_sources(library: Store) -> None:
    session = ChatSession(library, GenerationSettings)
    conversation = session.new_conversation("Be brief.", GenerationSettings(max_new_tokens=64), "tiny")
    library.documents.attach(conversation.id, ["Policies", "Guide"])
    assert library.documents.attached(conversation.id) == ["Guide", "Policies"]
    model = ModelRef("tiny", "cpu", context_length=400, count_tokens=words)
    _user, turn = session.send(conversation.id, "How long do refunds to the card take?", model)
    assert turn.grounding is not None and not turn.grounding.whole
    system = turn.request.messages[0]
    assert system.role == "system" and system.content.startswith("Be brief.\n\nAnswer the user's question")
    number = next(n for n, p in enumerate(turn.grounding.passages, 1) if "7 business days" in p.text)
    message = turn.run(reply_events(f"Within 7 business days [{number}]."))
    assert message is not None
    sources = library.documents.sources(message.id)
    assert [n for n, _p, was_cited in sources if was_cited] == [number]
    assert len(sources) == len(turn.grounding.passages)
    library.documents.remove_collection("Policies")  # the documents leave; the reply keeps its sources
    assert [p.text for n, p, _c in library.documents.sources(message.id) if n == number] == [
        "Refunds\n\nRefunds reach the card within 7 business days."
    ]


def test_a_chat_without_collections_is_unchanged(library: Store) -> None:
    session = ChatSession(library, GenerationSettings)
    conversation = session.new_conversation("", GenerationSettings(), "tiny")
    _user, turn = session.send(conversation.id, "Hello", ModelRef("tiny", "cpu"))
    assert turn.grounding is None and [m.role for m in turn.request.messages] == ["user"]


def test_grounding_is_a_value_with_numbered_sources() -> None:
    assert (
        Grounding((), whole=False)
        .system_prompt()
        .endswith("Sources:\n\n(No passage of the user's documents matches this question.)")
    )


def test_a_message_whose_sources_cannot_fit_is_not_kept(library: Store) -> None:
    session = ChatSession(library, GenerationSettings)
    conversation = session.new_conversation("", GenerationSettings(max_new_tokens=64), "tiny")
    library.documents.attach(conversation.id, ["Policies"])
    with pytest.raises(UserError, match="no room"):
        session.send(conversation.id, "How long do refunds take?", ModelRef("tiny", "cpu", context_length=100))
    assert library.conversations.messages(conversation.id) == []  # nothing half-sent to retry twice
