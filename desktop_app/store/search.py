"""Full-text search (SQLite FTS5) over conversation titles, messages and drafts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from desktop_app.core.records import SearchHit
from desktop_app.store.words import CJK, spaced

if TYPE_CHECKING:
    from desktop_app.store.db import Store

START, END = SearchHit.MARK_START, SearchHit.MARK_END


def fts_query(text: str) -> str | None:
    """The user's words as an FTS5 query: every word must match, the last as a prefix. Runs
    of CJK characters are asked for as the overlapping pairs the index holds them as.

    Quoting each word keeps FTS5 syntax (AND, NEAR, *, quotes) from being interpreted.
    """
    words = re.findall(r"\w+", spaced(text) or "", flags=re.UNICODE)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


# Ranking every match of a very common word costs time in proportion to the matches;
# rank the newest CANDIDATES matches instead (FTS5 walks its index newest first cheaply).
CANDIDATES = 1000
SNIPPET_WORDS = 16
SNIPPET_CHARS = 60  # for text in CJK scripts, which has no spaces between words


def make_snippet(text: str, words: list[str], whole: bool = False) -> str:
    """The text around the first match, matches wrapped in the highlight marks.

    Built here rather than with FTS5's snippet(): for a prefix query each snippet() call
    would expand the prefix again, which for a short common prefix costs tens of ms.
    """
    if not words:
        return text if whole else " ".join(text.split()[:SNIPPET_WORDS])
    # A CJK word sits inside a run of characters with no spaces: no word boundaries around it.
    alternatives = [
        re.escape(w) if CJK.search(w) else r"\b" + re.escape(w) + (r"\w*" if i == len(words) - 1 else r"\b")
        for i, w in enumerate(words)
    ]
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)
    if not whole and CJK.search(text):  # no spaces to count words by: characters around the match
        first = pattern.search(text)
        start = max(0, first.start() - SNIPPET_CHARS // 4) if first is not None else 0
        part = text[start : start + SNIPPET_CHARS]
        text = ("…" if start > 0 else "") + part + ("…" if start + SNIPPET_CHARS < len(text) else "")
    elif not whole:
        first = pattern.search(text)
        tokens = text.split()
        if first is not None:
            before = len(text[: first.start()].split())
            start = max(0, before - SNIPPET_WORDS // 4)
        else:
            start = 0
        window = tokens[start : start + SNIPPET_WORDS]
        text = ("… " if start > 0 else "") + " ".join(window) + (" …" if start + SNIPPET_WORDS < len(tokens) else "")
    return pattern.sub(lambda m: f"{START}{m.group(0)}{END}", text)


class SearchRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Ranked hits (best first) with highlighted snippets; trashed items are left out."""
        query = fts_query(text)
        if query is None:
            return []
        words = re.findall(r"\w+", text, flags=re.UNICODE)
        hits: list[SearchHit] = []
        for rowid, rank in self._ranked("conversations_fts", query, limit):
            for r in self.store.query(
                "SELECT id, title FROM conversations WHERE n = ? AND deleted_at IS NULL", (rowid,)
            ):
                snippet = make_snippet(r["title"], words, whole=True)
                hits.append(SearchHit("conversation", r["title"], snippet, rank, conversation_id=r["id"]))
        for rowid, rank in self._ranked("messages_fts", query, limit):
            for r in self.store.query(
                "SELECT m.id, m.conversation_id, m.content, c.title FROM messages m"
                " JOIN conversations c ON c.id = m.conversation_id WHERE m.n = ? AND c.deleted_at IS NULL",
                (rowid,),
            ):
                snippet = make_snippet(r["content"], words)
                hits.append(
                    SearchHit(
                        "message", r["title"], snippet, rank, conversation_id=r["conversation_id"], message_id=r["id"]
                    )
                )
        for rowid, rank in self._ranked("drafts_fts", query, limit):
            for r in self.store.query(
                "SELECT id, title, body FROM drafts WHERE n = ? AND deleted_at IS NULL", (rowid,)
            ):
                snippet = make_snippet(f"{r['title']}: {r['body']}", words)
                hits.append(SearchHit("draft", r["title"], snippet, rank, draft_id=r["id"]))
        hits.sort(key=lambda h: h.rank)  # bm25: lower is better
        return hits[:limit]

    def _ranked(self, table: str, query: str, limit: int) -> list[tuple[int, float]]:
        """(rowid, bm25 rank) of the best matches among the newest candidates, best first."""
        return self.store.conn.execute(
            f"SELECT rowid, rank FROM (SELECT rowid, bm25({table}) AS rank FROM {table} WHERE {table} MATCH ?"
            " ORDER BY rowid DESC LIMIT ?) ORDER BY rank LIMIT ?",
            (query, CANDIDATES, limit),
        ).fetchall()
