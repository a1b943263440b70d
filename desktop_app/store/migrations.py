"""The schema, as an append-only list of migrations. Never edit one that has shipped.

Each migration runs in one transaction together with its bookkeeping row, so a database
is always at a version some Inkwell knows, never between two.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


# The full-text indexes of chats and drafts: (table, its indexed columns).
CHAT_FTS = (("conversations", ("title",)), ("messages", ("content",)), ("drafts", ("title", "body")))


def _fts_triggers(table: str, columns: tuple[str, ...], value: str) -> list[str]:
    """The triggers that keep `table`'s external-content FTS5 index in step with it; `value`
    wraps each column as it is indexed ("{}" as it is, "inkwell_words({})" as CJK pairs)."""
    names, fts = ", ".join(columns), f"{table}_fts"
    new = ", ".join(value.format(f"new.{c}") for c in columns)
    old = ", ".join(value.format(f"old.{c}") for c in columns)
    return [
        f"CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts} (rowid, {names}) VALUES (new.n, {new}); END",
        f"CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', old.n, {old}); END",
        f"CREATE TRIGGER {table}_fts_update AFTER UPDATE OF {names} ON {table} BEGIN "
        f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', old.n, {old}); "
        f"INSERT INTO {fts} (rowid, {names}) VALUES (new.n, {new}); END",
    ]


def m001_initial(db: sqlite3.Connection) -> None:
    # `n INTEGER PRIMARY KEY` gives each row a stable rowid for the FTS external content
    # (an implicit rowid may change on VACUUM); `id` is the sortable id everything uses.
    statements = [
        """CREATE TABLE conversations (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            title_is_auto INTEGER NOT NULL DEFAULT 1,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            pinned INTEGER NOT NULL DEFAULT 0,
            archived INTEGER NOT NULL DEFAULT 0,
            deleted_at TEXT,
            system_prompt TEXT NOT NULL DEFAULT '',
            model_id TEXT,
            settings TEXT NOT NULL DEFAULT '{}',
            current_leaf_id TEXT
        )""",
        "CREATE INDEX conversations_listing ON conversations (deleted_at, archived, pinned, updated)",
        """CREATE TABLE messages (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            parent_id TEXT REFERENCES messages (id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'streaming', 'interrupted', 'cancelled', 'failed')),
            model_id TEXT,
            provider TEXT,
            settings TEXT,
            seed INTEGER,
            prompt_tokens INTEGER,
            generated_tokens INTEGER,
            ttft_ms REAL,
            tokens_per_s REAL,
            finish_reason TEXT
        )""",
        "CREATE INDEX messages_by_conversation ON messages (conversation_id, created)",
        "CREATE INDEX messages_by_parent ON messages (parent_id)",
        "CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming'",
        """CREATE TABLE drafts (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            deleted_at TEXT
        )""",
        """CREATE TABLE draft_revisions (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            draft_id TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            created TEXT NOT NULL
        )""",
        "CREATE INDEX draft_revisions_by_draft ON draft_revisions (draft_id, created)",
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # Full-text search over titles, messages and drafts, kept in sync by triggers.
        """CREATE VIRTUAL TABLE conversations_fts USING fts5 (
            title, content='conversations', content_rowid='n', tokenize='unicode61 remove_diacritics 2')""",
        """CREATE VIRTUAL TABLE messages_fts USING fts5 (
            content, content='messages', content_rowid='n', tokenize='unicode61 remove_diacritics 2')""",
        """CREATE VIRTUAL TABLE drafts_fts USING fts5 (
            title, body, content='drafts', content_rowid='n', tokenize='unicode61 remove_diacritics 2')""",
    ]
    for table, columns in CHAT_FTS:
        statements += _fts_triggers(table, columns, "{}")
    for statement in statements:
        db.execute(statement)


def m002_documents(db: sqlite3.Connection) -> None:
    """The document library: collections of the user's files (read where they are, never
    copied), their passages, and full-text search over the passages."""
    statements = [
        """CREATE TABLE doc_collections (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created TEXT NOT NULL
        )""",
        """CREATE TABLE documents (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            collection_id TEXT NOT NULL REFERENCES doc_collections (id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            kind TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime REAL NOT NULL,
            sha256 TEXT NOT NULL,
            -- pending: added, not read yet; indexing: a large file's passages being written in parts
            status TEXT NOT NULL CHECK (status IN ('indexed', 'failed', 'pending', 'indexing')),
            reason TEXT NOT NULL DEFAULT '',
            chunks INTEGER NOT NULL DEFAULT 0,
            added TEXT NOT NULL,
            indexed TEXT NOT NULL,
            UNIQUE (collection_id, path)
        )""",
        """CREATE TABLE doc_chunks (
            n INTEGER PRIMARY KEY,
            document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            heading TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            page INTEGER,
            page_end INTEGER,
            line_start INTEGER,
            line_end INTEGER
        )""",
        "CREATE INDEX doc_chunks_by_document ON doc_chunks (document_id, ord)",
        # The folders added to a collection: read again for new files at start and while they change.
        # Files and folders removed from inside an added folder: its refresh leaves them out.
        """CREATE TABLE doc_excluded (
            collection_id TEXT NOT NULL REFERENCES doc_collections (id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            PRIMARY KEY (collection_id, path)
        )""",
        """CREATE TABLE doc_folders (
            collection_id TEXT NOT NULL REFERENCES doc_collections (id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            PRIMARY KEY (collection_id, path)
        )""",
        # The collections a conversation answers from (its Sources).
        """CREATE TABLE conversation_collections (
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            collection_id TEXT NOT NULL REFERENCES doc_collections (id) ON DELETE CASCADE,
            PRIMARY KEY (conversation_id, collection_id)
        )""",
        # The passages a reply was given, numbered as it could cite them: kept with the reply,
        # so that its citations stay readable when the documents change or leave the library.
        """CREATE TABLE message_sources (
            message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            path TEXT NOT NULL,
            collection TEXT NOT NULL,
            heading TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            page INTEGER,
            page_end INTEGER,
            line_start INTEGER,
            line_end INTEGER,
            score REAL NOT NULL DEFAULT 0,
            cited INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (message_id, number)
        )""",
        """CREATE VIRTUAL TABLE doc_chunks_fts USING fts5 (
            heading, text, content='doc_chunks', content_rowid='n', tokenize='unicode61 remove_diacritics 2')""",
        "CREATE TRIGGER doc_chunks_fts_insert AFTER INSERT ON doc_chunks BEGIN "
        "INSERT INTO doc_chunks_fts (rowid, heading, text) VALUES (new.n, new.heading, new.text); END",
        "CREATE TRIGGER doc_chunks_fts_delete AFTER DELETE ON doc_chunks BEGIN "
        "INSERT INTO doc_chunks_fts (doc_chunks_fts, rowid, heading, text) "
        "VALUES ('delete', old.n, old.heading, old.text); END",
    ]
    for statement in statements:
        db.execute(statement)


def m003_doc_vectors(db: sqlite3.Connection) -> None:
    """The passages' vectors from an embedding model (float16, one per passage), for searching
    by meaning beside BM25; and a counter that every change of them moves, which tells a
    search's in-memory copy of the vectors that it is stale."""
    statements = [
        """CREATE TABLE doc_vectors (
            n INTEGER PRIMARY KEY REFERENCES doc_chunks (n) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL
        )""",
        "CREATE INDEX doc_vectors_by_model ON doc_vectors (model)",
        "CREATE TABLE doc_vectors_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)",
        "INSERT INTO doc_vectors_version (id, version) VALUES (1, 0)",
        "CREATE TRIGGER doc_vectors_insert AFTER INSERT ON doc_vectors BEGIN "
        "UPDATE doc_vectors_version SET version = version + 1; END",
        "CREATE TRIGGER doc_vectors_delete AFTER DELETE ON doc_vectors BEGIN "
        "UPDATE doc_vectors_version SET version = version + 1; END",
    ]
    for statement in statements:
        db.execute(statement)


def m004_cjk_words(db: sqlite3.Connection) -> None:
    """Passages in Chinese, Japanese and Korean become searchable by words: the full-text
    index takes runs of those characters as overlapping pairs (store/words.py), through the
    SQL function every connection registers; the passages already there are indexed again."""
    statements = [
        "DROP TRIGGER doc_chunks_fts_insert",
        "DROP TRIGGER doc_chunks_fts_delete",
        "CREATE TRIGGER doc_chunks_fts_insert AFTER INSERT ON doc_chunks BEGIN "
        "INSERT INTO doc_chunks_fts (rowid, heading, text) "
        "VALUES (new.n, inkwell_words(new.heading), inkwell_words(new.text)); END",
        "CREATE TRIGGER doc_chunks_fts_delete AFTER DELETE ON doc_chunks BEGIN "
        "INSERT INTO doc_chunks_fts (doc_chunks_fts, rowid, heading, text) "
        "VALUES ('delete', old.n, inkwell_words(old.heading), inkwell_words(old.text)); END",
        "INSERT INTO doc_chunks_fts (doc_chunks_fts) VALUES ('delete-all')",
        "INSERT INTO doc_chunks_fts (rowid, heading, text) "
        "SELECT n, inkwell_words(heading), inkwell_words(text) FROM doc_chunks",
    ]
    for statement in statements:
        db.execute(statement)


def m005_cjk_chat_search(db: sqlite3.Connection) -> None:
    """Chats and drafts in Chinese, Japanese and Korean become searchable by words, as the
    documents are since m004: titles, messages and drafts go into their full-text indexes
    through inkwell_words (runs of CJK characters as overlapping pairs), and what is there
    already is indexed again."""
    statements = []
    for table, columns in CHAT_FTS:
        fts = f"{table}_fts"
        statements += [f"DROP TRIGGER {table}_fts_{event}" for event in ("insert", "delete", "update")]
        statements += _fts_triggers(table, columns, "inkwell_words({})")
        statements += [
            f"INSERT INTO {fts} ({fts}) VALUES ('delete-all')",
            f"INSERT INTO {fts} (rowid, {', '.join(columns)}) "
            f"SELECT n, {', '.join(f'inkwell_words({c})' for c in columns)} FROM {table}",
        ]
    for statement in statements:
        db.execute(statement)


def m006_evaluation(db: sqlite3.Connection) -> None:
    """`inkwell eval`: runs of a model (variant, provider, seed, settings as JSON) over a data
    set (known by its sha256), and each item's output and scores. An item's result is
    written when it is done, so an interrupted run keeps them and resumes after them; the
    item itself is kept with it, so a report needs no data file."""
    statements = [
        """CREATE TABLE eval_runs (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            dataset_path TEXT NOT NULL,
            dataset_sha256 TEXT NOT NULL,
            item_count INTEGER NOT NULL,
            model_id TEXT NOT NULL,
            provider TEXT NOT NULL DEFAULT '',
            quantization TEXT NOT NULL DEFAULT '',
            seed INTEGER,
            settings TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'interrupted')),
            corpus_scores TEXT NOT NULL DEFAULT '{}',
            metric_info TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX eval_runs_by_identity ON eval_runs (dataset_sha256, model_id, quantization, status)",
        """CREATE TABLE eval_results (
            n INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,
            ord INTEGER NOT NULL,
            item TEXT NOT NULL DEFAULT '{}',
            output TEXT NOT NULL DEFAULT '',
            scores TEXT NOT NULL DEFAULT '{}',
            generated_tokens INTEGER,
            tokens_per_s REAL,
            ttft_ms REAL,
            finish_reason TEXT,
            error TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            UNIQUE (run_id, item_id)
        )""",
    ]
    for statement in statements:
        db.execute(statement)


def m007_compare_votes(db: sqlite3.Connection) -> None:
    """Compare mode: two answers to one prompt shown blind as A (left) and B, who wrote each
    (model, weights, provider, settings as JSON, the label the ratings group by), the random
    draw that placed them, and the user's vote. No foreign key to the chat message a prompt
    came from: deleting the chat keeps the vote."""
    sides = "".join(
        f"""
            {side}_model_id TEXT NOT NULL,
            {side}_quantization TEXT NOT NULL DEFAULT '',
            {side}_provider TEXT NOT NULL DEFAULT '',
            {side}_settings TEXT NOT NULL DEFAULT '{{}}',
            {side}_label TEXT NOT NULL,"""
        for side in "ab"
    )
    db.execute(
        f"""CREATE TABLE comparisons (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            created TEXT NOT NULL,
            prompt TEXT NOT NULL,
            system_prompt TEXT NOT NULL DEFAULT '',
            source_message_id TEXT,{sides}
            output_a TEXT NOT NULL,
            output_b TEXT NOT NULL,
            stats_a TEXT NOT NULL DEFAULT '{{}}',
            stats_b TEXT NOT NULL DEFAULT '{{}}',
            seed INTEGER NOT NULL,
            draw REAL NOT NULL,
            shown_left TEXT NOT NULL CHECK (shown_left IN ('first', 'second')),
            vote TEXT CHECK (vote IN ('a', 'b', 'tie', 'both_bad')),
            voted_at TEXT
        )"""
    )
    db.execute("CREATE INDEX comparisons_by_created ON comparisons (created)")


def m008_reasoning_and_tools(db: sqlite3.Connection) -> None:
    """A thinking model's reasoning, kept apart from its answer (and how long it took), and
    the tools a reply called: a JSON list of {id, name, arguments, result, error, server}."""
    db.execute("ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE messages ADD COLUMN reasoning_ms REAL")
    db.execute("ALTER TABLE messages ADD COLUMN tool_calls TEXT NOT NULL DEFAULT '[]'")


def m009_writers(db: sqlite3.Connection) -> None:
    """Whose a streaming reply or a running evaluation is (store/owners.py): the token of
    the open store that writes it, so that another process leaves it alone while that
    store is open and marks it interrupted once it is not."""
    db.execute("ALTER TABLE messages ADD COLUMN owner TEXT")
    db.execute("ALTER TABLE eval_runs ADD COLUMN owner TEXT")


MIGRATIONS: list[Migration] = [
    m001_initial,
    m002_documents,
    m003_doc_vectors,
    m004_cjk_words,
    m005_cjk_chat_search,
    m006_evaluation,
    m007_compare_votes,
    m008_reasoning_and_tools,
    m009_writers,
]
