"""The document library's tables: collections, documents (the user's files, by path) and
their passages, with BM25 search over the passages (SQLite FTS5).

A document's passages are replaced in one transaction with its row, so a library is never
left with half a file's passages, whatever happens mid-index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.records import LibraryDocument, Passage
from desktop_app.documents import Chunk
from desktop_app.store.ids import new_id, now_iso
from desktop_app.store.words import query_words

if TYPE_CHECKING:
    from desktop_app.store.db import Store

DEFAULT_COLLECTION = "Documents"
# A heading's words count for more than the body's (a passage under "Returns" is about returns).
HEADING_WEIGHT, TEXT_WEIGHT = 2.0, 1.0

# A passage as Passage holds it (k: doc_chunks, d: documents, c: doc_collections), less its score.
PASSAGE_COLUMNS = (
    "k.document_id, d.path, c.name AS collection, k.heading, k.text, k.page, k.page_end, k.line_start,"
    " k.line_end, k.n AS chunk"
)
MMAP_BYTES = 1 << 30  # address space, not memory: the pages are the file's, shared and reclaimable
SAVE_BATCH = 2000  # passages a transaction writes for a large file (~0.2 s of the write lock)
# In a library of at least PRUNE_FROM passages, a search of more than KEEP_AT_LEAST words
# leaves out the words held by more than COMMON_SHARE of them.
PRUNE_FROM, COMMON_SHARE, KEEP_AT_LEAST = 5_000, 0.03, 2


@dataclass(frozen=True)
class KnownFile:
    """What the library last saw of a file: enough to tell whether it changed."""

    document_id: str
    size: int
    mtime: float
    sha256: str
    status: str


class DocumentRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._mapped = False  # the file is read through memory once this connection searches

    # ---- collections ----

    def collection_id(self, name: str, create: bool = False) -> str:
        name = " ".join(name.split())
        if not name:
            raise UserError(translate("Errors", "A collection needs a name."))
        rows = self.store.query("SELECT id FROM doc_collections WHERE name = ?", (name,))
        if rows:
            return str(rows[0]["id"])
        if not create:
            raise UserError(
                translate("Errors", "There is no collection named {name}.").format(name=repr(name)),
                hint=translate("Errors", "`inkwell docs list` shows them."),
            )
        collection_id = new_id()
        with self.store.transaction():
            self.store.conn.execute(
                "INSERT INTO doc_collections (id, name, created) VALUES (?, ?, ?)", (collection_id, name, now_iso())
            )
        return collection_id

    def collections(self) -> list[dict[str, Any]]:
        """Each collection with its counts of documents, failed ones, passages and bytes."""
        return self.store.query(
            "SELECT c.name, COUNT(d.id) AS documents, COALESCE(SUM(d.status = 'failed'), 0) AS failed,"
            " COALESCE(SUM(d.chunks), 0) AS passages, COALESCE(SUM(d.size), 0) AS bytes"
            " FROM doc_collections c LEFT JOIN documents d ON d.collection_id = c.id AND d.status != 'indexing'"
            " GROUP BY c.id ORDER BY c.name"
        )

    def remove_collection(self, name: str) -> int:
        """Forget a collection and its documents (the files stay); how many documents."""
        collection_id = self.collection_id(name)
        with self.store.transaction():
            count = self.store.conn.execute(
                "SELECT COUNT(*) FROM documents WHERE collection_id = ?", (collection_id,)
            ).fetchone()[0]
            self.store.conn.execute("DELETE FROM doc_collections WHERE id = ?", (collection_id,))
        return int(count)

    # ---- folders ----

    def add_folder(self, collection_id: str, path: str) -> None:
        with self.store.transaction():
            self.store.conn.execute(
                "INSERT OR IGNORE INTO doc_folders (collection_id, path) VALUES (?, ?)", (collection_id, path)
            )

    def include(self, collection_id: str, path: str) -> None:
        """Added again by the user: no longer left out of its folder's refresh."""
        base = path.rstrip("/\\")
        with self.store.transaction():
            self.store.conn.execute(
                "DELETE FROM doc_excluded WHERE collection_id = ? AND (path = ? OR substr(path, 1, ?) IN (?, ?))",
                (collection_id, base, len(base) + 1, base + "/", base + "\\"),
            )

    def excluded(self, collection_id: str) -> list[str]:
        rows = self.store.query("SELECT path FROM doc_excluded WHERE collection_id = ?", (collection_id,))
        return [r["path"] for r in rows]

    def folders(self, collection: str | None = None) -> list[tuple[str, str]]:
        """(collection name, folder path) of the folders added, by collection."""
        where, params = ("WHERE c.name = ?", (collection,)) if collection else ("", ())
        rows = self.store.query(
            f"SELECT c.name, f.path FROM doc_folders f JOIN doc_collections c ON c.id = f.collection_id {where}"
            " ORDER BY c.name, f.path",
            params,
        )
        return [(r["name"], r["path"]) for r in rows]

    # ---- documents ----

    def known(self, collection_id: str, path: str) -> KnownFile | None:
        rows = self.store.query(
            "SELECT id, size, mtime, sha256, status FROM documents WHERE collection_id = ? AND path = ?",
            (collection_id, path),
        )
        if not rows:
            return None
        r = rows[0]
        return KnownFile(r["id"], r["size"], r["mtime"], r["sha256"], r["status"])

    def save(
        self,
        collection_id: str,
        path: str,
        kind: str,
        size: int,
        mtime: float,
        sha256: str,
        chunks: Sequence[Chunk] = (),
        failure: str | None = None,
    ) -> str:
        """Record a file as read (its passages replace any earlier ones) or as failed (with
        the reason), in one transaction; its document id. A large file's passages are
        written in parts (`_save_in_parts`), so that the window's own writes never wait long."""
        if failure is None and len(chunks) > SAVE_BATCH:
            return self._save_in_parts(collection_id, path, kind, size, mtime, sha256, chunks)
        now = now_iso()
        with self.store.transaction():
            known = self.known(collection_id, path)
            document_id = known.document_id if known else new_id()
            status = "failed" if failure is not None else "indexed"
            if known:
                self.store.conn.execute("DELETE FROM doc_chunks WHERE document_id = ?", (document_id,))
                self.store.conn.execute(
                    "UPDATE documents SET kind = ?, size = ?, mtime = ?, sha256 = ?, status = ?, reason = ?,"
                    " chunks = ?, indexed = ? WHERE id = ?",
                    (kind, size, mtime, sha256, status, failure or "", len(chunks), now, document_id),
                )
            else:
                self.store.conn.execute(
                    "INSERT INTO documents (id, collection_id, path, kind, size, mtime, sha256, status, reason,"
                    " chunks, added, indexed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (document_id, collection_id, path, kind, size, mtime, sha256, status, failure or "",
                     len(chunks), now, now),
                )  # fmt: skip
            self.store.conn.executemany(
                "INSERT INTO doc_chunks (document_id, ord, heading, text, page, page_end, line_start, line_end)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (document_id, i, c.heading, c.text, c.page, c.page_end, c.line_start, c.line_end)
                    for i, c in enumerate(chunks)
                ],
            )
        return document_id

    def _save_in_parts(
        self, collection_id: str, path: str, kind: str, size: int, mtime: float, sha256: str, chunks: Sequence[Chunk]
    ) -> str:
        """The passages go in under a hidden row ("indexing") a part at a time; the earlier
        version's leave a part at a time; then one short transaction shows the new version.
        A run killed half-way leaves only a hidden row, which `discard_unfinished` removes."""
        staging, now = new_id(), now_iso()
        with self.store.transaction():
            self.store.conn.execute(
                "INSERT INTO documents (id, collection_id, path, kind, size, mtime, sha256, status, chunks, added,"
                " indexed) VALUES (?, ?, ?, ?, ?, ?, ?, 'indexing', 0, ?, ?)",
                (staging, collection_id, f"{path}\x00{staging}", kind, size, mtime, sha256, now, now),
            )
        for start in range(0, len(chunks), SAVE_BATCH):
            with self.store.transaction():
                self.store.conn.executemany(
                    "INSERT INTO doc_chunks (document_id, ord, heading, text, page, page_end, line_start, line_end)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (staging, start + i, c.heading, c.text, c.page, c.page_end, c.line_start, c.line_end)
                        for i, c in enumerate(chunks[start : start + SAVE_BATCH])
                    ],
                )
        known = self.known(collection_id, path)
        if known is not None:
            self._delete_passages(known.document_id)
        with self.store.transaction():
            added = now
            if known is not None:
                row = self.store.conn.execute(
                    "SELECT added FROM documents WHERE id = ?", (known.document_id,)
                ).fetchone()
                added = row[0] if row else now
                self.store.conn.execute("DELETE FROM documents WHERE id = ?", (known.document_id,))
            self.store.conn.execute(
                "UPDATE documents SET path = ?, status = 'indexed', chunks = ?, added = ? WHERE id = ?",
                (path, len(chunks), added, staging),
            )
        return staging

    def _delete_passages(self, document_id: str) -> None:
        """A document's passages, a part at a time (each part its own short transaction)."""
        while True:
            with self.store.transaction():
                deleted = self.store.conn.execute(
                    "DELETE FROM doc_chunks WHERE n IN (SELECT n FROM doc_chunks WHERE document_id = ? LIMIT ?)",
                    (document_id, SAVE_BATCH),
                ).rowcount
            if deleted < SAVE_BATCH:
                return

    def discard_unfinished(self) -> int:
        """Remove what a killed run left half-written (hidden rows); how many."""
        ids = [r["id"] for r in self.store.query("SELECT id FROM documents WHERE status = 'indexing'")]
        for document_id in ids:
            self._delete_passages(document_id)
            with self.store.transaction():
                self.store.conn.execute("DELETE FROM documents WHERE id = ?", (document_id,))
        return len(ids)

    def mark_pending(self, collection_id: str, paths: Sequence[str], kind: Callable[[str], str]) -> None:
        """Files added but not read yet: listed as waiting, and read by the next run if this
        one is stopped first."""
        now = now_iso()
        with self.store.transaction():
            self.store.conn.executemany(
                "INSERT OR IGNORE INTO documents (id, collection_id, path, kind, size, mtime, sha256, status, added,"
                " indexed) VALUES (?, ?, ?, ?, 0, 0, '', 'pending', ?, ?)",
                [(new_id(), collection_id, path, kind(path), now, now) for path in paths],
            )

    def touch(self, document_id: str, mtime: float) -> None:
        """The file was saved again with the same content: only its time changed."""
        with self.store.transaction():
            self.store.conn.execute("UPDATE documents SET mtime = ? WHERE id = ?", (mtime, document_id))

    def documents(self, collection: str | None = None) -> list[LibraryDocument]:
        where, params = ("WHERE c.name = ?", (collection,)) if collection else ("", ())
        rows = self.store.query(
            "SELECT d.id, c.name AS collection, d.path, d.kind, d.size, d.status, d.reason, d.chunks, d.indexed"
            f" FROM documents d JOIN doc_collections c ON c.id = d.collection_id {where}"
            f" {'AND' if where else 'WHERE'} d.status != 'indexing' ORDER BY c.name, d.path",
            params,
        )
        return [LibraryDocument(**r) for r in rows]

    def remove(self, path: str, collection: str | None = None) -> int:
        """Forget a file, or every file under a folder (the files stay); how many."""
        base = path.rstrip("/\\")
        # Below the folder, with either separator (Windows paths use backslashes).
        where = "(d.path = ? OR substr(d.path, 1, ?) IN (?, ?))"
        params: tuple[Any, ...] = (base, len(base) + 1, base + "/", base + "\\")
        if collection:
            where += " AND d.collection_id = ?"
            params += (self.collection_id(collection),)
        with self.store.transaction():
            ids = [r[0] for r in self.store.conn.execute(f"SELECT d.id FROM documents d WHERE {where}", params)]
            self.store.conn.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in ids])
            # Removed from inside a folder still added: that folder's refresh leaves it out.
            self.store.conn.execute(
                "INSERT OR IGNORE INTO doc_excluded (collection_id, path) SELECT f.collection_id, ?"
                " FROM doc_folders f WHERE substr(?, 1, length(f.path) + 1) IN (f.path || '/', f.path || '\\')"
                + (" AND f.collection_id = ?" if collection else ""),
                (base, base, *params[4:]),
            )
            # A folder removed (or one above it) is no longer read again for new files.
            self.store.conn.execute(
                "DELETE FROM doc_folders WHERE (path = ? OR substr(path, 1, ?) IN (?, ?))"
                + (" AND collection_id = ?" if collection else ""),
                params,
            )
        return len(ids)

    def size(self, collections: Sequence[str]) -> tuple[int, int]:
        """How many passages the collections hold, and their characters."""
        ids = [self.collection_id(name) for name in collections]
        if not ids:
            return 0, 0
        count, characters = self.store.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(length(k.text) + length(k.heading)), 0) FROM doc_chunks k"
            f" JOIN documents d ON d.id = k.document_id WHERE d.collection_id IN ({', '.join('?' * len(ids))})"
            " AND d.status = 'indexed'",
            ids,
        ).fetchone()
        return int(count), int(characters)

    def passages(self, collections: Sequence[str]) -> list[Passage]:
        """Every passage of the collections' readable documents, in file and reading order."""
        ids = [self.collection_id(name) for name in collections]
        if not ids:
            return []
        rows = self.store.query(
            f"SELECT {PASSAGE_COLUMNS}, 0.0 AS score FROM doc_chunks k JOIN documents d ON d.id = k.document_id"
            f" JOIN doc_collections c ON c.id = d.collection_id WHERE d.collection_id IN ({', '.join('?' * len(ids))})"
            " AND d.status = 'indexed' ORDER BY c.name, d.path, k.ord",
            ids,
        )
        return [Passage(**r) for r in rows]

    # ---- what conversations answer from, and what replies were given ----

    def attached(self, conversation_id: str) -> list[str]:
        """The names of the collections a conversation answers from."""
        rows = self.store.query(
            "SELECT c.name FROM conversation_collections a JOIN doc_collections c ON c.id = a.collection_id"
            " WHERE a.conversation_id = ? ORDER BY c.name",
            (conversation_id,),
        )
        return [r["name"] for r in rows]

    def attach(self, conversation_id: str, names: Sequence[str]) -> None:
        """Make `names` the collections the conversation answers from (none: only the model)."""
        ids = [self.collection_id(name) for name in names]
        with self.store.transaction():
            self.store.conn.execute(
                "DELETE FROM conversation_collections WHERE conversation_id = ?", (conversation_id,)
            )
            self.store.conn.executemany(
                "INSERT INTO conversation_collections (conversation_id, collection_id) VALUES (?, ?)",
                [(conversation_id, i) for i in dict.fromkeys(ids)],
            )

    def save_sources(self, message_id: str, passages: Sequence[Passage], cited: Sequence[int]) -> None:
        quoted = set(cited)
        with self.store.transaction():
            self.store.conn.execute("DELETE FROM message_sources WHERE message_id = ?", (message_id,))
            self.store.conn.executemany(
                "INSERT INTO message_sources (message_id, number, path, collection, heading, text, page, page_end,"
                " line_start, line_end, score, cited) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (message_id, n, p.path, p.collection, p.heading, p.text, p.page, p.page_end, p.line_start,
                     p.line_end, p.score, int(n in quoted))
                    for n, p in enumerate(passages, 1)
                ],
            )  # fmt: skip

    def sources(self, message_id: str) -> list[tuple[int, Passage, bool]]:
        """The passages a reply was given: (number, passage, whether the reply cited it)."""
        rows = self.store.query(
            "SELECT number, path, collection, heading, text, page, page_end, line_start, line_end, score, cited"
            " FROM message_sources WHERE message_id = ? ORDER BY number",
            (message_id,),
        )
        return [
            (r.pop("number"), Passage(document_id="", **{k: v for k, v in r.items() if k != "cited"}), bool(r["cited"]))
            for r in rows
        ]

    # ---- search ----

    def _search_words(self, text: str) -> list[str]:
        """The words to search for. In a large library a word that most passages hold says
        little about any of them, and ranking every passage that holds it is what makes a
        search slow: such words are left out while rarer ones remain. (How many passages
        hold a word is counted only up to the threshold, so asking costs little.)"""
        words = query_words(text)
        total = self.store.conn.execute("SELECT COUNT(*) FROM doc_chunks").fetchone()[0]
        if total < PRUNE_FROM or len(words) <= KEEP_AT_LEAST:
            return words
        cap = int(COMMON_SHARE * total)
        held: dict[str, int] = {}
        for word in words:
            count = self.store.conn.execute(
                "SELECT COUNT(*) FROM (SELECT rowid FROM doc_chunks_fts WHERE doc_chunks_fts MATCH ? LIMIT ?)",
                (f'"{word}"', cap + 1),
            ).fetchone()[0]
            if count:
                held[word] = count
        rare = [w for w in held if held[w] <= cap]
        # Only common words: the first of them (every passage holding it is ranked, slowly,
        # but a question of common words alone is rare and says little anyway).
        return rare or list(held)[:1]

    def search(self, text: str, collections: Sequence[str] = (), limit: int = 10) -> list[Passage]:
        """The passages that best answer `text` by BM25, best first."""
        if not self._mapped:
            # Pages read straight from the mapped file, not copied through SQLite's small page
            # cache: 100,000 passages searched in ~9 ms median against ~12 (slowest 19 against
            # 26-31), and with vectors beside it 25 against 27-34. Only searching connections
            # map the file (an indexer's memory stays its own).
            self.store.conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            self._mapped = True
        words = self._search_words(text)
        if not words:
            return []
        query = " OR ".join(f'"{w}"' for w in words)
        where, params = " AND d.status = 'indexed'", [query]
        if collections:
            ids = [self.collection_id(name) for name in collections]
            where += f" AND d.collection_id IN ({', '.join('?' * len(ids))})"
            params += ids
        rows = self.store.query(
            f"SELECT {PASSAGE_COLUMNS}, -bm25(doc_chunks_fts, {HEADING_WEIGHT}, {TEXT_WEIGHT}) AS score"
            " FROM doc_chunks_fts JOIN doc_chunks k ON k.n = doc_chunks_fts.rowid"
            " JOIN documents d ON d.id = k.document_id JOIN doc_collections c ON c.id = d.collection_id"
            f" WHERE doc_chunks_fts MATCH ?{where} ORDER BY bm25(doc_chunks_fts, {HEADING_WEIGHT}, {TEXT_WEIGHT})"
            " LIMIT ?",
            [*params, limit],
        )
        return [Passage(**r) for r in rows]
