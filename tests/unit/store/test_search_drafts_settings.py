from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from desktop_app.core.records import SearchHit
from desktop_app.store import Store
from desktop_app.store import drafts as drafts_module
from desktop_app.store.drafts import DraftRepository
from desktop_app.store.search import fts_query


def test_search_ranks_and_highlights_titles_messages_and_drafts(store: Store) -> None:
    c = store.conversations.create("Refund policy")
    store.conversations.add_message(c.id, "user", "Can I get a refund for my order?")
    store.conversations.add_message(c.id, "assistant", "Refunds are possible within thirty days.")
    store.drafts.create("Reply to Anna", "Dear Anna, your refund was approved.")
    other = store.conversations.create("Cooking")
    store.conversations.add_message(other.id, "user", "How long do I boil an egg?")

    hits = store.search.search("refund")
    kinds = {h.kind for h in hits}
    assert kinds == {"conversation", "message", "draft"}
    assert all(h.conversation_id != other.id for h in hits)
    message_hit = next(h for h in hits if h.kind == "message" and "order" in h.snippet)
    assert f"{SearchHit.MARK_START}refund{SearchHit.MARK_END}" in message_hit.snippet
    assert message_hit.message_id is not None
    assert [h.rank for h in hits] == sorted(h.rank for h in hits)
    assert store.search.search("REFUNDS")  # case and prefix: "refunds" matches too
    assert store.search.search("boil egg")[0].conversation_id == other.id
    assert store.search.search("boil refund") == []  # every word must match


def test_search_stays_in_sync_after_edits_and_deletes(store: Store) -> None:
    c = store.conversations.create()
    message = store.conversations.add_message(c.id, "user", "banana bread recipe")
    assert store.search.search("banana")
    store.conversations.update_message(message.id, content="apple pie recipe")
    assert not [h for h in store.search.search("banana") if h.kind == "message"]
    assert store.search.search("apple")
    store.conversations.delete(c.id)
    assert store.search.search("apple") == []  # trashed conversations are not found
    store.conversations.restore(c.id)
    assert store.search.search("apple")
    store.conversations.purge(c.id)
    assert store.search.search("apple") == []
    store.conn.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")


@pytest.mark.parametrize("text", ['"', "AND OR NOT", "NEAR(a b", "title:foo", "*", "a' OR 1=1 --", "(((", ""])
def test_search_syntax_in_the_users_words_is_harmless(store: Store, text: str) -> None:
    store.search.search(text)  # no exception
    query = fts_query(text)
    assert query is None or all(part.startswith('"') for part in query.split())


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_revisions_are_throttled_bounded_and_restorable(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    repo = DraftRepository(store, clock=clock)
    draft = repo.create("Letter", "v1")
    repo.save(draft.id, body="v2")  # first change: a revision of v1
    clock.now += timedelta(seconds=2)
    repo.save(draft.id, body="v3")  # too soon: no new revision
    assert [r.body for r in repo.revisions(draft.id)] == ["v1"]
    clock.now += timedelta(seconds=drafts_module.REVISION_INTERVAL_S)
    repo.save(draft.id, body="v4")
    assert [r.body for r in repo.revisions(draft.id)] == ["v3", "v1"]

    monkeypatch.setattr(drafts_module, "MAX_REVISIONS", 2)
    clock.now += timedelta(minutes=1)
    repo.save(draft.id, body="v5")
    assert [r.body for r in repo.revisions(draft.id)] == ["v4", "v3"]

    oldest = repo.revisions(draft.id)[-1]
    restored = repo.restore_revision(oldest.id)
    assert restored.body == "v3"
    assert repo.revisions(draft.id)[0].body == "v5"  # what was replaced is kept


def test_drafts_trash_duplicate_rename(store: Store) -> None:
    draft = store.drafts.create("Essay", "Body text")
    copy = store.drafts.duplicate(draft.id)
    assert copy.title == "Essay (copy)" and copy.body == "Body text"
    store.drafts.rename(draft.id, "Final essay")
    store.drafts.delete(copy.id)
    assert [d.title for d in store.drafts.all()] == ["Final essay"]
    assert [d.id for d in store.drafts.trash()] == [copy.id]
    store.drafts.restore(copy.id)
    assert len(store.drafts.all()) == 2


def test_settings_are_typed(store: Store) -> None:
    assert store.settings.get("font_size", 12) == 12
    store.settings.set("font_size", 14)
    store.settings.set("theme", "dark")
    store.settings.set("temperature", 1)
    assert store.settings.get("font_size", 12) == 14
    assert store.settings.get("theme", 12) == 12  # stored type differs from the default's: the default
    assert store.settings.get("temperature", 0.7) == 1.0
    assert store.settings.get("theme", "light") == "dark"
    store.settings.delete("theme")
    assert store.settings.get("theme", "light") == "light"


def test_snippets_centre_on_the_first_match_and_mark_prefixes() -> None:
    from desktop_app.store.search import make_snippet

    text = " ".join(f"w{i}" for i in range(40)) + " the Translation was good " + " ".join(f"v{i}" for i in range(40))
    snippet = make_snippet(text, ["transl"])
    assert f"{SearchHit.MARK_START}Translation{SearchHit.MARK_END}" in snippet
    assert snippet.startswith("… ") and snippet.endswith(" …") and len(snippet.split()) <= 18
    # earlier words match whole, only the last one as a prefix
    assert (
        make_snippet("cat category", ["cat", "dog"], whole=True)
        == f"{SearchHit.MARK_START}cat{SearchHit.MARK_END} category"
    )
