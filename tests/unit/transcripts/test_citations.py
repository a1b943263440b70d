"""A reply that answered from the user's documents keeps its citations in every export:
Markdown footnotes, plain-text source lists, HTML links to the file and page, JSON fields
(which import back, so export -> import -> export gives the same file)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from desktop_app.core.generation import FinishReason, GenerationSettings, GenerationStats
from desktop_app.engine import Finished, PromptPrepared, TextChunk
from desktop_app.session.chat import ChatSession, ModelRef
from desktop_app.session.documents import DocumentIndexer
from desktop_app.store import Store, open_store
from desktop_app.transcripts.export import conversations_bytes
from desktop_app.transcripts.json_format import import_json


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def grounded(store: Store, tmp_path: Path) -> tuple[str, Path]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "returns.md").write_text("# Returns\n\nUnused products may be returned within 45 days.\n", encoding="utf-8")
    (docs / "shipping.md").write_text("# Shipping\n\nExpress shipping costs 12 euros.\n", encoding="utf-8")
    DocumentIndexer(store).add([docs], "Shop")
    session = ChatSession(store, GenerationSettings)
    conversation = session.new_conversation("", GenerationSettings(max_new_tokens=32), "tiny")
    store.documents.attach(conversation.id, ["Shop"])
    _user, turn = session.send(conversation.id, "How long for returns?", ModelRef("tiny", "cpu", count_tokens=words))
    assert turn.grounding is not None and turn.grounding.whole
    number = next(n for n, p in enumerate(turn.grounding.passages, 1) if "45 days" in p.text)
    text = f"Within 45 days [{number}], as the policy says [{number}]. Not [9]."
    stats = GenerationStats(12, 9, 5.0, 50.0, FinishReason.STOP_TOKEN, seed=1)
    turn.run(
        [PromptPrepared(12, 0, 0, 4096), *(TextChunk(w) for w in re.findall(r"\S+\s*", text)), Finished(0, text, stats)]
    )
    return conversation.id, docs


def test_markdown_turns_citations_into_footnotes(store: Store, grounded: tuple[str, Path]) -> None:
    conversation_id, _ = grounded
    text = conversations_bytes(store, [conversation_id], "md").decode()
    [label] = set(re.findall(r"\[\^(\d+-\d+)\]", text))  # one source cited (twice), one definition
    assert f"Within 45 days [^{label}], as the policy says [^{label}]. Not [9]." in text
    assert (
        f'[^{label}]: returns.md, lines 1-3 — Returns: "Returns Unused products may be returned within 45 days."'
        in text
    )
    assert "shipping.md" not in text  # given to the model but not cited


def test_plain_text_lists_the_cited_sources(store: Store, grounded: tuple[str, Path]) -> None:
    conversation_id, _ = grounded
    text = conversations_bytes(store, [conversation_id], "txt").decode()
    assert re.search(r"Sources:\n\[\d\] returns\.md, lines 1-3 — Returns: Returns Unused products", text)


def test_html_links_each_citation_to_its_source_and_the_file(store: Store, grounded: tuple[str, Path]) -> None:
    conversation_id, docs = grounded
    page = conversations_bytes(store, [conversation_id], "html").decode()
    anchor = re.search(r'<a href="#(src-\d+-\d+)">\[\d\]</a>', page)
    assert anchor is not None
    assert f'<li id="{anchor.group(1)}"' in page
    assert f'<a href="{(docs / "returns.md").resolve().as_uri()}">open</a>' in page


def test_json_carries_the_sources_and_imports_them_back(
    store: Store, grounded: tuple[str, Path], tmp_path: Path
) -> None:
    conversation_id, _ = grounded
    exported = conversations_bytes(store, [conversation_id], "json")
    reply = json.loads(exported)["conversations"][0]["messages"][-1]
    assert {s["path"].rsplit("/", 1)[-1]: s["cited"] for s in reply["sources"]} == {
        "returns.md": True,
        "shipping.md": False,
    }
    assert "sources" not in json.loads(exported)["conversations"][0]["messages"][0]  # the question has none
    (tmp_path / "chat.json").write_bytes(exported)
    other = open_store(tmp_path / "other" / "inkwell.db")
    try:
        [imported] = import_json(other, tmp_path / "chat.json")
        assert conversations_bytes(other, [imported], "json") == exported
    finally:
        other.close()
    [copy] = import_json(store, tmp_path / "chat.json")  # into the same database: new ids, sources kept
    copied = json.loads(conversations_bytes(store, [copy], "json"))["conversations"][0]["messages"][-1]
    assert copied["sources"] == reply["sources"] and copied["id"] != reply["id"]


def test_a_transcript_with_two_sources_of_one_number_is_rejected(
    store: Store, grounded: tuple[str, Path], tmp_path: Path
) -> None:
    from desktop_app.transcripts.validate import ImportRejected

    conversation_id, _ = grounded
    document = json.loads(conversations_bytes(store, [conversation_id], "json"))
    sources = document["conversations"][0]["messages"][-1]["sources"]
    sources[1]["number"] = sources[0]["number"]
    (tmp_path / "bad.json").write_text(json.dumps(document), encoding="utf-8")
    before = store.conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]
    with pytest.raises(ImportRejected, match="same number"):
        import_json(store, tmp_path / "bad.json")
    assert store.conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == before
