"""Compare mode's comparisons and votes: the migration, writing, voting, surviving a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.store import Store, open_store
from desktop_app.store.migrations import MIGRATIONS, m007_compare_votes
from desktop_app.store.votes import Comparison, ContestantRecord
from desktop_app.store.words import register

COMPARISON_COLUMNS = {
    "n", "id", "created", "prompt", "system_prompt", "source_message_id",
    "a_model_id", "a_quantization", "a_provider", "a_settings", "a_label",
    "b_model_id", "b_quantization", "b_provider", "b_settings", "b_label",
    "output_a", "output_b", "stats_a", "stats_b", "seed", "draw", "shown_left", "vote", "voted_at",
}  # fmt: skip


def comparison(label_a: str = "tiny (q4) · greedy", label_b: str = "tiny (q4) · temperature 0.8") -> Comparison:
    return Comparison(
        id="",
        created="",
        prompt="Say hello",
        system_prompt="Be brief.",
        source_message_id="M1",
        a=ContestantRecord("tiny", "q4", "cpu", {"temperature": 0.0, "num_beams": 1}, label_a),
        b=ContestantRecord("tiny", "q4", "cpu", {"temperature": 0.8, "num_beams": 1}, label_b),
        output_a="Hello.",
        output_b="Hi there, 你好!",
        stats_a={"generated_tokens": 2, "finish_reason": "stop_token"},
        stats_b={"generated_tokens": 5, "finish_reason": "stop_token"},
        seed=2**61 + 7,
        draw=0.73,
        shown_left="second",
    )


def test_the_migration_adds_the_comparisons_to_a_database_of_the_release_before(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    before = MIGRATIONS[: MIGRATIONS.index(m007_compare_votes)]
    conn = sqlite3.connect(path, isolation_level=None)
    register(conn)
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for migration in before:
        migration(conn)
        conn.execute("INSERT INTO schema_migrations VALUES (?, '2026-01-01T00:00:00Z')", (migration.__name__,))
    conn.execute(
        "INSERT INTO conversations (id, title, created, updated) VALUES ('c1', 'Old', '2026-01-01', '2026-01-01')"
    )
    conn.close()
    store = open_store(path)
    try:
        assert {row[1] for row in store.conn.execute("PRAGMA table_info(comparisons)")} == COMPARISON_COLUMNS
        assert store.conversations.get("c1").title == "Old"  # what was there stays
        assert store.votes.all() == []
        assert list((tmp_path / "backups").glob("*before-m007_compare_votes.db"))
    finally:
        store.close()


def test_a_comparison_is_stored_whole_and_its_vote_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    store = open_store(path)
    added = store.votes.add(comparison())
    assert added.id and added.created and added.vote is None and added.voted_at is None
    assert store.votes.all(voted_only=True) == []
    voted = store.votes.vote(added.id, "b")
    assert voted.vote == "b" and voted.voted_at is not None
    store.close()
    again = open_store(path)
    try:
        [kept] = again.votes.all(voted_only=True)
        expected = comparison()
        assert kept.id == added.id and kept.vote == "b"
        assert (kept.a, kept.b, kept.output_b, kept.seed, kept.draw, kept.shown_left) == (
            expected.a,
            expected.b,
            "Hi there, 你好!",
            2**61 + 7,
            0.73,
            "second",
        )
        assert kept.stats_a == expected.stats_a and kept.source_message_id == "M1"
    finally:
        again.close()


def test_votes_are_checked_and_a_refused_write_leaves_nothing(store: Store) -> None:
    added = store.votes.add(comparison())
    with pytest.raises(UserError, match="A vote is one of"):
        store.votes.vote(added.id, "c")
    assert store.votes.get(added.id).vote is None
    with pytest.raises(UserError, match="no comparison"):
        store.votes.vote("missing", "a")
    bad = Comparison(**{**comparison().__dict__, "shown_left": "middle"})
    with pytest.raises(UserError):
        store.votes.add(bad)
    with pytest.raises(sqlite3.IntegrityError):  # the schema refuses it too
        store.conn.execute(
            "UPDATE comparisons SET vote = 'maybe' WHERE id = ?",
            (added.id,),
        )
    assert [c.id for c in store.votes.all()] == [added.id]


def test_comparisons_list_oldest_first_and_delete(store: Store) -> None:
    ids = [store.votes.add(comparison(label_a=f"m{i}")).id for i in range(3)]
    store.votes.vote(ids[1], "tie")
    assert [c.id for c in store.votes.all()] == ids
    assert [c.id for c in store.votes.all(voted_only=True)] == [ids[1]]
    store.votes.delete(ids[0])
    assert [c.id for c in store.votes.all()] == ids[1:]
