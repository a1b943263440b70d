"""The library passages' vectors (from an embedding model), and exact nearest-neighbour search
over them.

Vectors are kept in the database as float16 (half the bytes, and cosines that differ by
~1e-3). A search holds them in memory as one float32 matrix, read again only when they
changed (a counter that triggers move on every insert and delete says so): at 100,000
passages of 384 dimensions a search is one matrix-vector product of ~10 ms on 2 cores,
exact, and nothing to keep current. Its cost is the 154 MB it reads, which leaves the CPU
cache cold for the words half of the search (bench/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.core.records import Passage
from desktop_app.store.documents import PASSAGE_COLUMNS

if TYPE_CHECKING:
    from desktop_app.store.db import Store

DELETE_BATCH = 2000


@dataclass(frozen=True)
class _Loaded:
    model: str
    version: int
    chunks: np.ndarray  # int64, the passages' numbers
    collections: np.ndarray  # int64, the passages' collections (doc_collections.n)
    matrix: np.ndarray  # float32 [passages, dimensions], unit rows


@dataclass(frozen=True)
class Scorer:
    loaded: _Loaded
    mask: np.ndarray | None  # the passages of the collections asked for

    def nearest(self, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
        if self.loaded.matrix.shape[1] != len(query):
            return []  # vectors of another size: made by a model since replaced
        scores = self.loaded.matrix @ np.asarray(query, dtype=np.float32)
        if self.mask is not None:
            scores = np.where(self.mask, scores, -np.inf)
        count = min(limit, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top])]
        return [(int(self.loaded.chunks[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]


class VectorRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._loaded: _Loaded | None = None

    def version(self) -> int:
        return int(self.store.conn.execute("SELECT version FROM doc_vectors_version").fetchone()[0])

    def counts(self, model: str) -> tuple[int, int]:
        """(passages with a vector from `model`, passages that can have one)."""
        done = self.store.conn.execute(
            "SELECT COUNT(*) FROM doc_vectors v JOIN doc_chunks k ON k.n = v.n JOIN documents d"
            " ON d.id = k.document_id WHERE v.model = ? AND d.status = 'indexed'",
            (model,),
        ).fetchone()[0]
        total = self.store.conn.execute(
            "SELECT COUNT(*) FROM doc_chunks k JOIN documents d ON d.id = k.document_id WHERE d.status = 'indexed'"
        ).fetchone()[0]
        return int(done), int(total)

    def missing(self, limit: int, after: int = 0) -> list[tuple[int, str]]:
        """Up to `limit` readable passages numbered above `after` without a vector: (number,
        heading and text). Passages are numbered as they are added, so a caller that passes
        the last number it got walks the library once."""
        rows = self.store.conn.execute(
            "SELECT k.n, k.heading, k.text FROM doc_chunks k JOIN documents d ON d.id = k.document_id"
            " LEFT JOIN doc_vectors v ON v.n = k.n WHERE k.n > ? AND v.n IS NULL AND d.status = 'indexed'"
            " ORDER BY k.n LIMIT ?",
            (after, limit),
        ).fetchall()
        return [(int(n), f"{heading}\n{text}" if heading else text) for n, heading, text in rows]

    def forget_other_models(self, model: str) -> int:
        """Remove the vectors another model made (they cannot be compared with this one's),
        a part at a time; how many."""
        removed = 0
        while True:
            with self.store.transaction():
                count = self.store.conn.execute(
                    "DELETE FROM doc_vectors WHERE n IN (SELECT n FROM doc_vectors WHERE model != ? LIMIT ?)",
                    (model, DELETE_BATCH),
                ).rowcount
            removed += count
            if count < DELETE_BATCH:
                return removed

    def save(self, model: str, chunks: Sequence[int], vectors: np.ndarray) -> None:
        """Store the vectors of passages `chunks` in one transaction (a passage removed in the
        meantime is skipped)."""
        half = np.asarray(vectors, dtype=np.float16)
        with self.store.transaction():
            self.store.conn.executemany(
                "INSERT OR REPLACE INTO doc_vectors (n, model, vector) SELECT ?, ?, ?"
                " WHERE EXISTS (SELECT 1 FROM doc_chunks WHERE n = ?)",
                [(int(n), model, half[i].tobytes(), int(n)) for i, n in enumerate(chunks)],
            )

    def _matrix(self, model: str) -> _Loaded:
        version = self.version()
        loaded = self._loaded
        if loaded is not None and loaded.model == model and loaded.version == version:
            return loaded
        self._loaded = None  # the stale copy goes before the new one is read
        rows = self.store.conn.execute(
            "SELECT v.n, c.n, v.vector FROM doc_vectors v JOIN doc_chunks k ON k.n = v.n"
            " JOIN documents d ON d.id = k.document_id JOIN doc_collections c ON c.id = d.collection_id"
            " WHERE v.model = ? AND d.status = 'indexed' ORDER BY v.n",
            (model,),
        ).fetchall()
        if rows:  # one model's vectors all have its size; anything else is left out, not misread
            size = max({len(r[2]) for r in rows}, key=lambda n: sum(len(r[2]) == n for r in rows))
            rows = [r for r in rows if len(r[2]) == size]
        chunks = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        collections = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        if rows:
            matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float16).reshape(len(rows), -1)
            matrix = matrix.astype(np.float32)
        else:
            matrix = np.zeros((0, 0), dtype=np.float32)
        self._loaded = _Loaded(model, version, chunks, collections, matrix)
        return self._loaded

    def scorer(self, model: str, collections: Sequence[str] = ()) -> Scorer | None:
        """What ranks passages by closeness to a query vector: the vectors (read again if they
        changed) and the collections' filter are taken here, on the store's thread; the
        scorer does the arithmetic alone, so it may run on another thread. None when `model`
        gave no passage a vector."""
        loaded = self._matrix(model)
        if not len(loaded.chunks):
            return None
        mask = None
        if collections:
            names = ", ".join("?" * len(collections))
            wanted = [r[0] for r in self.store.conn.execute(
                f"SELECT n FROM doc_collections WHERE name IN ({names})", list(collections)
            )]  # fmt: skip
            mask = np.isin(loaded.collections, wanted)
        return Scorer(loaded, mask)

    def nearest(
        self, model: str, query: np.ndarray, collections: Sequence[str] = (), limit: int = 10
    ) -> list[tuple[int, float]]:
        """The passages whose vectors are closest to `query` (a unit vector): (number, cosine),
        best first; only those of `collections` when given."""
        scorer = self.scorer(model, collections)
        return scorer.nearest(query, limit) if scorer is not None else []

    def passages(self, chunks: Sequence[int]) -> dict[int, Passage]:
        """The passages numbered `chunks` (score 0), by number."""
        if not chunks:
            return {}
        rows = self.store.query(
            f"SELECT {PASSAGE_COLUMNS}, 0.0 AS score FROM doc_chunks k JOIN documents d ON d.id = k.document_id"
            f" JOIN doc_collections c ON c.id = d.collection_id WHERE k.n IN ({', '.join('?' * len(chunks))})",
            [int(n) for n in chunks],
        )
        return {int(r["chunk"]): Passage(**r) for r in rows}
