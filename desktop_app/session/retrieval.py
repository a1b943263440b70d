"""Finding the passages that answer a question: BM25 over the words, always; and where an
embedding model is installed, the passages nearest in meaning too, the two rankings fused
by weighted reciprocal rank (each passage scores weight / (RRF_K + its rank) in each
ranking that holds it).

Which embedding model the library uses is a setting: automatic (the first installed),
off, or a model's id. Its vectors are made by the indexer (session/documents.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.records import Passage
from desktop_app.engine.embeddings import Embedder, vector_key
from desktop_app.models.registry import EMBEDDING, InstalledModel, ModelRegistry
from desktop_app.store import Store
from desktop_app.store.words import query_words

log = logging.getLogger(__name__)

EMBEDDING_SETTING = "documents_embedding_model"  # "" automatic, "off", or a model id
EMBEDDING_OFF = "off"
CANDIDATES = 50  # taken from each ranking before they are fused
RRF_K = 60  # the usual constant of reciprocal rank fusion (Cormack et al., 2009)
# Words weigh more: people search manuals and policies for exact names, codes and numbers,
# which BM25 finds and a small embedding model blurs; meaning adds the passages that say
# the same thing in other words.
WORDS_WEIGHT, MEANING_WEIGHT = 1.0, 0.8


class Retriever:
    """Search over the library of `store`; `registry` None: words only (BM25)."""

    def __init__(self, store: Store, registry: ModelRegistry | None = None, threads: int | None = None) -> None:
        self.store = store
        self.registry = registry
        self.threads = threads
        self._embedder: Embedder | None = None
        self._loaded_from: tuple[Path, str] | None = None
        self.problem = ""  # why the chosen embedding model could not be loaded, if it could not

    def embedding_model(self) -> InstalledModel | None:
        """The embedding model the settings choose, or None (none installed, or turned off)."""
        if self.registry is None:
            return None
        setting = self.store.settings.get(EMBEDDING_SETTING, "")
        if setting == EMBEDDING_OFF:
            return None
        models = self.registry.list(kind=EMBEDDING)
        chosen = next((m for m in models if m.id == setting), None)
        return chosen or (models[0] if models else None)

    def embedder(self) -> Embedder | None:
        """The chosen embedding model, loaded once (and again if it changed); None when there
        is none, or when it cannot be loaded (`problem` says why; words still work)."""
        model = self.embedding_model()
        if model is None:
            self._embedder, self._loaded_from = None, None
            return None
        key = (model.directory, model.manifest.variants[0].sha256)
        if key != self._loaded_from:
            self._loaded_from, self._embedder = key, None
            try:
                self._embedder = Embedder(model.directory, model.manifest, self.threads)
                self.problem = ""
            except UserError as exc:
                log.warning("Searching by words only: %s", exc)
                self.problem = str(exc)
            except Exception:
                log.exception("Loading the embedding model %s failed", model.id)
                self.problem = f"The embedding model {model.id} could not be loaded (see the log)."
        return self._embedder

    def vector_key(self) -> str | None:
        """What the chosen model's vectors are filed under (read from its manifest: nothing
        is loaded), or None when the library is searched by words alone."""
        model = self.embedding_model()
        return vector_key(model.manifest) if model is not None else None

    def describe(self) -> str:
        """How the library is searched, in a line for the window and `inkwell docs list`
        (from the model's manifest: the model itself is loaded by the first search)."""
        model = self.embedding_model()
        words = translate("Retriever", "By words (BM25).")
        if model is None:
            return words
        tried = self._loaded_from == (model.directory, model.manifest.variants[0].sha256)
        if tried and self._embedder is None:  # and it could not be loaded
            return f"{words} {self.problem}"
        done, total = self.store.vectors.counts(vector_key(model.manifest))
        if done < total:
            return translate(
                "Retriever", "By words (BM25) and meaning ({model}); {left} of {total} passages still to embed."
            ).format(model=model.manifest.name, left=f"{total - done:,}", total=f"{total:,}")
        return translate("Retriever", "By words (BM25) and meaning ({model}).").format(model=model.manifest.name)

    def search(self, text: str, collections: Sequence[str] = (), limit: int = 10) -> list[Passage]:
        """The passages that best answer `text`, best first (`score`: BM25's when words alone
        rank them, the fused score otherwise)."""
        # A question of common words alone finds nothing by words, and is no question for
        # meaning either (its vector says nothing: any passage would come out nearest).
        embedder = self.embedder() if query_words(text) else None
        scorer = self.store.vectors.scorer(embedder.key, collections) if embedder is not None else None
        if embedder is None or scorer is None:
            return self.store.documents.search(text, collections, limit=limit)
        # One after the other: run side by side (tried), the two halves fought over the
        # memory bus and the cache, and the slowest searches took longer.
        try:
            near = scorer.nearest(embedder.embed([text], query=True)[0], CANDIDATES)
        except Exception:  # the question still gets the passages its words find
            log.exception("Searching by meaning failed; searching by words only")
            near = []
        words = self.store.documents.search(text, collections, limit=max(limit, CANDIDATES))
        if not near:
            return words[:limit]
        return fuse(words, [n for n, _ in near], self.store, limit)


def fuse(words: Sequence[Passage], meaning: Sequence[int], store: Store, limit: int) -> list[Passage]:
    """Weighted reciprocal rank fusion of BM25's passages and the nearest vectors' passage
    numbers, best first."""
    scores: dict[int, float] = {}
    for rank, passage in enumerate(words, 1):
        scores[passage.chunk] = scores.get(passage.chunk, 0.0) + WORDS_WEIGHT / (RRF_K + rank)
    for rank, chunk in enumerate(meaning, 1):
        scores[chunk] = scores.get(chunk, 0.0) + MEANING_WEIGHT / (RRF_K + rank)
    best = sorted(scores, key=lambda n: -scores[n])[:limit]
    known = {p.chunk: p for p in words}
    known.update(store.vectors.passages([n for n in best if n not in known]))
    return [replace(known[n], score=scores[n]) for n in best if n in known]


def passages_text(passages: Sequence[Passage]) -> str:
    """Passages as a tool's result: each with its label (file, where, heading), numbered."""
    return "\n\n".join(f"[{n}] {p.label}\n{p.text}" for n, p in enumerate(passages, 1))
