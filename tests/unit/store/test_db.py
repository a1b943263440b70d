"""Opening, migrating, and refusing databases without touching them."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from desktop_app.store import open_store
from desktop_app.store.db import DatabaseCorrupt, DatabaseTooNew, set_aside
from desktop_app.store.migrations import MIGRATIONS
from desktop_app.store.words import register

EXPECTED_COLUMNS = {
    "conversations": {"n", "id", "title", "title_is_auto", "created", "updated", "pinned", "archived", "deleted_at",
                      "system_prompt", "model_id", "settings", "current_leaf_id"},
    "messages": {"n", "id", "conversation_id", "parent_id", "role", "content", "created", "status", "model_id",
                 "provider", "settings", "seed", "prompt_tokens", "generated_tokens", "ttft_ms", "tokens_per_s",
                 "finish_reason", "reasoning", "reasoning_ms", "tool_calls", "owner"},
    "drafts": {"n", "id", "title", "body", "created", "updated", "deleted_at"},
    "draft_revisions": {"n", "id", "draft_id", "title", "body", "created"},
    "settings": {"key", "value"},
    "doc_collections": {"n", "id", "name", "created"},
    "documents": {"n", "id", "collection_id", "path", "kind", "size", "mtime", "sha256", "status", "reason", "chunks",
                  "added", "indexed"},
    "doc_chunks": {"n", "document_id", "ord", "heading", "text", "page", "page_end", "line_start", "line_end"},
    "conversation_collections": {"conversation_id", "collection_id"},
    "doc_folders": {"collection_id", "path"},
    "doc_excluded": {"collection_id", "path"},
    "message_sources": {"message_id", "number", "path", "collection", "heading", "text", "page", "page_end",
                        "line_start", "line_end", "score", "cited"},
}  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def database_at(path: Path, applied: int) -> None:
    """A database as an older Inkwell left it: the first `applied` migrations, with some data."""
    conn = sqlite3.connect(path, isolation_level=None)
    register(conn)  # the SQL function m004 and later index with, as open_db registers it
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for migration in MIGRATIONS[:applied]:
        migration(conn)
        conn.execute("INSERT INTO schema_migrations VALUES (?, '2026-01-01T00:00:00Z')", (migration.__name__,))
    if applied:
        conn.execute(
            "INSERT INTO conversations (id, title, created, updated) VALUES ('c1', 'Old chat', '2026-01-01', '2026-01-01')"
        )
    conn.close()


def test_a_new_database_has_every_table_and_column(tmp_path: Path) -> None:
    store = open_store(tmp_path / "inkwell.db")
    for table, expected in EXPECTED_COLUMNS.items():
        assert columns(store.conn, table) == expected
    assert store.schema_version() == len(MIGRATIONS)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    store.close()
    if os.name == "posix":
        assert stat.S_IMODE((tmp_path / "inkwell.db").stat().st_mode) == 0o600
    assert not (tmp_path / "backups").exists()  # nothing to back up in a new file


@pytest.mark.parametrize("applied", range(len(MIGRATIONS)))
def test_every_earlier_schema_migrates_with_a_backup_and_keeps_its_data(tmp_path: Path, applied: int) -> None:
    path = tmp_path / "inkwell.db"
    database_at(path, applied)
    store = open_store(path)
    assert store.schema_version() == len(MIGRATIONS)
    for table, expected in EXPECTED_COLUMNS.items():
        assert columns(store.conn, table) == expected
    if applied:
        assert store.conversations.get("c1").title == "Old chat"
    store.close()
    backups = list((tmp_path / "backups").glob("*.db"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as copy:  # the backup is the database as it was
        names = [r[0] for r in copy.execute("SELECT name FROM schema_migrations")]
    assert names == [m.__name__ for m in MIGRATIONS[:applied]]


def test_reopening_changes_nothing_and_makes_no_backup(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    open_store(path).close()
    store = open_store(path)
    assert store.schema_version() == len(MIGRATIONS)
    store.close()
    assert not (tmp_path / "backups").exists()


def test_a_database_from_a_newer_inkwell_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES ('m999_from_the_future', '2030-01-01')")
    conn.close()
    before = digest(path)
    with pytest.raises(DatabaseTooNew, match="newer version of Inkwell"):
        open_store(path)
    assert digest(path) == before
    assert not (tmp_path / "backups").exists()


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    path.write_bytes(b"my precious notes, not a database" * 100)
    before = digest(path)
    with pytest.raises(DatabaseCorrupt, match="not an SQLite database"):
        open_store(path)
    assert digest(path) == before


def damaged_database(path: Path) -> None:
    store = open_store(path)
    conversation = store.conversations.create("A chat")
    for i in range(300):
        store.conversations.add_message(conversation.id, "user", f"message {i} " * 40)
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 3 : page * 6] = b"\xff" * (page * 3)  # scribble over some b-tree pages
    path.write_bytes(bytes(data))


def test_a_damaged_database_is_refused_untouched_and_can_be_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    damaged_database(path)
    before = digest(path)
    with pytest.raises(DatabaseCorrupt, match="damaged"):
        open_store(path)
    assert digest(path) == before
    aside = set_aside(path)
    assert digest(aside) == before and not path.exists()
    fresh = open_store(path)
    assert fresh.conversations.all() == []
    fresh.close()


def test_transactions_roll_back_whole_and_nest(tmp_path: Path) -> None:
    store = open_store(tmp_path / "inkwell.db")
    with pytest.raises(RuntimeError), store.transaction():
        store.conn.execute("INSERT INTO settings VALUES ('a', '1')")
        raise RuntimeError
    assert store.settings.all() == {}
    with store.transaction():
        store.conn.execute("INSERT INTO settings VALUES ('outer', '1')")
        with pytest.raises(RuntimeError), store.transaction():
            store.conn.execute("INSERT INTO settings VALUES ('inner', '2')")
            raise RuntimeError
    assert store.settings.all() == {"outer": 1}
    store.close()


def test_large_files_defer_the_full_check_which_still_finds_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.store import db as db_module

    path = tmp_path / "inkwell.db"
    damaged_database(path)
    monkeypatch.setattr(db_module, "FULL_CHECK_MAX_BYTES", 0)
    with pytest.raises(DatabaseCorrupt, match="damaged"):
        db_module.check_integrity(path)


def test_a_full_disk_rolls_back_and_says_so(tmp_path: Path) -> None:
    from desktop_app.store.db import DiskFull

    store = open_store(tmp_path / "inkwell.db")
    try:
        chat = store.conversations.create("Before")
        # SQLite reports SQLITE_FULL once the file reaches max_page_count: a full disk.
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(DiskFull, match="disk is full") as caught:
            store.conversations.add_message(chat.id, "user", "x" * 200_000)
        assert "Free some space" in str(caught.value)
        assert store.conversations.messages(chat.id) == []
        assert store.conversations.get(chat.id).title == "Before"
    finally:
        store.close()
