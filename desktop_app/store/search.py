"""Full-text search (SQLite FTS5) over conversation titles, messages and drafts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from desktop_app.core.records import SearchHit

if TYPE_CHECKING:
    from desktop_app.store.db import Store

START, END = SearchHit.MARK_START, SearchHit.MARK_END


def fts_query(text: str) -> str | None:
    """The user's words as an FTS5 query: every word must match, the last as a prefix.

    Quoting each word keeps FTS5 syntax (AND, NEAR, *, quotes) from being interpreted.
    """
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


class SearchRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Ranked hits (best first) with highlighted snippets; trashed items are left out."""
        query = fts_query(text)
        if query is None:
            return []
        hits: list[SearchHit] = []
        rows = self.store.query(
            f"""SELECT c.id AS conversation_id, c.title, bm25(conversations_fts) AS rank,
                       highlight(conversations_fts, 0, '{START}', '{END}') AS snippet
                FROM conversations_fts JOIN conversations c ON c.n = conversations_fts.rowid
                WHERE conversations_fts MATCH ? AND c.deleted_at IS NULL
                ORDER BY rank LIMIT ?""",
            (query, limit),
        )
        hits += [
            SearchHit("conversation", r["title"], r["snippet"], r["rank"], conversation_id=r["conversation_id"])
            for r in rows
        ]
        rows = self.store.query(
            f"""SELECT m.id AS message_id, m.conversation_id, c.title, f.rank, f.snippet
                FROM (SELECT rowid, rank, snippet(messages_fts, 0, '{START}', '{END}', '…', 16) AS snippet
                      FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?) AS f
                JOIN messages m ON m.n = f.rowid
                JOIN conversations c ON c.id = m.conversation_id
                WHERE c.deleted_at IS NULL""",
            (query, limit * 2),
        )
        hits += [
            SearchHit(
                "message",
                r["title"],
                r["snippet"],
                r["rank"],
                conversation_id=r["conversation_id"],
                message_id=r["message_id"],
            )
            for r in rows
        ]
        rows = self.store.query(
            f"""SELECT d.id AS draft_id, d.title, f.rank, f.snippet
                FROM (SELECT rowid, rank, snippet(drafts_fts, -1, '{START}', '{END}', '…', 16) AS snippet
                      FROM drafts_fts WHERE drafts_fts MATCH ? ORDER BY rank LIMIT ?) AS f
                JOIN drafts d ON d.n = f.rowid WHERE d.deleted_at IS NULL""",
            (query, limit),
        )
        hits += [SearchHit("draft", r["title"], r["snippet"], r["rank"], draft_id=r["draft_id"]) for r in rows]
        hits.sort(key=lambda h: h.rank)  # bm25: lower is better
        return hits[:limit]
